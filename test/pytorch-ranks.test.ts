// PyTorch ranks started as torchrun starts them (RANK, WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT; no attn driving them): synchronised BatchNorm under DDP, and a
// run folder that such a run leaves, finalized, read by our run reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeSafetensors } from '../engine/export/safetensors.js';
import { freePort } from '../engine/pytorch/launch.js';
import { WORKER_SCRIPT } from '../engine/pytorch/prepare.js';
import { PytorchRun } from '../engine/pytorch/run.js';
import { finalizeTorchrun } from '../engine/pytorch/finalize.js';
import { parseGraphText } from '../engine/graph/schema.js';
import { listCheckpoints, readSummary, RunFolder } from '../engine/runs/index.js';
import { loadCheckpoint } from '../engine/train/checkpoint.js';
import { tfReady } from './helpers/tf.js';
import { attn } from './helpers/cli.js';
import { graphOf } from './train-fixtures.js';
import { chain } from './helpers/graphs.js';
import { PYTHON, skipWithoutTorch } from './helpers/torch.js';
import { runBareWorker } from './helpers/bare-torchrun.js';

const rankState = fileURLToPath(new URL('../../test/helpers/torch_rank_state.py', import.meta.url));
const tmp = (tag: string) => mkdtempSync(path.join(tmpdir(), `attn-pytorch-${tag}-`));

/**
 * 28×28×1 → flatten → dense 16 without bias → BatchNorm → 10-way softmax. (A bias before
 * BatchNorm gets only rounding noise for a gradient, which Adam turns into full steps: it
 * would part 1 and 2 ranks without changing any output.)
 */
const bnMlp = () =>
  graphOf(
    'bn-mlp',
    [
      ['in', 'io.input', { kind: 'image', height: 28, width: 28, channels: 1 }],
      ['flat', 'core.flatten'],
      ['hidden', 'core.dense', { units: 16, activation: 'linear', useBias: false }],
      ['bn', 'core.batchNorm', { momentum: 0.9 }],
      ['head', 'core.classificationHead', { classes: 10 }],
      ['out', 'io.output'],
    ],
    chain('in', 'flat', 'hidden', 'bn', 'head.probs', 'out'),
  );

/** A prepared run's spec.json (data, order, starting weights), nothing trained. */
async function preparedSpec(dir: string): Promise<string> {
  const run = await PytorchRun.setup({
    graph: bnMlp(),
    dataset: { name: 'mnist', limit: 600, seed: 3 },
    config: { epochs: 1, batchSize: 60, lr: 0.01, probe: { enabled: false } },
    out: { dir },
    pytorch: { device: 'cpu' },
  });
  run.dispose();
  return path.join(dir, 'pytorch', 'spec.json');
}

/** Runs `world` ranks of the spec as torchrun would; each rank's final state_dict by name. */
async function launch(spec: string, world: number): Promise<Map<string, Float32Array>[]> {
  const out = tmp('states');
  const port = await freePort();
  await Promise.all(
    Array.from({ length: world }, (_, rank) => {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        RANK: String(rank),
        LOCAL_RANK: String(rank),
        WORLD_SIZE: String(world),
        LOCAL_WORLD_SIZE: String(world),
        MASTER_ADDR: '127.0.0.1',
        MASTER_PORT: String(port),
      };
      delete env.ATTN_DRIVEN;
      const child = spawn(PYTHON, [rankState, WORKER_SCRIPT, spec, out], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      return new Promise<void>((resolve, reject) =>
        child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`rank ${rank} exited with ${code}: ${err.slice(-2000)}`)))),
      );
    }),
  );
  return Array.from(
    { length: world },
    (_, rank) => new Map(decodeSafetensors(readFileSync(path.join(out, `rank-${rank}.safetensors`))).map((t) => [t.name, t.data as Float32Array])),
  );
}

const maxDiff = (a: Map<string, Float32Array>, b: Map<string, Float32Array>, keys: string[]) => {
  let worst = 0;
  for (const k of keys) a.get(k)!.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - b.get(k)![i]))));
  return worst;
};

