// The GPU failures of a webgpu run as the CLI user sees them: `attn train
// --backend webgpu --json` ends with an `error` event that says what happened
// and what to do, exits 1, and the run's last checkpoint still loads. The
// failures are real: a convolution whose output outgrows the device's largest
// storage buffer, and a device destroyed mid-run in the training process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '../engine/backends/select.js';
import { webgpuRun } from '../engine/backends/webgpu.js';
import { GRAPH_FORMAT } from '../engine/graph/schema.js';
import type { GraphFile } from '../engine/graph/types.js';
import { loadCheckpoint, resolveCheckpoint } from '../engine/train/checkpoint.js';
import type { TrainEvent } from '../engine/schemas/train-events.js';
import { attnBin } from './helpers/cli.js';
import { webgpuOrSkip } from './helpers/webgpu.js';

const LOSE_DEVICE = fileURLToPath(new URL('./helpers/lose-webgpu-device.js', import.meta.url));

const node = (id: string, type: string, params: Record<string, unknown> = {}) => ({ id, type, params, position: { x: 0, y: 0 } });

/** MNIST digits enlarged ×8 and convolved: 224×224×`filters` floats per sample, so the batch decides whether a buffer fits. */
function upsampledNet(filters: number): GraphFile {
  const nodes = [
    node('image', 'io.input', { kind: 'image', height: 28, width: 28, channels: 1 }),
    node('up', 'core.upsample2d', { factor: 8 }),
    node('conv', 'core.conv2d', { filters, kernel: 3, padding: 'same' }),
    node('pool', 'core.globalPool2d'),
    node('head', 'core.classificationHead', { classes: 10 }),
    node('label', 'io.output'),
  ];
  const edges = nodes.slice(1).map((n, i) => ({ from: { node: nodes[i].id, port: nodes[i].id === 'head' ? 'probs' : 'out' }, to: { node: n.id, port: 'in' } }));
  return { format: GRAPH_FORMAT, version: 1, name: 'webgpu failure net', nodes, edges } as GraphFile;
}

interface Ran {
  code: number;
  events: TrainEvent[];
  error?: string;
  stderr: string;
}

/** `attn train <graph> --backend webgpu --dataset mnist --json …` in its own process. */
async function train(graphFile: string, args: string[], env: Record<string, string> = {}): Promise<Ran> {
  const argv = [attnBin, 'train', graphFile, '--backend', 'webgpu', '--dataset', 'mnist', '--json', ...args];
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(process.execPath, argv, { env: { ...process.env, ...env }, maxBuffer: 1 << 24 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    ),
  );
  const lines = stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TrainEvent | { type: 'error'; message: string });
  const error = lines.find((e) => e.type === 'error') as { message: string } | undefined;
  return { code, events: lines.filter((e) => e.type !== 'error') as TrainEvent[], error: error?.message, stderr };
}

const checkpointSteps = (r: Ran) => r.events.flatMap((e) => (e.type === 'checkpoint' ? [e.step] : []));

/** The newest checkpoint of a run folder loads on the cpu backend, every weight finite; returns its step. */
async function newestCheckpointLoads(runDir: string): Promise<number> {
  const { tf } = await selectBackend({ backend: 'cpu' });
  const ck = await loadCheckpoint(tf, await resolveCheckpoint(runDir));
  try {
    assert.ok(ck.weights.length > 0 && ck.weights.every((w) => w.dataSync().every(Number.isFinite)), 'finite weights');
    return ck.state.step;
  } finally {
    tf.dispose([...ck.weights, ...ck.optimizer]);
  }
}

test(
  'attn train --backend webgpu: a batch too large for the GPU ends in a clear error event; the checkpoint resumed from still loads',
  { timeout: 600_000 },
  async (t) => {
    if (!(await webgpuOrSkip(t, "the CLI's error event for a batch too large for the WebGPU device"))) return;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'attn-webgpu-cli-big-'));
    try {
      const filters = 8;
      const graphFile = path.join(dir, 'net.attn.json');
      await writeFile(graphFile, JSON.stringify(upsampledNet(filters)));
      const run = path.join(dir, 'run');
      const small = await train(graphFile, ['--epochs', '1', '--batch-size', '4', '--limit', '16', '--checkpoint-every', '1', '--out', run]);
      assert.equal(small.code, 0, `${small.error ?? ''}\n${small.stderr}`);
      const before = await newestCheckpointLoads(run);
      assert.ok(before > 0);

      // One sample's conv output, 224·224·filters floats; a batch one past what the device's largest binding holds.
      const perSample = 224 * 224 * filters * 4;
      const batch = Math.ceil(webgpuRun()!.device.limits.maxStorageBufferBindingSize / perSample) + 1;
      const big = await train(graphFile, ['--epochs', '2', '--batch-size', String(batch), '--limit', String(batch * 2), '--resume', run]);
      assert.equal(big.code, 1, `exit code 1: ${big.stderr}`);
      assert.ok(big.error, `an error event: ${big.stderr}`);
      assert.match(big.error, /^training failed: the GPU (refused the work|ran out of memory) on .+try a smaller batch size/);
      assert.deepEqual(checkpointSteps(big), [], 'no checkpoint written from garbage');
      assert.equal(
        big.events.some((e) => e.type === 'done'),
        false,
      );
      assert.equal(await newestCheckpointLoads(run), before, 'the newest checkpoint is still the one resumed from');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);

test('attn train --backend webgpu: a device lost mid-run ends in a clear error event; the last checkpoint loads', { timeout: 600_000 }, async (t) => {
  if (!(await webgpuOrSkip(t, "the CLI's error event for a WebGPU device lost mid-run"))) return;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'attn-webgpu-cli-lost-'));
  try {
    const graphFile = path.join(dir, 'net.attn.json');
    await writeFile(graphFile, JSON.stringify(upsampledNet(2)));
    const run = path.join(dir, 'run');
    const lost = await train(graphFile, ['--epochs', '1', '--batch-size', '4', '--limit', '64', '--checkpoint-every', '1', '--out', run], {
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${LOSE_DEVICE}`.trim(),
      ATTN_TEST_LOSE_DEVICE_AT_STEP: '2',
    });
    assert.equal(lost.code, 1, `exit code 1: ${lost.stderr}`);
    assert.ok(lost.error, `an error event: ${lost.stderr}`);
    assert.match(lost.error, /^training failed: the GPU device was lost on .+\(device was destroyed\): the run stops; its last checkpoint is kept/);
    assert.deepEqual(checkpointSteps(lost), [1, 2], 'no checkpoint after the loss');
    assert.equal(await newestCheckpointLoads(run), 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
