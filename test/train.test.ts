// The trainer on real MNIST with tiny models on the cpu backend: it learns,
// resumes exactly, leaks no tensors, probes attention, trains several outputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defineBlock, type TF } from '../engine/blocks/contract.js';
import { BlockRegistry, registry } from '../engine/blocks/registry.js';
import { prepareData } from '../engine/data/index.js';
import { decodePng } from '../engine/data/png.js';
import { Trainer, type TrainerOptions } from '../engine/train/trainer.js';
import { RunFolder } from '../engine/runs/index.js';
import { Optimizer } from '../engine/train/optimizers.js';
import { learningRate } from '../engine/train/schedule.js';
import { trainConfigSchema } from '../engine/schemas/train-config.js';
import { downsample } from '../engine/train/probes.js';
import type { TrainEvent, TrainEventOf } from '../engine/schemas/train-events.js';
import { graphOf, tinyCnn, tinyMlp } from './train-fixtures.js';
import { tfReady } from './helpers/tf.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'attn-train-'));
const mnist = (limit: number, seed = 0) => prepareData({ name: 'mnist', limit, seed });

/** A 1×1-conv sigmoid map that gates the image: a spatial attention output for the probes. */
const spatialGate = defineBlock({
  type: 'test.spatialGate',
  label: 'Spatial gate (test)',
  category: 'Test',
  doc: 'A test block: a 1×1 convolution with a sigmoid makes a spatial map in (0, 1) that multiplies the input image.',
  params: {},
  inputs: [{ name: 'in', doc: 'Image.', rank: 4 }],
  outputs: [
    { name: 'out', doc: 'Gated image.' },
    { name: 'map', doc: 'The gate.', attention: 'spatial', axes: 'batch, height, width, 1' },
  ],
  inferShape: ({ inputs }) => ({ out: inputs.in, map: [...inputs.in.slice(0, 3), 1] }),
  build(tf, { inputs, name, init }) {
    const map = tf.layers
      .conv2d({ filters: 1, kernelSize: 1, activation: 'sigmoid', kernelInitializer: init.glorotUniform(), name: `${name}_map` })
      .apply(inputs.in) as never;
    return { out: tf.layers.multiply({ name }).apply([inputs.in, map]) as never, map };
  },
  examples: [],
});
const testRegistry = new BlockRegistry([...registry.all(), spatialGate]);

function gatedMlp() {
  const g = tinyMlp();
  g.nodes.push({ id: 'gate', type: 'test.spatialGate', params: {}, position: { x: 0, y: 100 } });
  g.edges[0] = { from: { node: 'in', port: 'out' }, to: { node: 'gate', port: 'in' } };
  g.edges.push({ from: { node: 'gate', port: 'out' }, to: { node: 'flat', port: 'in' } });
  return g;
}

async function train(opts: Omit<TrainerOptions, 'tf'>, onEvent?: (e: TrainEvent, t: Trainer) => void) {
  const tf = await tfReady;
  const events: TrainEvent[] = [];
  const trainer: Trainer = new Trainer({ tf, ...opts, onEvent: (e) => (events.push(e), onEvent?.(e, trainer)) });
  const done = await trainer.run();
  return { tf, trainer, done, events };
}

const weightsOf = (tf: TF, t: Trainer) => t.model.getWeights().map((w) => Array.from(w.dataSync()));

test('a small CNN learns MNIST: validation accuracy well above chance after ~600 samples', async () => {
  const data = await mnist(700);
  const { trainer, done, events } = await train({ graph: tinyCnn(), data, config: { epochs: 1, batchSize: 32, lr: 0.005 } });
  trainer.dispose();
  assert.equal(done.reason, 'completed');
  assert.ok(done.metrics.val_accuracy > 0.6, `val_accuracy ${done.metrics.val_accuracy}`);
  assert.ok(done.metrics.val_top5_accuracy >= done.metrics.val_accuracy);
  const progress = events.filter((e): e is TrainEventOf<'progress'> => e.type === 'progress');
  assert.equal(progress.length, Math.ceil(630 / 32));
  assert.ok(progress.at(-1)!.loss < progress[0].loss, 'the running loss falls');
});

