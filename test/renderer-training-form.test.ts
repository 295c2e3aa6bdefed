// The training form is made from the training and dataset schemas: one set of
// defaults, choices and ranges for the app, the CLI and the training process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultForm, numberRange, numberValid, OPTIMIZERS, SCHEDULES, startRequest } from '../renderer/src/training/form.js';
import { trainConfigSchema } from '../engine/schemas/train-config.js';
import { startCommandSchema } from '../engine/worker/protocol.js';
import { datasetSpecSchema } from '../engine/schemas/dataset.js';
import type { GraphFile } from '../engine/graph/types.js';

const graph: GraphFile = { format: 'attention-studio', version: 1, name: 'g', nodes: [], edges: [] } as unknown as GraphFile;

test("the form's defaults are the training schema's", () => {
  const form = defaultForm();
  const schema = trainConfigSchema.parse({});
  const sent = trainConfigSchema.parse(startRequest(form, graph).config);
  // What the form sends by default is what a run with no settings (`attn train`) gets.
  assert.deepEqual({ ...sent, probe: { ...sent.probe, maxElements: schema.probe.maxElements } }, schema);
  assert.equal(form.epochs, schema.epochs);
  assert.equal(form.probeEvery, schema.probe.everyBatches);
});

test("the form's choices and ranges are the schema's", () => {
  assert.deepEqual([...OPTIMIZERS], ['sgd', 'adam', 'adamw']);
  assert.deepEqual([...SCHEDULES], ['constant', 'step', 'cosine']);
  assert.deepEqual(numberRange('probeSamples'), { min: 0, max: 64, step: 1 }, '0 means no probes; the schema caps samples at 64');
  assert.deepEqual(numberRange('validationSplit'), { min: 0, max: 0.9, step: 'any' });
  assert.equal(numberValid('lr', 0), false, 'the learning rate is positive');
  assert.equal(numberValid('lr', 1e-9), true);
  assert.equal(numberValid('epochs', 1.5), false, 'epochs are whole');
  assert.equal(numberValid('limit', 0), true, '0 means all samples');
});

test("a request made from the default form passes the training process's own check", () => {
  const req = startRequest(defaultForm(), graph);
  const parsed = startCommandSchema.shape.config.safeParse(req.config);
  assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
  assert.ok(datasetSpecSchema.safeParse(req.dataset).success);
});

test("a run from the form keeps what the graph file saved for its dataset that the form has no field for (a text template's minCount)", () => {
  const saved = { ...graph, dataset: { name: 'spam', minCount: 2, limit: 500, note: 'for people' } } as unknown as GraphFile;
  const form = { ...defaultForm(), dataset: 'spam', limit: 0 };
  const { dataset } = startRequest(form, saved);
  assert.equal(dataset.minCount, 2);
  // The form owns the limit: 0 (all samples) is the user's choice, not a gap to fill from the file.
  assert.equal(dataset.limit, undefined);
  assert.equal((dataset as Record<string, unknown>).note, undefined);
  assert.ok(datasetSpecSchema.safeParse(dataset).success);
  // Saved for another dataset: nothing carries over.
  assert.equal(startRequest({ ...form, dataset: 'mnist' }, saved).dataset.minCount, undefined);
});
