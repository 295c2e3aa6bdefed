// A graph file's training section reaches the app's training form whole: the
// schedule's own settings (step size, factor, final rate) as well as its name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultForm, formFromGraph, startRequest } from '../renderer/src/training/form.js';
import { loadTemplate } from './helpers/graphs.js';

const withTraining = (training: Record<string, unknown>) => ({ ...loadTemplate('sat-digit-captions.attn.json'), training });

test("a graph's step schedule reaches the form with its step size and factor", () => {
  const graph = withTraining({ optimizer: 'adam', learningRate: 0.003, schedule: 'step', stepEpochs: 2, gamma: 0.3, epochs: 4 });
  assert.notEqual(defaultForm().stepEpochs, 2, 'the graph sets its own step size');
  const form = { ...defaultForm(), ...formFromGraph(graph) };
  const config = startRequest(form, graph).config as { schedule: string; stepEpochs: number; gamma: number };
  assert.deepEqual([config.schedule, config.stepEpochs, config.gamma], ['step', 2, 0.3]);
});

test("a graph's cosine schedule reaches the form with its final rate", () => {
  assert.equal(formFromGraph(withTraining({ schedule: 'cosine', minLr: 0.0002 })).minLr, 0.0002);
});

test("digit-captions' fresh canvases each epoch: from the graph's dataset section to the run's dataset, and off in the form", () => {
  const graph = { ...loadTemplate('sat-digit-captions.attn.json'), dataset: { name: 'digit-captions', freshEachEpoch: true } };
  const form = { ...defaultForm(), ...formFromGraph(graph) };
  assert.equal(startRequest(form, graph).dataset.freshEachEpoch, true);
  assert.equal(startRequest({ ...form, freshEachEpoch: false }, graph).dataset.freshEachEpoch, false, "the form's choice over the file's");
  assert.equal(startRequest({ ...form, dataset: 'mnist' }, graph).dataset.freshEachEpoch, undefined, 'only digit-captions makes new samples');
});