test('resuming from a mid-epoch checkpoint gives exactly the uninterrupted run (AdamW, cosine + warm-up, clipping)', async () => {
  const data = await mnist(256, 2);
  const config = { epochs: 2, batchSize: 32, optimizer: 'adamw', lr: 0.01, schedule: 'cosine', warmupSteps: 3, clipNorm: 1, seed: 4 } as const;
  const a = await train({ graph: tinyMlp(), data, config });
  const expected = weightsOf(a.tf, a.trainer);
  a.trainer.dispose();

  const dir = tmp();
  const b = await train({ graph: tinyMlp(), data, config, runDir: await RunFolder.create({ dir, name: 'b', graph: tinyMlp(), config }) }, (e, t) => {
    if (e.type === 'progress' && e.step === 11) t.stop();
  });
  assert.equal(b.done.reason, 'stopped');
  assert.equal(b.done.steps, 11);
  const stopCk = b.events.find((e): e is TrainEventOf<'checkpoint'> => e.type === 'checkpoint' && e.reason === 'stop');
  assert.ok(stopCk && stopCk.epoch === 1, 'stopped inside the second epoch');
  const stoppedWeights = weightsOf(b.tf, b.trainer);
  b.trainer.dispose();
  assert.notDeepEqual(stoppedWeights, expected);

  const c = await train({ graph: tinyMlp(), data, config, runDir: RunFolder.open(dir), resumeFrom: path.join(dir, 'checkpoints') });
  assert.equal(c.done.reason, 'completed');
  assert.equal((c.events[0] as TrainEventOf<'started'>).resumedFrom, stopCk.path);
  assert.equal(c.events.filter((e) => e.type === 'progress').length, 16 - 11);
  assert.deepEqual(weightsOf(c.tf, c.trainer), expected);
  assert.deepEqual(c.done.metrics, a.done.metrics);
  c.trainer.dispose();
  const metrics = readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    metrics.map((m) => m.epoch),
    [0, 1],
  );
});

test('no tensor leaks: tf.memory().numTensors is flat across epochs, with probes and checkpoints; attention snapshots are written', async () => {
  const tf = await tfReady;
  const before = tf.memory().numTensors;
  const data = await mnist(200, 3);
  const dir = tmp();
  const graph = gatedMlp();
  const config = { epochs: 3, batchSize: 30, checkpointEvery: 2, probe: { everyBatches: 2, minIntervalMs: 0, samples: 3 } };
  const counts: number[] = [];
  const { trainer, events, done } = await train(
    { graph, registry: testRegistry, data, config, runDir: await RunFolder.create({ dir, name: 'leak', graph, config }) },
    (e) => e.type === 'epoch' && counts.push(tf.memory().numTensors),
  );
  assert.equal(counts.length, 3);
  assert.ok(
    counts.every((c) => c === counts[0]),
    `tensors at each epoch's end: ${counts}`,
  );
  trainer.dispose();
  assert.equal(tf.memory().numTensors, before, 'dispose() frees the model, optimizer state and probe samples');

  const probes = events.filter((e): e is TrainEventOf<'attention'> => e.type === 'attention');
  assert.ok(probes.length >= 9, `${probes.length} probe runs`);
  const m = probes[0].maps[0];
  assert.deepEqual([m.nodeId, m.port, m.kind, m.shape], ['gate', 'map', 'spatial', [3, 28, 28, 1]]);
  assert.ok(m.data instanceof Float32Array && m.data.length === 3 * 28 * 28);
  assert.ok(
    m.data.every((v) => v > 0 && v < 1),
    'sigmoid gate values',
  );
  assert.notDeepEqual(probes[0].maps[0].data, probes.at(-1)!.maps[0].data, 'the map changes as the gate trains');

  const snap = path.join(dir, 'attention', `step-${String(probes[0].step).padStart(6, '0')}`, 'gate.map');
  assert.equal(statSync(`${snap}.f32`).size, 4 * 3 * 28 * 28);
  const header = JSON.parse(readFileSync(`${snap}.json`, 'utf8'));
  assert.deepEqual([header.kind, header.shape, header.dtype], ['spatial', [3, 28, 28, 1], 'float32']);
  const png = decodePng(readFileSync(`${snap}.png`));
  assert.deepEqual([png.width, png.height, png.channels], [252, 252, 3]);
  const raw = new Float32Array(new Uint8Array(readFileSync(`${snap}.f32`)).buffer);
  assert.deepEqual(raw, probes[0].maps[0].data);

  // Only the last few checkpoints are kept; the run folder has everything else.
  const latest = JSON.parse(readFileSync(path.join(dir, 'checkpoints', 'latest.json'), 'utf8'));
  assert.equal(latest.step, done.steps);
  for (const f of ['graph.attn.json', 'config.json', 'metrics.jsonl']) assert.ok(existsSync(path.join(dir, f)), f);
});