test('DDP with synchronised BatchNorm: both ranks keep the running statistics of the global batch, as one rank does', async (t) => {
  if (skipWithoutTorch(t, 'synchronised BatchNorm under DDP')) return;
  const one = await launch(await preparedSpec(tmp('bn1')), 1);
  const specFile = await preparedSpec(tmp('bn2'));
  const two = await launch(specFile, 2);
  const keys = [...one[0].keys()].filter((k) => !k.endsWith('num_batches_tracked'));
  const stats = keys.filter((k) => /running_(mean|var)$/.test(k));
  assert.ok(stats.length === 2, `the BatchNorm's running mean and variance among ${keys.join(', ')}`);
  assert.ok(maxDiff(two[0], two[1], stats) < 1e-6, `rank 0 and rank 1 running stats differ by ${maxDiff(two[0], two[1], stats)}`);
  assert.ok(maxDiff(two[0], one[0], stats) < 1e-4, `2 ranks vs 1 rank running stats: ${maxDiff(two[0], one[0], stats)}`);
  assert.ok(maxDiff(two[0], one[0], keys) < 1e-4, `2 ranks vs 1 rank weights: ${maxDiff(two[0], one[0], keys)}`);

  // The same ranks without it: each normalises its own half batch, and the statistics part ways.
  const spec = JSON.parse(readFileSync(specFile, 'utf8'));
  const unsynced = path.join(path.dirname(specFile), 'spec-unsynced.json');
  const apartDir = path.join(path.dirname(specFile), 'unsynced');
  mkdirSync(apartDir, { recursive: true });
  writeFileSync(unsynced, JSON.stringify({ ...spec, syncBatchNorm: false, staging: apartDir, events: path.join(apartDir, 'events.jsonl') }));
  const apart = await launch(unsynced, 2);
  assert.ok(maxDiff(apart[0], one[0], stats) > 1e-3, `unsynchronised BatchNorm should drift from one rank's: ${maxDiff(apart[0], one[0], stats)}`);
});

test('a run trained by a bare torchrun, finalized, opens with the run reader: tfjs checkpoints, metrics, snapshots, run.json', async (t) => {
  if (skipWithoutTorch(t, 'a bare torchrun run')) return;
  const dir = tmp('bare');
  const graph = parseGraphText(readFileSync(fileURLToPath(new URL('../../templates/bench-se-cnn.attn.json', import.meta.url)), 'utf8')).graph!;
  const config = { epochs: 2, batchSize: 32, lr: 0.004, probe: { everyBatches: 4, minIntervalMs: 0 } };
  const prepared = await PytorchRun.setup({ graph, dataset: { name: 'mnist', limit: 300, seed: 5 }, config, out: { dir }, pytorch: { device: 'cpu' } });
  prepared.dispose();
  // What torchrun runs on each node: the worker and the spec, with no attn environment.
  await runBareWorker(dir);
  const run = RunFolder.open(dir);
  assert.deepEqual(await run.metrics(), [], 'nothing in the layout before finalizing: Python does not write it');

  const result = await finalizeTorchrun(dir);
  assert.equal(result.ended, true);
  assert.equal(result.checkpoints, 2, 'one per epoch');
  assert.ok(result.snapshots >= 3, `snapshots at the probe rate: ${result.snapshots}`);
  assert.deepEqual(await finalizeTorchrun(dir), { checkpoints: 0, snapshots: 0, ended: false }, 'applied once');
  const again = await attn('finalize', dir);
  assert.equal(again.stdout.trim(), `${dir}: 0 checkpoint(s), 0 attention snapshot(s) written`);
  const notTorch = await attn('finalize', tmp('not-torch'));
  assert.equal(notTorch.code, 1);
  assert.match(notTorch.stderr, /attn finalize: .*not-torch\S* is not a PyTorch run folder \(no pytorch\/spec\.json\)/);

  const rows = await run.metrics();
  assert.deepEqual(
    rows.map((r) => r.epoch),
    [0, 1],
  );
  assert.ok(rows[1].val_accuracy! > 0.3, `val_accuracy ${rows[1].val_accuracy}`);
  const summary = await readSummary(run);
  assert.equal(summary?.state, 'done');
  assert.equal(summary?.backend, 'pytorch');
  assert.equal(summary?.finalMetrics.val_accuracy, rows[1].val_accuracy);
  const checkpoints = await listCheckpoints(path.join(dir, 'checkpoints'));
  const last = checkpoints.at(-1)!;
  assert.equal(last.step, 18);
  // The tfjs checkpoint (checksums verified) holds the weights PyTorch trained.
  const tf = await tfReady;
  const ck = await loadCheckpoint(tf, last.dir);
  const torchWeights = decodeSafetensors(readFileSync(path.join(last.dir, 'model.safetensors'))).filter((w) => !w.name.endsWith('num_batches_tracked'));
  const absSum = (xs: ArrayLike<number>[]) => xs.reduce((s, x) => s + Array.from(x).reduce((a, v) => a + Math.abs(v), 0), 0);
  const [inTfjs, inTorch] = [absSum(ck.weights.map((w) => w.dataSync())), absSum(torchWeights.map((w) => w.data))];
  assert.ok(Math.abs(inTfjs - inTorch) < 1e-4 * inTorch, `Σ|w| tfjs ${inTfjs}, torch ${inTorch}`);
  assert.equal(ck.state.step, 18);
  tf.dispose([...ck.weights, ...ck.optimizer]);
  const snapshot = await run.readSnapshot(1);
  assert.deepEqual(snapshot[0].shape, [4, 32], 'SE channel weights of the 4 probe samples');
});
