// Data-parallel training on the cpu backend (engine/train/data-parallel.ts):
// a replica thread computes half of each batch. The averaged gradients equal
// the full batch's (without BatchNorm; with it, the two halves' own-statistics
// gradients averaged, as PyTorch's DDP without SyncBatchNorm), a 2-worker run
// learns and resumes exactly, and a killed replica ends the step with a
// message instead of a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Tensor, TF } from '../engine/blocks/contract.js';
import { compileGraph } from '../engine/compile/compile.js';
import { prepareData, type PreparedData } from '../engine/data/index.js';
import type { GraphFile } from '../engine/graph/types.js';
import { RunFolder } from '../engine/runs/index.js';
import { trainConfigSchema, type TrainConfigInput } from '../engine/schemas/train-config.js';
import type { TrainEvent, TrainEventOf } from '../engine/schemas/train-events.js';
import { chooseWorkers, DataParallel } from '../engine/train/data-parallel.js';
import { selectBackend } from '../engine/backends/select.js';
import { shardGradients, type TrainedOutput } from '../engine/train/shard-gradients.js';
import { Trainer } from '../engine/train/trainer.js';
import { tfReady } from './helpers/tf.js';
import { bnCnn, tinyCnn } from './train-fixtures.js';

type Variable = ReturnType<TF['variable']>;

/** A compiled graph with what a data-parallel step needs, on tf's backend (the cpu backend by default). */
async function setup(graph: GraphFile, given?: TF) {
  const tf = given ?? (await tfReady);
  const compiled = compileGraph(tf, graph);
  const trained: TrainedOutput[] = compiled.outputs.map((o, index) => ({ ...o, loss: o.loss!, index }));
  const vars = compiled.model.trainableWeights.map((w) => w.read() as Variable);
  const config = trainConfigSchema.parse({});
  const dp = await DataParallel.start({ tf, backend: tf.getBackend(), graph, config, trained, classes: 10, model: compiled.model, vars, workers: 2 });
  return { tf, compiled, trained, vars, dp };
}

const values = (ts: Tensor[]) => ts.map((t) => Array.from(t.dataSync()));

/** Largest |a - b| relative to the largest |b| of each array. */
function worstRelative(a: number[][], b: number[][]): number {
  let worst = 0;
  a.forEach((x, i) => {
    const scale = Math.max(1e-12, ...b[i].map(Math.abs));
    for (let j = 0; j < x.length; j++) worst = Math.max(worst, Math.abs(x[j] - b[i][j]) / scale);
  });
  return worst;
}

/** One data-parallel gradient of the first `n` training samples, with the shards' own gradients computed here for comparison. */
async function parallelGradient(graph: GraphFile, data: PreparedData, n: number, given?: TF) {
  const { tf, compiled, trained, vars, dp } = await setup(graph, given);
  try {
    const indices = Int32Array.from({ length: n }, (_, i) => i);
    const grad = (idx: Int32Array) => {
      const { x, labels } = data.train.batch(tf, idx);
      const r = shardGradients(tf, compiled.model, trained, 10, vars, x, labels);
      const out = { grads: values(r.grads), labelled: r.labelled };
      tf.dispose([x, r.value, ...r.grads, ...r.probs, ...r.losses]);
      return out;
    };
    const full = grad(indices);
    const shards = dp.split(indices);
    const [a, b] = shards.map(grad);
    const posted = dp.dispatch(data.train, shards, 0);
    const { x, labels } = data.train.batch(tf, shards[0]);
    const local = shardGradients(tf, compiled.model, trained, 10, vars, x, labels);
    const remote = await dp.collect(posted, 0);
    const averaged = dp.average(local.grads, local.labelled, remote);
    const result = values(averaged);
    tf.dispose([x, local.value, ...local.grads, ...local.probs, ...local.losses, ...averaged]);
    const halves = a.grads.map((g, i) => g.map((v, j) => (v * a.labelled + b.grads[i][j] * b.labelled) / (a.labelled + b.labelled)));
    return { full: full.grads, halves, result, shards: shards.map((s) => s.length) };
  } finally {
    await dp.dispose();
    compiled.model.dispose();
  }
}

test('two halves averaged give the full batch gradient to float rounding (small CNN, no BatchNorm), 13 + 12 samples', async () => {
  const data = await prepareData({ name: 'mnist', limit: 64, seed: 1 });
  const { full, result, shards } = await parallelGradient(tinyCnn(), data, 25);
  assert.deepEqual(shards, [13, 12]);
  const err = worstRelative(result, full);
  assert.ok(err < 1e-5, `worst relative difference ${err}`);
  assert.ok(
    result.some((g) => g.some((v) => v !== 0)),
    'the gradient is not all zeros',
  );
});

test('with BatchNorm each half is normalised by its own statistics: the average of the halves, not the full batch', async () => {
  const data = await prepareData({ name: 'mnist', limit: 64, seed: 1 });
  const { full, halves, result } = await parallelGradient(bnCnn(), data, 24);
  const err = worstRelative(result, halves);
  assert.ok(err < 1e-5, `against the halves averaged: worst relative difference ${err}`);
  const gap = worstRelative(result, full);
  assert.ok(gap > 1e-3, `per-half statistics differ from the full batch's: ${gap}`);
});