test('probe maps are downsampled by averaging to the element budget', () => {
  const shape = [2, 6, 4, 1];
  const data = Float32Array.from({ length: 48 }, (_, i) => i);
  const d = downsample(data, shape, 12);
  assert.deepEqual(d.shape, [2, 3, 2, 1]);
  assert.deepEqual([...d.data.subarray(0, 6)], [2.5, 4.5, 10.5, 12.5, 18.5, 20.5]);
  const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
  assert.equal(mean(d.data), mean(data));
  assert.deepEqual(downsample(data, [48, 1], 10).shape, [10, 1], 'samples are cut last');
  assert.equal(downsample(data, shape, 100).data, data);
});

test('a model with two weighted outputs trains both; the loss is the weighted sum', async () => {
  const graph = graphOf(
    'two-heads',
    [
      ['in', 'io.input', { kind: 'image', height: 28, width: 28, channels: 1 }],
      ['flat', 'core.flatten'],
      ['hidden', 'core.dense', { units: 16, activation: 'relu' }],
      ['aux', 'core.classificationHead', { classes: 10 }],
      ['main', 'core.classificationHead', { classes: 10, labels: 'sparse' }],
      ['outAux', 'io.output', { weight: 0.3 }],
      ['outMain', 'io.output', { weight: 1 }],
    ],
    [
      ['in.out', 'flat.in'],
      ['flat.out', 'hidden.in'],
      ['hidden.out', 'aux.in'],
      ['hidden.out', 'main.in'],
      ['aux.probs', 'outAux.in'],
      ['main.probs', 'outMain.in'],
    ],
  );
  const data = await mnist(400, 5);
  const { trainer, done } = await train({ graph, data, config: { epochs: 2, batchSize: 32, lr: 0.01 } });
  trainer.dispose();
  const m = done.metrics;
  const sum = 0.3 * m['val_outAux.loss'] + m['val_outMain.loss'];
  assert.ok(Math.abs(m.val_loss - sum) < 1e-4 * sum, `val_loss ${m.val_loss} vs weighted sum ${sum}`);
  assert.ok(m['val_outAux.accuracy'] > 0.4 && m['val_outMain.accuracy'] > 0.4, JSON.stringify(m));
  assert.equal(m.val_accuracy, m['val_outAux.accuracy'], "accuracy is the first output's");
});

test('a dataset that does not fit the graph is refused with shapes in the message', async () => {
  const tf = await tfReady;
  const data = await prepareData({ name: 'reverse', size: 40 }, { shape: [8], vocab: 10 });
  assert.throws(() => new Trainer({ tf, graph: tinyMlp(), data, config: {} }), /takes \[\?, 28, 28, 1\], but dataset synthetic:reverse gives \[\?, 8\]/);
});

