// The pytorch backend: the graph's export trained by Debian's torch, against
// the tfjs trainer on the same graph and data; DDP ranks against one rank;
// the run folder it leaves; and the failures a user meets, each named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseGraphText } from '../engine/graph/schema.js';
import type { GraphFile } from '../engine/graph/types.js';
import { prepareData } from '../engine/data/index.js';
import { inputHint } from '../engine/train/setup.js';
import { Trainer } from '../engine/train/trainer.js';
import { decodeSafetensors } from '../engine/export/safetensors.js';
import { loadCheckpoint } from '../engine/train/checkpoint.js';
import type { TrainEvent } from '../engine/schemas/train-events.js';
import { PytorchRun, type TorchOptions } from '../engine/pytorch/run.js';
import { findTorchPython } from '../engine/pytorch/python.js';
import { registry } from '../engine/blocks/registry.js';
import { tinyMlp } from './train-fixtures.js';
import { skipWithoutTorch } from './helpers/torch.js';
import { attn } from './helpers/cli.js';
import { tfReady } from './helpers/tf.js';
import { selectBackend } from '../engine/backends/select.js';

const benchGraph = (): GraphFile =>
  parseGraphText(readFileSync(fileURLToPath(new URL('../../templates/bench-se-cnn.attn.json', import.meta.url)), 'utf8')).graph!;
const tmp = (tag: string) => mkdtempSync(path.join(tmpdir(), `attn-pytorch-${tag}-`));

async function torchRun(
  graph: GraphFile,
  dataset: { name: string; limit: number; seed?: number },
  config: Record<string, unknown>,
  pytorch: TorchOptions,
  dir: string,
  onEvent: (e: TrainEvent) => void = () => {},
) {
  const run = await PytorchRun.setup({ graph, dataset, config, out: { dir }, pytorch }, onEvent);
  try {
    return { run, done: await run.run() };
  } finally {
    run.dispose();
  }
}

test('bench-se-cnn on MNIST: a PyTorch run reaches the accuracy of a tfjs run of the same graph, and leaves a tfjs run folder', async (t) => {
  if (skipWithoutTorch(t, 'PyTorch training against tfjs')) return;
  const graph = benchGraph();
  const dataset = { name: 'mnist', limit: 2000, seed: 2 };
  const config = { epochs: 1, batchSize: 32, lr: 0.004, probe: { everyBatches: 10, minIntervalMs: 0 } };
  // The tfjs reference on wasm (the pure JS backend would take minutes).
  const { tf } = await selectBackend({ backend: 'wasm' });
  const data = await prepareData(dataset, inputHint(graph));
  const trainer = new Trainer({ tf, graph, data, config, runDir: null });
  const reference = await trainer.run();
  trainer.dispose();
  const dir = tmp('bench');
  const events: TrainEvent[] = [];
  const { done } = await torchRun(graph, dataset, config, { device: 'cpu' }, dir, (e) => events.push(e));
  assert.equal(done.backend, 'pytorch');
  assert.equal(done.device, 'cpu');
  assert.equal(done.ranks, 1);
  const started = events.find((e) => e.type === 'started');
  assert.equal(started?.type === 'started' && started.trainSamples, data.train.size, 'the same split');
  const [a, b] = [done.metrics.val_accuracy, reference.metrics.val_accuracy];
  assert.ok(a > 0.8, `PyTorch val_accuracy ${a} (tfjs ${b})`);
  assert.ok(Math.abs(a - b) < 0.06, `PyTorch ${a} vs tfjs ${b}`);
  // The run folder: metrics, attention snapshots, and checkpoints in both formats.
  assert.equal(readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 1);
  const attention = events.filter((e) => e.type === 'attention');
  assert.ok(attention.length >= 2, 'attention snapshots at the probe rate');
  const snap = attention[0].type === 'attention' ? attention[0] : null;
  assert.deepEqual(snap!.maps[0].shape, [4, 32], 'SE channel weights of the 4 probe samples');
  assert.ok(existsSync(path.join(dir, 'attention', `step-${String(snap!.step).padStart(6, '0')}`, 'se.weights.png')));
  const ckDir = path.join(dir, 'checkpoints', `step-${String(done.steps).padStart(6, '0')}`);
  for (const f of ['model.json', 'weights.bin', 'trainer.json', 'optimizer.bin', 'model.safetensors', 'optimizer.safetensors'])
    assert.ok(existsSync(path.join(ckDir, f)), f);
  // The tfjs checkpoint holds the weights PyTorch trained: its predictions score the same validation accuracy.
  const ck = await loadCheckpoint(tf, ckDir);
  const check = new Trainer({ tf, graph, data, config, runDir: null });
  check.model.setWeights(ck.weights);
  const val = await check.evaluate(data.validation);
  check.dispose();
  tf.dispose([...ck.weights, ...ck.optimizer]);
  assert.ok(Math.abs(val.val_accuracy - a) < 1e-9, `tfjs on the converted weights ${val.val_accuracy}, PyTorch ${a}`);
  assert.ok(Math.abs(val.val_loss - done.metrics.val_loss) < 1e-4, `val_loss tfjs ${val.val_loss}, PyTorch ${done.metrics.val_loss}`);
});

