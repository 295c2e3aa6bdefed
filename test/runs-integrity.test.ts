// The run folder as engine/runs owns it: a run trained with `attn train` shows
// in the app's Runs list; a damaged or doctored checkpoint is refused, naming
// the file, by `attn export --weights`, `attn train --resume`, Inspect and
// Continue; a checkpoint of NaN weights trains on and draws its heat maps; a
// refused start leaves no run folder behind.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { main } from '../engine/cli.js';
import { inspectInProcess } from '../engine/worker/client.js';
import { heatmap, NON_FINITE, RunFolder } from '../engine/runs/index.js';
import type { HostEvent, RunDetail, RunSummary, TrainingEvent } from '../common/host-api/api.js';
import { forkTraining, ProcessTrainingDriver } from '../electron/host/training.js';
import { sandbox, tinyMnistGraph, type Sandbox } from './host-fixtures.js';

let s: Sandbox;
let graphFile: string;
let cliRun: string;
const hostEvents: TrainingEvent[] = [];

async function cli(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { log: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

const trainArgs = ['--dataset', 'mnist', '--limit', '120', '--batch-size', '30', '--backend', 'cpu', '--seed', '2', '--json'];

before(async () => {
  s = await sandbox('browser', { training: new ProcessTrainingDriver(forkTraining), inspect: (cmd) => inspectInProcess(cmd) });
  s.service.onEvent((e: HostEvent) => void (e.channel === 'training' && hostEvents.push(e.event)));
  graphFile = path.join(s.root, 'se.attn.json');
  writeFileSync(graphFile, JSON.stringify(tinyMnistGraph()));
  cliRun = path.join(s.root, 'runs', 'cli-run');
  const r = await cli('train', graphFile, ...trainArgs, '--epochs', '2', '--out', cliRun);
  assert.equal(r.code, 0, r.err.join('\n'));
});

after(async () => {
  await s.service.dispose();
  await s.cleanup();
});

const newest = (run: string) => {
  const names = readdirSync(path.join(run, 'checkpoints')).filter((n) => /^step-\d+$/.test(n));
  return path.join(run, 'checkpoints', names.sort().at(-1)!);
};

/** A copy of the CLI run, as `runs/<name>`, with its newest checkpoint changed by `damage`. */
function copyRun(name: string, damage: (checkpoint: string) => void): string {
  const dir = path.join(s.root, 'runs', name);
  cpSync(cliRun, dir, { recursive: true });
  damage(newest(dir));
  return dir;
}

/** Rewrites checkpoint.json to match the files as they are now: a doctored checkpoint whose checksums hold. */
function reseal(checkpoint: string): void {
  const file = path.join(checkpoint, 'checkpoint.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as { files: Record<string, { bytes: number; sha256: string }> };
  for (const name of Object.keys(manifest.files)) {
    const data = readFileSync(path.join(checkpoint, name));
    manifest.files[name] = { bytes: data.byteLength, sha256: createHash('sha256').update(data).digest('hex') };
  }
  writeFileSync(file, JSON.stringify(manifest));
}

const weightsOf = (ck: string) => path.join(ck, 'weights.bin');

function flip200(ck: string): void {
  const data = readFileSync(weightsOf(ck));
  for (let i = 0; i < 200; i++) data[Math.floor((i * data.length) / 200)] ^= 0xff;
  writeFileSync(weightsOf(ck), data);
}

const escape = (p: string) => p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

test("a run trained with attn train shows in the app's Runs list, with its state, numbers and one metrics row per epoch", async () => {
  const runs = (await s.service.dispatch('listRuns', {})) as RunSummary[];
  const run = runs.find((r) => r.runId === 'cli-run');
  assert.ok(run, `the CLI run is listed: ${JSON.stringify(runs)}`);
  assert.equal(run.state, 'done');
  assert.equal(run.name, 'SE probe net');
  assert.equal(run.dataset, 'mnist');
  assert.equal(run.backend, 'cpu');
  assert.equal(run.epochs, 2);
  assert.equal(typeof run.finalMetrics.val_accuracy, 'number');
  const detail = (await s.service.dispatch('openRun', { runId: 'cli-run' })) as RunDetail;
  assert.deepEqual(
    detail.metrics.map((m) => m.epoch),
    [0, 1],
  );
  assert.ok(detail.batches.length > 0, 'the batch log is kept for CLI runs too');
  assert.ok(detail.checkpoints.includes(path.basename(newest(cliRun))));
});

test('attn export --weights refuses a damaged or doctored checkpoint, naming the file, and writes nothing', async (t) => {
  const cases: [string, (ck: string) => void, (ck: string) => RegExp][] = [
    ['flipped', flip200, (ck) => new RegExp(`${escape(weightsOf(ck))} is damaged: its sha256 does not match checkpoint\\.json`)],
    [
      'trailing',
      (ck) => appendFileSync(weightsOf(ck), Buffer.alloc(16)),
      (ck) => new RegExp(`${escape(weightsOf(ck))} is damaged: it has \\d+ bytes, checkpoint\\.json records \\d+`),
    ],
    [
      'trailing-resealed',
      (ck) => {
        appendFileSync(weightsOf(ck), Buffer.alloc(16));
        reseal(ck);
      },
      (ck) => new RegExp(`${escape(weightsOf(ck))} has 16 bytes after its last weight: refused`),
    ],
    [
      'outside-model-json',
      (ck) => {
        const file = path.join(ck, 'model.json');
        const json = JSON.parse(readFileSync(file, 'utf8'));
        json.weightsManifest[0].paths = ['../../../../../../../../etc/passwd'];
        writeFileSync(file, JSON.stringify(json));
        reseal(ck);
      },
      (ck) =>
        new RegExp(
          `${escape(path.join(ck, 'model.json'))}'s weightsManifest names "\\.\\./.*etc/passwd", which is not a weight file of checkpoint .*: refused`,
        ),
    ],
    [
      'outside-manifest',
      (ck) => {
        const file = path.join(ck, 'checkpoint.json');
        const json = JSON.parse(readFileSync(file, 'utf8'));
        json.files['../../../graph.attn.json'] = { bytes: 1, sha256: '0' };
        writeFileSync(file, JSON.stringify(json));
      },
      (ck) => new RegExp(`${escape(path.join(ck, 'checkpoint.json'))} names "\\.\\./\\.\\./\\.\\./graph\\.attn\\.json", which is not a file inside`),
    ],
    [
      'outside-latest',
      (ck) => writeFileSync(path.join(path.dirname(ck), 'latest.json'), JSON.stringify({ checkpoint: '../../../../etc' })),
      (ck) =>
        new RegExp(
          `${escape(path.join(path.dirname(ck), 'latest.json'))} names "\\.\\./\\.\\./\\.\\./\\.\\./etc", which is not a checkpoint inside .*: refused`,
        ),
    ],
    [
      'symlink',
      (ck) => {
        const real = path.join(path.dirname(ck), '..', 'elsewhere.bin');
        cpSync(weightsOf(ck), real);
        rmSync(weightsOf(ck));
        symlinkSync(real, weightsOf(ck));
      },
      (ck) => new RegExp(`${escape(weightsOf(ck))} is not a plain file \\(a link or a folder\\): refused`),
    ],
    [
      'no-manifest-cut-short',
      (ck) => {
        rmSync(path.join(ck, 'checkpoint.json'));
        rmSync(path.join(ck, 'optimizer.bin'));
      },
      (ck) => new RegExp(`${escape(ck)} is not a complete checkpoint: it has no checkpoint\\.json and no optimizer\\.bin`),
    ],
  ];
  for (const [name, damage, message] of cases)
    await t.test(name, async () => {
      const run = copyRun(name, damage);
      const out = path.join(s.root, 'out', name, 'model.ts');
      const r = await cli('export', graphFile, '--to', 'tfjs', '--out', out, '--weights', run);
      assert.equal(r.code, 1, r.out.join('\n'));
      assert.match(r.err.join('\n'), message(newest(run)));
      assert.ok(!existsSync(path.dirname(out)), 'nothing is written');
    });
  // The untouched run exports its checkpoint's model files as they are.
  const out = path.join(s.root, 'out', 'good', 'model.ts');
  const r = await cli('export', graphFile, '--to', 'tfjs', '--out', out, '--weights', cliRun);
  assert.equal(r.code, 0, r.err.join('\n'));
  for (const f of ['model.json', 'weights.bin'])
    assert.deepEqual(readFileSync(path.join(s.root, 'out', 'good', 'model-tfjs-model', f)), readFileSync(path.join(newest(cliRun), f)), f);
});

test('--resume, Inspect and Continue refuse a checkpoint with 200 flipped bytes, naming the file', async () => {
  const run = copyRun('flipped-resume', flip200);
  const damaged = new RegExp(`${escape(weightsOf(newest(run)))} is damaged: its sha256 does not match`);
  const resumed = await cli('train', graphFile, ...trainArgs, '--epochs', '3', '--resume', run);
  assert.equal(resumed.code, 1);
  assert.match(resumed.out.at(-1)!, damaged);

  await assert.rejects(s.service.dispatch('inspectSample', { runId: 'flipped-resume', index: 0 }), damaged);

  await s.service.dispatch('startTraining', {
    graph: tinyMnistGraph(),
    dataset: { name: 'mnist', limit: 120 },
    config: { epochs: 3 },
    backend: 'cpu',
    resumeFrom: { runId: 'flipped-resume' },
  });
  for (let waited = 0; !hostEvents.some((e) => e.type === 'state' && e.state === 'failed'); waited += 50) {
    assert.ok(waited < 60_000, 'Continue ends');
    await new Promise((r) => setTimeout(r, 50));
  }
  const failed = hostEvents.find((e) => e.type === 'state' && e.state === 'failed');
  assert.match(failed?.type === 'state' ? (failed.message ?? '') : '', damaged);
});

test('a checkpoint from before checksums (no checkpoint.json) still exports and resumes, unverified', async () => {
  const run = copyRun('pre-checksum', (ck) => rmSync(path.join(ck, 'checkpoint.json')));
  const out = path.join(s.root, 'out', 'pre-checksum', 'model.ts');
  const r = await cli('export', graphFile, '--to', 'tfjs', '--out', out, '--weights', run);
  assert.equal(r.code, 0, r.err.join('\n'));
  assert.deepEqual(readFileSync(path.join(s.root, 'out', 'pre-checksum', 'model-tfjs-model', 'weights.bin')), readFileSync(weightsOf(newest(run))));
  const resumed = await cli('train', graphFile, ...trainArgs, '--epochs', '3', '--resume', run);
  assert.equal(resumed.code, 0, resumed.out.join('\n'));
});

test('without latest.json, a run continues from its newest complete checkpoint', async () => {
  const run = copyRun('no-latest', (ck) => rmSync(path.join(path.dirname(ck), 'latest.json')));
  const { checkpoint } = await RunFolder.forResume(run);
  assert.equal(checkpoint, newest(run));
});

test('heat maps draw NaN and infinite values in a colour of their own and scale to the finite ones', () => {
  const img = heatmap(new Float32Array([NaN, 0, Infinity, 1]), [1, 2, 2], 'matrix');
  const pixel = (x: number, y: number) => [...img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3)];
  const [w, h] = [img.width / 2, img.height / 2];
  assert.deepEqual(pixel(0, 0), NON_FINITE);
  assert.deepEqual(pixel(w, 0), [68, 1, 84], 'the smallest finite value is the bottom of viridis');
  assert.deepEqual(pixel(0, h), NON_FINITE);
  assert.deepEqual(pixel(w, h), [253, 231, 37], 'the largest finite value is the top of viridis');
});

test('attention snapshots of NaN and infinite values are written, with a heat map, and say how many values are not finite', async () => {
  const run = await RunFolder.create({ dir: path.join(s.root, 'snapshots'), name: 'nan', graph: {}, config: {} });
  const data = new Float32Array([NaN, 0.5, Infinity, -Infinity, 0.25, 1]);
  const dir = await run.writeAttention(7, [{ nodeId: 'att', port: 'weights', kind: 'matrix', shape: [1, 2, 3], fullShape: [1, 2, 3], data }]);
  assert.equal(JSON.parse(readFileSync(path.join(dir, 'att.weights.json'), 'utf8')).nonFinite, 3);
  assert.ok(readFileSync(path.join(dir, 'att.weights.png')).byteLength > 0);
  const [back] = await run.readSnapshot(7);
  assert.deepEqual([...back.data], [...data]);
});

test("training from a checkpoint of NaN weights ends with a clear message and leaves that run's checkpoints as they were", async () => {
  const run = copyRun('nan', (ck) => {
    writeFileSync(weightsOf(ck), Buffer.from(new Float32Array(readFileSync(weightsOf(ck)).byteLength / 4).fill(NaN).buffer));
    reseal(ck);
  });
  const before = readdirSync(path.join(run, 'checkpoints')).sort();
  const r = await cli('train', graphFile, ...trainArgs, '--epochs', '3', '--resume', run);
  assert.equal(r.code, 1);
  assert.match(JSON.parse(r.out.at(-1)!).message, /^training failed: the loss is NaN at epoch 3, batch 1 \(step \d+\): the weights are no longer finite/);
  assert.deepEqual(readdirSync(path.join(run, 'checkpoints')).sort(), before);
  assert.equal(((await s.service.dispatch('listRuns', {})) as RunSummary[]).find((x) => x.runId === 'nan')?.state, 'failed');
});

test('a refused startTraining leaves no run folder behind', { timeout: 120_000 }, async () => {
  const host = await sandbox('browser', { training: new ProcessTrainingDriver(forkTraining) });
  const runs = path.join(host.root, 'runs');
  try {
    const start = { graph: tinyMnistGraph(), dataset: { name: 'mnist', limit: 400 }, config: { epochs: 50, batchSize: 8 }, backend: 'cpu' };
    const { runId } = (await host.service.dispatch('startTraining', start)) as { runId: string };
    await assert.rejects(host.service.dispatch('startTraining', start), /is still training: stop it first/);
    assert.deepEqual(readdirSync(runs), [runId]);
    await host.service.dispatch('stopTraining', { runId });
  } finally {
    await host.service.dispose();
    await host.cleanup();
  }
});