async function train(graph: GraphFile, data: PreparedData, config: TrainConfigInput, extra: { runDir?: RunFolder; resumeFrom?: string; stopAt?: number } = {}) {
  const tf = await tfReady;
  const events: TrainEvent[] = [];
  const trainer: Trainer = new Trainer({
    tf,
    graph,
    data,
    config,
    runDir: extra.runDir,
    resumeFrom: extra.resumeFrom,
    onEvent: (e) => {
      events.push(e);
      if (e.type === 'progress' && e.step === extra.stopAt) trainer.stop();
    },
  });
  const done = await trainer.run();
  const weights = trainer.model.getWeights().map((w) => Array.from(w.dataSync()));
  trainer.dispose();
  return { done, events, weights, workers: trainer.workers.workers };
}

test('a run with 2 workers learns, and resumed from a mid-epoch stop it repeats the uninterrupted run exactly (BatchNorm, dropout, Adam)', async () => {
  const data = await prepareData({ name: 'mnist', limit: 400, seed: 2 });
  const config = { epochs: 1, batchSize: 32, lr: 0.01, seed: 5, cpuWorkers: 2, probe: { enabled: false } } as const;
  const a = await train(bnCnn(10, 0.1), data, config);
  assert.equal(a.workers, 2);
  const started = a.events.find((e): e is TrainEventOf<'started'> => e.type === 'started');
  assert.deepEqual(started?.cpuWorkers, { workers: 2, reason: 'cpuWorkers' }, 'the run says it splits its batches');
  const progress = a.events.filter((e): e is TrainEventOf<'progress'> => e.type === 'progress');
  const meanLoss = (ps: TrainEventOf<'progress'>[]) => ps.reduce((a, p) => a + p.batchLoss!, 0) / ps.length;
  const [first, last] = [meanLoss(progress.slice(0, 3)), meanLoss(progress.slice(-3))];
  assert.ok(last < first * 0.85, `batch loss: first three ${first}, last three ${last}`);
  assert.ok(a.done.metrics.val_accuracy > 0.3, `val_accuracy ${a.done.metrics.val_accuracy}`);

  const dir = mkdtempSync(path.join(tmpdir(), 'attn-dp-'));
  try {
    const b = await train(bnCnn(10, 0.1), data, config, { runDir: await RunFolder.create({ dir, name: 'b', graph: bnCnn(10, 0.1), config }), stopAt: 6 });
    assert.equal(b.done.reason, 'stopped');
    assert.notDeepEqual(b.weights, a.weights);
    const c = await train(bnCnn(10, 0.1), data, config, { runDir: RunFolder.open(dir), resumeFrom: path.join(dir, 'checkpoints') });
    assert.equal(c.done.reason, 'completed');
    assert.deepEqual(c.weights, a.weights);
    assert.deepEqual(c.done.metrics, a.done.metrics);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a killed replica fails the step with a message naming it, within the bounded wait', async () => {
  const data = await prepareData({ name: 'mnist', limit: 64, seed: 1 });
  const { tf, compiled, dp } = await setup(tinyCnn());
  try {
    const shards = dp.split(Int32Array.from({ length: 16 }, (_, i) => i));
    const posted = dp.dispatch(data.train, shards, 0);
    await dp.kill(1);
    const t0 = performance.now();
    await assert.rejects(dp.collect(posted, 0), /data-parallel replica 1 \(a worker thread\) exited with code 1/);
    assert.ok(performance.now() - t0 < 5000);
    // The next step is refused at once.
    assert.throws(() => dp.dispatch(data.train, shards, 1), /replica 1 .*exited/);
  } finally {
    await dp.dispose();
    compiled.model.dispose();
    void tf;
  }
});

test("cpuWorkers 'auto' splits only large batches of large models on the CPU backends; a count the backend cannot use is an error", () => {
  const big = { batchSize: 64, macsPerSample: 2e7, customBlocks: false, cores: 2 };
  assert.equal(chooseWorkers('auto', { ...big, backend: 'wasm' }).workers, 2);
  assert.equal(chooseWorkers('auto', { ...big, backend: 'wasm', cores: 1 }).workers, 1);
  assert.equal(chooseWorkers('auto', { ...big, backend: 'tensorflow' }).workers, 1);
  assert.equal(chooseWorkers('auto', { ...big, backend: 'cpu', batchSize: 16 }).workers, 1);
  assert.equal(chooseWorkers('auto', { ...big, backend: 'wasm', macsPerSample: 1e5 }).workers, 1);
  // The zoo's measured sides of the line: bench-se-cnn (66M per step) ran 1.21x faster on two workers, the GRU (31M) 0.58x.
  assert.equal(chooseWorkers('auto', { ...big, backend: 'wasm', macsPerSample: 66e6 / 64 }).workers, 2);
  assert.equal(chooseWorkers('auto', { ...big, backend: 'wasm', macsPerSample: 31e6 / 64 }).workers, 1);
  assert.equal(chooseWorkers(1, { ...big, backend: 'wasm' }).workers, 1);
  assert.throws(() => chooseWorkers(2, { ...big, backend: 'webgpu' }), /cpuWorkers: 2 .* this run uses webgpu/);
});

// Last in the file: it switches tfjs to the wasm backend, whose averaging works on the heap.
test('on wasm too, the halves averaged give the full batch gradient to float rounding (no BatchNorm)', async () => {
  const { tf } = await selectBackend({ backend: 'wasm' });
  const data = await prepareData({ name: 'mnist', limit: 64, seed: 1 });
  const { full, result } = await parallelGradient(tinyCnn(), data, 25, tf);
  const err = worstRelative(result, full);
  assert.ok(err < 1e-5, `worst relative difference ${err}`);
});