test('DDP: 2 gloo ranks end with the same weights as 1 rank on the same global batches', async (t) => {
  if (skipWithoutTorch(t, 'DDP against one rank')) return;
  const graph = tinyMlp();
  const dataset = { name: 'mnist', limit: 600, seed: 1 };
  // 9 batches per epoch, the last one short; Adam, clipping and a cosine schedule all take part.
  const config = { epochs: 2, batchSize: 60, lr: 0.01, schedule: 'cosine', clipNorm: 1, probe: { enabled: false } };
  const one = tmp('rank1');
  const two = tmp('rank2');
  const r1 = await torchRun(graph, dataset, config, { device: 'cpu', nproc: 1 }, one);
  const r2 = await torchRun(graph, dataset, config, { device: 'cpu', nproc: 2 }, two);
  assert.equal(r2.done.ranks, 2);
  assert.equal(r1.done.steps, r2.done.steps);
  const weights = (dir: string, steps: number) =>
    decodeSafetensors(readFileSync(path.join(dir, 'checkpoints', `step-${String(steps).padStart(6, '0')}`, 'model.safetensors')));
  const a = weights(one, r1.done.steps);
  const b = weights(two, r2.done.steps);
  assert.deepEqual(
    a.map((x) => x.name),
    b.map((x) => x.name),
  );
  let worst = 0;
  a.forEach((x, i) => x.data.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - b[i].data[j])))));
  assert.ok(worst < 1e-4, `max |Δweight| ${worst}`);
  assert.ok(Math.abs(r1.done.metrics.val_loss - r2.done.metrics.val_loss) < 1e-4, `val_loss ${r1.done.metrics.val_loss} vs ${r2.done.metrics.val_loss}`);
  // Only rank 0 writes: one metrics line per epoch.
  assert.equal(readFileSync(path.join(two, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 2);
});

