// Seeded dropout: the mask is a pure function of (graph seed, layer, training step),
// so runs with dropout repeat, a resumed run ends with the uninterrupted run's
// weights (cpu and wasm), masks change from step to step, dropout still drops
// about `rate` and scales by 1 / (1 − rate), and saved models hold stock Dropout layers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import type { Tensor, TF } from '../engine/blocks/contract.js';
import { selectBackend, type BackendChoice } from '../engine/backends/select.js';
import { compileGraph } from '../engine/compile/compile.js';
import { prepareData, type PreparedData } from '../engine/data/index.js';
import type { GraphFile } from '../engine/graph/types.js';
import { RunFolder } from '../engine/runs/index.js';
import { Trainer, type TrainerOptions } from '../engine/train/trainer.js';
import type { TrainEvent, TrainEventOf } from '../engine/schemas/train-events.js';
import { graphOf } from './train-fixtures.js';
import { chain, type NodeSpec } from './helpers/graphs.js';
import { assertRelClose } from './helpers/numeric.js';

/** 28×28×1 → flatten → dropout 0.2 → dense 16 ReLU → dropout 0.5 → 10-way softmax. */
function dropoutMlp(seed?: number): GraphFile {
  const g = graphOf(
    'dropout-mlp',
    [
      ['in', 'io.input', { kind: 'image', height: 28, width: 28, channels: 1 }],
      ['flat', 'core.flatten'],
      ['drop1', 'core.dropout', { rate: 0.2 }],
      ['hidden', 'core.dense', { units: 16, activation: 'relu' }],
      ['drop2', 'core.dropout', { rate: 0.5 }],
      ['head', 'core.classificationHead', { classes: 10 }],
      ['out', 'io.output'],
    ],
    chain('in', 'flat', 'drop1', 'hidden', 'drop2', 'head.probs', 'out'),
  );
  return seed === undefined ? g : { ...g, seed };
}

/** An Input, one block (fed on its port `into`) and an Output without a loss: the graph `name`, seeded. */
function throughOne(name: string, seed: number, input: Record<string, unknown>, block: NodeSpec, into = 'in'): GraphFile {
  const id = block[0];
  const nodes: NodeSpec[] = [['in', 'io.input', input], block, ['out', 'io.output', { loss: 'none' }]];
  return {
    ...graphOf(name, nodes, [
      ['in.out', `${id}.${into}`],
      [`${id}.out`, 'out.in'],
    ]),
    seed,
  };
}

const SEQUENCE = { kind: 'sequence', length: 6, features: 8 };

/** A vector through one Dropout block: the output is the scaled mask times the input. */
const dropoutOnly = (rate: number, seed: number) => throughOne('dropout-only', seed, { kind: 'vector', features: 500 }, ['drop', 'core.dropout', { rate }]);

/** A sequence through a Transformer encoder layer (dropout on the attention weights, in the feed-forward network and on both sublayers). */
const transformer = (seed: number) =>
  throughOne('dropout-transformer', seed, SEQUENCE, ['enc', 'attention.transformerEncoder', { heads: 2, ffDim: 16, dropout: 0.3 }]);

/** Multi-head self-attention whose only dropout is on the attention weights (DotProductAttention). */
const multiHead = (seed: number) => throughOne('dropout-multi-head', seed, SEQUENCE, ['mha', 'attention.multiHead', { heads: 2, dropout: 0.5 }], 'query');

const CONFIG = { epochs: 2, batchSize: 32, optimizer: 'adam', lr: 0.01, seed: 3 } as const;
let data: Promise<PreparedData> | undefined;
const mnist = () => (data ??= prepareData({ name: 'mnist', limit: 142, seed: 1 })); // 128 train samples: 4 batches an epoch

async function train(backend: BackendChoice, opts: Omit<TrainerOptions, 'tf' | 'data' | 'config'>, onEvent?: (e: TrainEvent, t: Trainer) => void) {
  const { tf } = await selectBackend({ backend });
  const events: TrainEvent[] = [];
  const trainer: Trainer = new Trainer({ tf, data: await mnist(), config: CONFIG, ...opts, onEvent: (e) => (events.push(e), onEvent?.(e, trainer)) });
  const done = await trainer.run();
  const weights = trainer.model.getWeights().map((w) => Array.from(w.dataSync()));
  trainer.dispose();
  return { done, events, weights };
}

const values = (t: Tensor) => Array.from(t.dataSync());

/** The model's output on x while training, at the given step. */
function trainingOutput(tf: TF, model: tfjs.LayersModel, clock: { step: number }, x: Tensor, step: number): number[] {
  clock.step = step;
  return tf.tidy(() => values(model.apply(x, { training: true }) as Tensor));
}

test('the same graph seed gives the same weights after training with dropout; another seed gives others', async () => {
  const clockSteps: number[] = [];
  const a = await train('cpu', { graph: dropoutMlp(7) }, (e, t) => e.type === 'progress' && clockSteps.push(t.compiled.clock.step));
  assert.deepEqual(clockSteps, [0, 1, 2, 3, 4, 5, 6, 7], 'the trainer sets the step clock before each step');
  const b = await train('cpu', { graph: dropoutMlp(7) });
  assert.deepEqual(b.weights, a.weights);
  assert.deepEqual(b.done.metrics, a.done.metrics);
  const c = await train('cpu', { graph: dropoutMlp(8) });
  assert.notDeepEqual(c.weights, a.weights);
});

