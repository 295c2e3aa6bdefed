// Training on tfjs' WebGPU backend (Dawn): the backend selector's treatment of
// software adapters, one real training run through the CLI, and the failures a
// GPU adds (a lost device, a batch too large for it): a clear error, and the
// last checkpoint intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { selectBackend } from '../engine/backends/select.js';
import { adapterLabel } from '../engine/schemas/backends.js';
import { describeAdapter, requestAdapter, SoftwareAdapterError, webgpuRun } from '../engine/backends/webgpu.js';
import { GRAPH_FORMAT } from '../engine/graph/schema.js';
import type { GraphFile } from '../engine/graph/types.js';
import { loadCheckpoint, resolveCheckpoint } from '../engine/train/checkpoint.js';
import type { TrainEvent } from '../engine/schemas/train-events.js';
import { setupRun } from '../engine/train/setup.js';
import { attn } from './helpers/cli.js';
import { templatesDir } from './helpers/graphs.js';
import { webgpuOrSkip } from './helpers/webgpu.js';

test('software adapters are told from GPUs by what Dawn reports', () => {
  // As Dawn describes Mesa's lavapipe, SwiftShader, WARP and an NVIDIA card.
  const llvmpipe = {
    vendor: 'mesa',
    architecture: 'software',
    device: 'llvmpipe-llvm-15-0-6-256-bits-',
    description: 'llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1',
  };
  const swiftshader = { vendor: 'google', architecture: '', device: '', description: 'SwiftShader Device (Subzero)' };
  const warp = { vendor: 'microsoft', architecture: '', device: '', description: 'Microsoft Basic Render Driver' };
  const nvidia = { vendor: 'nvidia', architecture: 'ampere', device: '', description: 'NVIDIA GeForce RTX 3080' };
  assert.equal(describeAdapter(llvmpipe).software, true);
  assert.equal(describeAdapter({ ...llvmpipe, architecture: '' }).software, true, 'by its name alone');
  assert.equal(describeAdapter(swiftshader).software, true);
  assert.equal(describeAdapter(warp).software, true);
  assert.equal(describeAdapter(nvidia).software, false);
  assert.equal(describeAdapter(nvidia, true).software, true, 'a fallback adapter is software whatever its name');
  assert.equal(describeAdapter({ ...nvidia, isFallbackAdapter: true }).software, true);
  assert.equal(adapterLabel(describeAdapter(nvidia)), 'NVIDIA GeForce RTX 3080 (ampere)', 'the vendor is not repeated');
  assert.equal(adapterLabel(describeAdapter(llvmpipe)), 'mesa llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1 [software]');
  assert.match(new SoftwareAdapterError(describeAdapter(llvmpipe)).message, /software one \(llvmpipe.*--backend webgpu uses it anyway/);
});

test("'auto' never picks a software adapter and says why it skipped it", async (t) => {
  const found = await requestAdapter().catch((e: Error) => e);
  if (found instanceof Error) {
    console.log(`NOTICE: skipping the auto-selection check with a WebGPU adapter: ${found.message}`);
    return t.skip(found.message);
  }
  const { backend, skipped } = await selectBackend({ backend: 'auto' });
  if (found.info.software) {
    assert.notEqual(backend, 'webgpu');
    const why = skipped.find((s) => s.backend === 'webgpu');
    assert.ok(why, `webgpu is listed as skipped: ${JSON.stringify(skipped)}`);
    assert.match(why.reason, /software/);
    assert.ok(why.reason.includes(found.info.description || found.info.device), why.reason);
  } else {
    assert.ok(backend === 'webgpu' || backend === 'tensorflow-gpu', `a GPU adapter (${adapterLabel(found.info)}) is used; got ${backend}`);
  }
});

test('attn train --backend webgpu trains the MLP on MNIST and names the adapter', { timeout: 600_000 }, async (t) => {
  if (!(await webgpuOrSkip(t, 'training on webgpu through the CLI (done event, adapter, accuracy)'))) return;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'attn-webgpu-'));
  try {
    const out = path.join(dir, 'run');
    const r = await attn(
      'train',
      `${templatesDir}mlp.attn.json`,
      '--backend',
      'webgpu',
      '--dataset',
      'mnist',
      '--epochs',
      '1',
      '--limit',
      '2048',
      '--json',
      '--out',
      out,
    );
    assert.equal(r.code, 0, r.stderr);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as TrainEvent);
    const done = events.at(-1)!;
    assert.ok(done.type === 'done', `last event: ${JSON.stringify(done)}`);
    assert.equal(done.backend, 'webgpu');
    assert.ok(done.adapter && (done.adapter.vendor || done.adapter.description), `adapter named: ${JSON.stringify(done.adapter)}`);
    assert.ok(done.metrics.val_accuracy > 0.8, `val_accuracy ${done.metrics.val_accuracy}`);
    const config = JSON.parse(await readFile(path.join(out, 'config.json'), 'utf8'));
    assert.equal(config.backend, 'webgpu');
    assert.deepEqual(config.adapter, done.adapter);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

const node = (id: string, type: string, params: Record<string, unknown> = {}) => ({ id, type, params, position: { x: 0, y: 0 } });
const chain = (ids: string[]) =>
  ids.slice(1).map((id, i) => ({ from: { node: ids[i], port: ids[i] === 'head' ? 'probs' : 'out' }, to: { node: id, port: 'in' } }));

/** A small MLP on MNIST; `upsample` enlarges the images first, so that a batch's activations can outgrow the GPU. */
function mnistGraph(upsample?: { factor: number; filters: number }): GraphFile {
  const body = upsample
    ? [
        node('up', 'core.upsample2d', { factor: upsample.factor }),
        node('conv', 'core.conv2d', { filters: upsample.filters, kernel: 3, padding: 'same' }),
        node('pool', 'core.globalPool2d'),
      ]
    : [node('flat', 'core.flatten'), node('dense', 'core.dense', { units: 32, activation: 'relu' })];
  const nodes = [
    node('image', 'io.input', { kind: 'image', height: 28, width: 28, channels: 1 }),
    ...body,
    node('head', 'core.classificationHead', { classes: 10 }),
    node('label', 'io.output'),
  ];
  return { format: GRAPH_FORMAT, version: 1, name: 'webgpu failure net', nodes, edges: chain(nodes.map((n) => n.id)) } as GraphFile;
}

/** Runs to the error `fail` provokes; returns the error and the checkpoints written before it. */
async function failingRun(graph: GraphFile, batchSize: number, fail: (e: TrainEvent) => void, dir: string): Promise<{ error: Error; checkpoints: string[] }> {
  const checkpoints: string[] = [];
  const trainer = await setupRun(
    {
      graph,
      dataset: { name: 'mnist', limit: Math.max(160, batchSize * 2) },
      config: { epochs: 1, batchSize, checkpointEvery: 1, probe: { enabled: false } },
      backend: 'webgpu',
      out: { dir },
    },
    (e) => {
      if (e.type === 'checkpoint') checkpoints.push(e.path);
      fail(e);
    },
  );
  const error = await trainer.run().then(
    () => new Error('the run finished'),
    (e: Error) => e,
  );
  return { error, checkpoints };
}

test('a batch too large for the GPU stops the run with a clear error, not a run on garbage', { timeout: 300_000 }, async (t) => {
  const got = await webgpuOrSkip(t, 'a batch too large for the WebGPU device (error message)');
  if (!got) return;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'attn-webgpu-big-'));
  try {
    // The convolution's output over the batch: one storage buffer larger than the device binds.
    const factor = 8;
    const filters = 8;
    const perSample = (28 * factor) ** 2 * filters * 4;
    const limit = webgpuRun()!.device.limits.maxStorageBufferBindingSize;
    const batch = Math.ceil(limit / perSample) + 1;
    const { error, checkpoints } = await failingRun(mnistGraph({ factor, filters }), batch, () => undefined, dir);
    assert.match(error.message, /the GPU (refused the work|ran out of memory) on .*try a smaller batch size/);
    assert.deepEqual(checkpoints, []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a GPU device lost mid-run stops it with a clear error; the last checkpoint is intact', { timeout: 300_000 }, async (t) => {
  const got = await webgpuOrSkip(t, 'a lost WebGPU device mid-run (error message, checkpoint kept)');
  if (!got) return;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'attn-webgpu-lost-'));
  try {
    const { error, checkpoints } = await failingRun(
      mnistGraph(),
      16,
      (e) => {
        if (e.type === 'checkpoint' && e.step === 2) webgpuRun()!.device.destroy();
      },
      dir,
    );
    assert.match(error.message, /^the GPU device was lost on .+\(device was destroyed\)/);
    assert.equal(checkpoints.length, 2, 'no checkpoint after the loss');
    const { tf } = await selectBackend({ backend: 'cpu' });
    const last = await resolveCheckpoint(path.join(dir, 'checkpoints'));
    assert.equal(last, checkpoints[1]);
    const ck = await loadCheckpoint(tf, last);
    assert.equal(ck.state.step, 2);
    assert.ok(ck.weights.length > 0 && ck.weights.every((w) => w.dataSync().every(Number.isFinite)));
    tf.dispose([...ck.weights, ...ck.optimizer]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