test('DDP: a pause longer than the collective timeout holds both ranks, and the run then ends as an unpaused one', async (t) => {
  if (skipWithoutTorch(t, 'a long DDP pause')) return;
  const graph = tinyMlp();
  const dataset = { name: 'mnist', limit: 400, seed: 6 };
  const config = { epochs: 1, batchSize: 40, lr: 0.01, probe: { enabled: false } };
  const whole = await torchRun(graph, dataset, config, { device: 'cpu', nproc: 2 }, tmp('unpaused'));
  // Rank 1 waits in a broadcast while rank 0 is paused: 8 s would end it, were rank 0 silent.
  const saved = process.env.ATTN_COLLECTIVE_TIMEOUT_S;
  process.env.ATTN_COLLECTIVE_TIMEOUT_S = '8';
  let pausedAt = 0;
  let run: PytorchRun | undefined;
  try {
    run = await PytorchRun.setup({ graph, dataset, config, out: { dir: tmp('paused') }, pytorch: { device: 'cpu', nproc: 2 } }, (e) => {
      if (e.type === 'progress' && !pausedAt) {
        pausedAt = Date.now();
        run!.pause();
        setTimeout(() => run!.resume(), 20_000);
      }
    });
    const done = await run.run();
    assert.ok(Date.now() - pausedAt >= 20_000, 'the run waited for resume');
    assert.equal(done.steps, whole.done.steps);
    assert.ok(Math.abs(done.metrics.val_loss - whole.done.metrics.val_loss) < 1e-5, `paused ${done.metrics.val_loss}, unpaused ${whole.done.metrics.val_loss}`);
  } finally {
    run?.dispose();
    if (saved === undefined) delete process.env.ATTN_COLLECTIVE_TIMEOUT_S;
    else process.env.ATTN_COLLECTIVE_TIMEOUT_S = saved;
  }
});

/** Whether a process has ended within a few seconds (a zombie nobody reaps counts as ended). */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return true;
    }
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

test('ranks that linger after the run is done are ended with what they started, and the run counts as done', async (t) => {
  if (skipWithoutTorch(t, 'lingering ranks')) return;
  const dir = tmp('linger');
  // A Python that stays around after the worker (its shell) has finished, in a child it started.
  const python = path.join(dir, 'python3');
  const sleepers = path.join(dir, 'sleepers');
  writeFileSync(
    python,
    `#!/bin/sh\n/usr/bin/python3 "$@"\ncode=$?\ncase "$1" in *train_worker.py) sleep 300 & echo $! >> '${sleepers}'; wait;; esac\nexit $code\n`,
  );
  chmodSync(python, 0o755);
  const grace = PytorchRun.exitGraceMs;
  PytorchRun.exitGraceMs = 1000;
  try {
    const started = Date.now();
    const { done } = await torchRun(
      tinyMlp(),
      { name: 'mnist', limit: 200 },
      { epochs: 1, probe: { enabled: false } },
      { device: 'cpu', nproc: 2, python },
      path.join(dir, 'run'),
    );
    assert.equal(done.reason, 'completed');
    assert.ok(Date.now() - started < 120_000, 'not held by the sleeping shells');
    const pids = readFileSync(sleepers, 'utf8').trim().split('\n').map(Number);
    assert.equal(pids.length, 2);
    for (const pid of pids) assert.ok(await gone(pid), `the sleep a rank started (pid ${pid}) was ended with it`);
  } finally {
    PytorchRun.exitGraceMs = grace;
  }
});

test('DDP: a rank that dies ends the run with an error naming it, and the last checkpoint stays intact', async (t) => {
  if (skipWithoutTorch(t, 'a dying rank')) return;
  const dir = tmp('dies');
  const config = { epochs: 50, batchSize: 20, checkpointEvery: 2, probe: { enabled: false } };
  let killed = false;
  const run = await PytorchRun.setup(
    { graph: tinyMlp(), dataset: { name: 'mnist', limit: 400 }, config, out: { dir }, pytorch: { device: 'cpu', nproc: 2 } },
    (e) => {
      if (e.type === 'checkpoint' && !killed) {
        killed = true;
        process.kill(run.rankPids[1]!, 'SIGKILL');
      }
    },
  );
  try {
    await assert.rejects(run.run(), (err: Error) => {
      assert.match(err.message, /PyTorch rank 1 of 2 was killed \(SIGKILL\)/);
      assert.match(err.message, /the last checkpoint, .*step-\d+, is intact/);
      return true;
    });
  } finally {
    run.dispose();
  }
  const latest = JSON.parse(readFileSync(path.join(dir, 'checkpoints', 'latest.json'), 'utf8'));
  const tf = await tfReady;
  const ck = await loadCheckpoint(tf, path.join(dir, 'checkpoints', latest.checkpoint));
  assert.ok(ck.state.step >= 2);
  tf.dispose([...ck.weights, ...ck.optimizer]);
});