test('dropout masks follow the step and the seed: the same step repeats its mask, the next step and another seed draw others', async () => {
  const { tf } = await selectBackend({ backend: 'cpu' });
  const x = tf.ones([4, 500]);
  const a = compileGraph(tf, dropoutOnly(0.5, 1));
  const b = compileGraph(tf, dropoutOnly(0.5, 2));
  const step0 = trainingOutput(tf, a.model, a.clock, x, 0);
  const step1 = trainingOutput(tf, a.model, a.clock, x, 1);
  assert.notDeepEqual(step1, step0);
  assert.deepEqual(trainingOutput(tf, a.model, a.clock, x, 0), step0);
  assert.notDeepEqual(trainingOutput(tf, b.model, b.clock, x, 0), step0);
  // Compiled again from the same graph: the same masks.
  const again = compileGraph(tf, dropoutOnly(0.5, 1));
  assert.deepEqual(trainingOutput(tf, again.model, again.clock, x, 1), step1);
  tf.dispose(x);
  for (const c of [a, b, again]) c.model.dispose();
});

test('dropout drops about `rate` of the values, scales the rest by 1 / (1 − rate), and is the identity at inference', async () => {
  const { tf } = await selectBackend({ backend: 'cpu' });
  const rate = 0.3;
  const n = 100 * 500;
  const x = tf.randomUniform([100, 500], 1, 2, 'float32', 9);
  const c = compileGraph(tf, dropoutOnly(rate, 5));
  const input = values(x);
  for (const step of [0, 1]) {
    const out = trainingOutput(tf, c.model, c.clock, x, step);
    let dropped = 0;
    for (let i = 0; i < n; i++) {
      if (out[i] === 0) dropped++;
      else assert.ok(Math.abs(out[i] - input[i] / (1 - rate)) <= 1e-6 * out[i], `value ${i}: ${out[i]} is not ${input[i]} / ${1 - rate}`);
    }
    // Binomial(n, 0.3): the standard deviation of the fraction is 0.002, so ±0.01 is five of them.
    assert.ok(Math.abs(dropped / n - rate) < 0.01, `step ${step} dropped ${dropped / n}`);
  }
  const predicted = c.model.predict(x) as Tensor;
  assert.deepEqual(values(predicted), input);
  tf.dispose([x, predicted]);
  c.model.dispose();
});

test('attention dropout is seeded too: a Transformer layer and multi-head attention repeat at a step and change with it', async () => {
  const { tf } = await selectBackend({ backend: 'cpu' });
  const x = tf.randomNormal([3, 6, 8], 0, 1, 'float32', 4);
  for (const graph of [transformer(1), multiHead(1)]) {
    const c = compileGraph(tf, graph);
    const step3 = trainingOutput(tf, c.model, c.clock, x, 3);
    assert.deepEqual(trainingOutput(tf, c.model, c.clock, x, 3), step3, graph.name);
    assert.notDeepEqual(trainingOutput(tf, c.model, c.clock, x, 4), step3, graph.name);
    const inference = c.model.predict(x) as Tensor;
    assert.notDeepEqual(values(inference), step3, `${graph.name}: inference drops nothing`);
    tf.dispose(inference);
    c.model.dispose();
  }
  tf.dispose(x);
});

test('a saved model holds stock Dropout layers (no seed) and loads back with the same predictions', async () => {
  const { tf } = await selectBackend({ backend: 'cpu' });
  const cases = [
    { graph: dropoutMlp(3), input: tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 6) },
    { graph: transformer(3), input: tf.randomNormal([2, 6, 8], 0, 1, 'float32', 6) },
  ];
  for (const { graph, input } of cases) {
    const c = compileGraph(tf, graph);
    let saved: tfjs.io.ModelArtifacts | undefined;
    await c.model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) })));
    const layers = (saved!.modelTopology as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } }).config.layers;
    assert.doesNotMatch(JSON.stringify(saved!.modelTopology), /dropoutSite|clock/);
    const drops = layers.filter((l) => /_drop|_ffdrop|^drop/.test(l.config.name as string));
    assert.ok(drops.length >= 2, `${graph.name}: dropout layers saved`);
    for (const l of drops) {
      assert.equal(l.class_name, 'Dropout', `${l.config.name} is saved as ${l.class_name}`);
      assert.ok((l.config.rate as number) > 0);
      assert.equal(l.config.seed, undefined);
    }
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    const [want, got] = [c.model.predict(input) as Tensor, loaded.predict(input) as Tensor];
    // The same up to float rounding: a loaded Transformer runs tfjs's own LayerNorm, the app its closed-form one.
    assertRelClose(values(got), values(want), graph.name, 1e-5);
    tf.dispose([want, got, input]);
    loaded.dispose();
    c.model.dispose();
  }
});

for (const backend of ['cpu', 'wasm'] as const)
  test(`${backend}: a run with dropout stopped and resumed from its checkpoint ends with the uninterrupted run's weights`, async () => {
    const a = await train(backend, { graph: dropoutMlp() });
    const dir = mkdtempSync(path.join(tmpdir(), 'attn-dropout-'));
    const b = await train(backend, { graph: dropoutMlp(), runDir: await RunFolder.create({ dir, name: 'b', graph: dropoutMlp(), config: CONFIG }) }, (e, t) => {
      if (e.type === 'progress' && e.step === 6) t.stop();
    });
    assert.equal(b.done.reason, 'stopped');
    assert.notDeepEqual(b.weights, a.weights);
    const c = await train(backend, { graph: dropoutMlp(), runDir: RunFolder.open(dir), resumeFrom: path.join(dir, 'checkpoints') });
    assert.equal(c.done.reason, 'completed');
    assert.equal(c.events.filter((e): e is TrainEventOf<'progress'> => e.type === 'progress').length, 8 - 6);
    assert.deepEqual(c.weights, a.weights);
    assert.deepEqual(c.done.metrics, a.done.metrics);
  });