test('optimizers follow their update rules', async () => {
  const tf = await tfReady;
  const step = (kind: 'sgd' | 'adam' | 'adamw', steps: number, extra = {}) => {
    const w = tf.variable(tf.tensor1d([1, -2]));
    const c = trainConfigSchema.parse({ optimizer: kind, ...extra });
    const opt = new Optimizer(tf, c, [w]);
    for (let i = 0; i < steps; i++) tf.tidy(() => opt.apply([tf.tensor1d([0.5, -4])], 0.1));
    const out = Array.from(w.dataSync());
    opt.dispose();
    w.dispose();
    return out;
  };
  const close = (a: number[], b: number[]) => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-5, `${a} vs ${b}`));
  // Adam's first step moves each weight by lr against the gradient's sign.
  close(step('adam', 1), [0.9, -1.9]);
  // AdamW also decays: w - lr·wd·w.
  close(step('adamw', 1, { weightDecay: 0.5 }), [0.9 - 0.05, -1.9 + 0.1]);
  // SGD with momentum μ: two steps move by lr·g and lr·(1+μ)·g.
  close(step('sgd', 2, { momentum: 0.9 }), [1 - 0.1 * 0.5 * 2.9, -2 + 0.1 * 4 * 2.9]);
  close(step('sgd', 1, { momentum: 0 }), [0.95, -1.6]);
});

test('learning-rate schedules: warm-up, step, cosine', () => {
  const c = (o: object) => trainConfigSchema.parse({ lr: 1, ...o });
  assert.equal(learningRate(c({ warmupSteps: 4 }), 0, 100, 10), 0.25);
  assert.equal(learningRate(c({ warmupSteps: 4 }), 3, 100, 10), 1);
  assert.equal(learningRate(c({ schedule: 'step', stepEpochs: 2, gamma: 0.5 }), 39, 100, 10), 0.5);
  assert.equal(learningRate(c({ schedule: 'step', stepEpochs: 2, gamma: 0.5 }), 40, 100, 10), 0.25);
  const cos = c({ schedule: 'cosine', minLr: 0.1, warmupSteps: 10 });
  assert.equal(learningRate(cos, 10, 110, 10), 1);
  assert.ok(Math.abs(learningRate(cos, 60, 110, 10) - 0.55) < 1e-12);
  assert.ok(Math.abs(learningRate(cos, 110, 110, 10) - 0.1) < 1e-12);
});

test("early stopping ends a run that stops improving; pause holds it between batches and its time is not the epoch's", async () => {
  const data = await mnist(120, 6);
  const es = await train({ graph: tinyMlp(), data, config: { epochs: 6, batchSize: 36, lr: 1e-12, earlyStopping: { monitor: 'val_accuracy', patience: 1 } } });
  es.trainer.dispose();
  assert.equal(es.done.reason, 'early-stopped');
  assert.equal(es.done.epochs, 2);

  const steps: number[] = [];
  const held: number[] = [];
  let stepsWhileHeld: number[] = [];
  const PAUSE_MS = 1200;
  let startedAt = 0;
  let epochWallMs = 0;
  const p = await train({ graph: tinyMlp(), data, config: { epochs: 1, batchSize: 20 } }, (e, t) => {
    if (e.type === 'started') startedAt = performance.now();
    else if (e.type === 'epoch') epochWallMs = performance.now() - startedAt;
    else if (e.type === 'progress') {
      steps.push(e.step);
      if (e.step === 2) t.pause();
    } else if (e.type === 'paused') {
      held.push(e.step);
      // Asserted after the run: a throw in here would leave the trainer paused for good.
      setTimeout(() => {
        stepsWhileHeld = [...steps];
        t.resume();
      }, PAUSE_MS);
    }
  });
  p.trainer.dispose();
  assert.deepEqual(held, [2], 'one paused event, after the batch that asked for it');
  assert.deepEqual(stepsWhileHeld, [1, 2], 'no batch runs while paused');
  assert.equal(p.done.reason, 'completed');
  assert.equal(steps.length, Math.ceil(108 / 20));
  const logged = p.events.find((e) => e.type === 'epoch')!.seconds * 1000;
  assert.ok(logged < epochWallMs - PAUSE_MS + 200, `the epoch logged ${logged.toFixed(0)} ms of ${epochWallMs.toFixed(0)} ms with a ${PAUSE_MS} ms pause`);
});