test('a PyTorch run continues from its checkpoint as the tfjs trainer would (Continue)', async (t) => {
  if (skipWithoutTorch(t, 'continuing a PyTorch run')) return;
  const graph = tinyMlp();
  const dataset = { name: 'mnist', limit: 300, seed: 4 };
  const config = { epochs: 2, batchSize: 30, optimizer: 'sgd' as const, lr: 0.05, probe: { enabled: false } };
  const whole = tmp('whole');
  const full = await torchRun(graph, dataset, config, { device: 'cpu' }, whole);
  // The same run, stopped after the first epoch and continued from its folder.
  const parted = tmp('parted');
  await torchRun(graph, dataset, { ...config, epochs: 1 }, { device: 'cpu' }, parted);
  const cont = await PytorchRun.setup({ graph, dataset, config, resumeFrom: parted, pytorch: { device: 'cpu' } });
  let done;
  try {
    done = await cont.run();
  } finally {
    cont.dispose();
  }
  assert.equal(done.steps, full.done.steps);
  assert.ok(Math.abs(done.metrics.val_loss - full.done.metrics.val_loss) < 1e-4, `continued ${done.metrics.val_loss}, whole ${full.done.metrics.val_loss}`);
});

test('clear messages: no Python, a Python without torch, an unsupported block, an unsupported device', async (t) => {
  if (skipWithoutTorch(t, 'PyTorch error messages')) return;
  const dir = tmp('msgs');
  const graphFile = path.join(dir, 'mlp.attn.json');
  writeFileSync(graphFile, JSON.stringify(tinyMlp()));
  const train = (...args: string[]) => attn('train', graphFile, '--dataset', 'mnist', '--limit', '200', '--epochs', '1', '--backend', 'pytorch', ...args);

  let r = await train('--python', path.join(dir, 'no-such-python'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no Python with PyTorch found: no Python at .*no-such-python/);

  // Debian's python3 without its site packages: a Python that has no torch.
  const bare = path.join(dir, 'bare-python');
  writeFileSync(bare, '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n');
  chmodSync(bare, 0o755);
  r = await train('--python', bare);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bare-python \(Python 3[.\d]+\) has no PyTorch: ModuleNotFoundError: No module named 'torch'/);

  const py = await findTorchPython();
  if (!py.mps) {
    r = await train('--device', 'mps');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--device mps: torch .* sees no MPS device/);
  }
  if (!py.cuda.length) {
    r = await train('--device', 'cuda');
    assert.match(r.stderr, /--device cuda: torch .* sees no CUDA device/);
  }
  r = await attn('train', graphFile, '--dataset', 'mnist', '--nproc', '2');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--nproc needs --backend pytorch/);
  // 180 training samples in batches of 179: the last batch has one sample for two ranks.
  r = await train('--nproc', '2', '--device', 'cpu', '--batch-size', '179');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--nproc 2: the last batch of each epoch has 1 sample \(180 training samples in batches of 179\), too few for 2 ranks/);

  // A block with no PyTorch code is named, with its node.
  const dense = registry.get('core.dense')!;
  const emit = dense.emit;
  (dense as { emit?: unknown }).emit = { ...emit, pytorch: undefined };
  try {
    await assert.rejects(
      PytorchRun.setup({ graph: tinyMlp(), dataset: { name: 'mnist', limit: 100 }, out: { dir: path.join(dir, 'run') }, pytorch: { device: 'cpu' } }),
      /node "hidden": the Dense block \(core\.dense\) cannot be exported to pytorch yet/,
    );
  } finally {
    (dense as { emit?: unknown }).emit = emit;
  }
});
