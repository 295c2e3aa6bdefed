// `attn sweep` end to end, as a user runs it: SE reduction {2, 8} × lr {1e-3,
// 1e-2} on the small SE-CNN over MNIST writes four ordinary run folders and a
// manifest whose best trial is the one with the highest validation accuracy
// (read back from each run's own metrics); `attn compare` on two of them names
// the lr and the SE block's reduction. A sweep killed with SIGKILL mid-way and
// run again runs only the trials that had not finished.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { attn, attnBin, flags } from './helpers/cli.js';
import { MNIST_GRID } from './helpers/sweeps.js';
import type { SweepManifest } from '../engine/sweep/index.js';
import type { RunComparison } from '../engine/runs/index.js';

const seCnn = fileURLToPath(new URL('../../templates/bench-se-cnn.attn.json', import.meta.url));
const sweepArgs = (out: string, parallel: number) => [
  'sweep',
  seCnn,
  ...flags({
    dataset: 'mnist',
    limit: 400,
    epochs: 1,
    batchSize: 32,
    seed: 1,
    param: ['se.reduction=2,8', 'lr=1e-3,1e-2'],
    strategy: 'grid',
    earlyStop: 'none',
    parallel,
    out,
  }),
];
const manifestOf = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'sweep.json'), 'utf8')) as SweepManifest;
/** A run's last validation accuracy, from its own metrics.jsonl. */
const valAccuracy = (run: string) => JSON.parse(readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').at(-1)!).val_accuracy as number;

test('attn sweep: 2 × 2 grid writes 4 runs; the best trial has the highest validation accuracy; attn compare names what differs', async () => {
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'attn-sweep-')), 'sweep');
  const r = await attn(...sweepArgs(out, 2));
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const m = manifestOf(out);
  assert.deepEqual(
    m.trials.map((t) => [t.values['se.reduction'], t.values.lr]),
    [
      [2, 0.001],
      [2, 0.01],
      [8, 0.001],
      [8, 0.01],
    ],
  );
  const accuracies = new Map<string, number>();
  for (const t of m.trials) {
    const run = path.join(out, t.run);
    assert.equal(t.status, 'done', `${t.id}: ${t.error}`);
    assert.equal(JSON.parse(readFileSync(path.join(run, 'run.json'), 'utf8')).state, 'done');
    const graph = JSON.parse(readFileSync(path.join(run, 'graph.attn.json'), 'utf8'));
    assert.equal(graph.nodes.find((n: { id: string }) => n.id === 'se').params.reduction, t.values['se.reduction']);
    assert.equal(JSON.parse(readFileSync(path.join(run, 'config.json'), 'utf8')).lr, t.values.lr);
    accuracies.set(t.id, valAccuracy(run));
    assert.equal(t.metric, accuracies.get(t.id));
  }
  const highest = Math.max(...accuracies.values());
  assert.equal(accuracies.get(m.best!), highest, `best ${m.best} of ${JSON.stringify([...accuracies])}`);
  const starred = r.stdout.split('\n').find((l) => l.startsWith('*'))!;
  assert.match(starred, new RegExp(`^\\*\\s+${m.best}\\s`));
  assert.match(r.stdout, new RegExp(`best: ${m.best}`));

  const c = await attn('compare', path.join(out, 'trial-001'), path.join(out, 'trial-004'), '--json');
  assert.equal(c.code, 0, c.stderr);
  const cmp = JSON.parse(c.stdout) as RunComparison;
  assert.deepEqual(
    cmp.settingsDiff.map((d) => d.key),
    ['lr'],
  );
  assert.deepEqual(cmp.settingsDiff[0].values, [0.001, 0.01]);
  assert.deepEqual(cmp.graphDiffs[0].diff.changed, [{ id: 'se', params: [{ param: 'reduction', before: 2, after: 8 }] }]);
  assert.ok(
    cmp.runs.every((run) => run.epochs.length === 1 && run.batches.length > 0),
    'both runs carry their curves',
  );
  const text = await attn('compare', path.join(out, 'trial-001'), path.join(out, 'trial-004'));
  assert.match(text.stdout, /~ node se: reduction 2 -> 8/);
  assert.match(text.stdout, /lr\s+0\.0010\s+0\.0100/);
});

test('attn sweep killed with SIGKILL mid-way: running it again runs only the trials that had not finished', async () => {
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'attn-sweep-kill-')), 'sweep');
  const child = spawn(process.execPath, [attnBin, ...sweepArgs(out, 1)], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  // Kill once one trial has finished and the next is training.
  for (let waited = 0; ; waited += 100) {
    assert.ok(waited < 300_000, 'the first trial never finished');
    const m = existsSync(path.join(out, 'sweep.json')) ? manifestOf(out) : undefined;
    if (m && m.trials.some((t) => t.status === 'done') && m.trials.some((t) => t.status === 'running' && t.pid)) break;
    await sleep(100);
  }
  child.kill('SIGKILL');
  await exited;
  const before = manifestOf(out);
  const finished = before.trials.filter((t) => t.status === 'done');
  assert.ok(finished.length >= 1 && finished.length < 4, `${finished.length} finished before the kill`);
  const runJson = (id: string) => path.join(out, id, 'run.json');
  const stamps = new Map(finished.map((t) => [t.id, statSync(runJson(t.id)).mtimeMs]));

  const r = await attn(...sweepArgs(out, 1));
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, new RegExp(`resuming: ${finished.length} of 4 trials already finished`));
  const started = [...r.stdout.matchAll(/^(trial-\d+) started/gm)].map((x) => x[1]);
  assert.deepEqual(
    started,
    before.trials.filter((t) => t.status !== 'done').map((t) => t.id),
    'only the unfinished trials ran',
  );
  const after = manifestOf(out);
  assert.ok(
    after.trials.every((t) => t.status === 'done'),
    JSON.stringify(after.trials),
  );
  assert.equal(after.state, 'done');
  for (const t of finished) {
    assert.equal(statSync(runJson(t.id)).mtimeMs, stamps.get(t.id), `${t.id} was not run again`);
    assert.deepEqual(
      after.trials.find((x) => x.id === t.id),
      t,
    );
  }
  for (const t of after.trials) assert.equal(JSON.parse(readFileSync(runJson(t.id), 'utf8')).state, 'done', t.id);
});

test("attn sweep: a bad --param exits 2 naming it; another sweep's folder is refused", async () => {
  const r = await attn('sweep', seCnn, '--dataset', 'mnist', '--param', 'se.ratio=2,8');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /attn sweep: --param 'se.ratio=2,8': node "se" \(attention.squeezeExcitation\) has no parameter "ratio"/);
  const syntax = await attn('sweep', seCnn, '--dataset', 'mnist', '--param', 'lr=1e-2:1e-3:log');
  assert.equal(syntax.code, 2);
  assert.match(syntax.stderr, /--param 'lr=1e-2:1e-3:log': the range 0.01:0.001 is empty/);
  const other = mkdtempSync(path.join(tmpdir(), 'attn-sweep-other-'));
  const spec = {
    graph: seCnn,
    params: ['se.reduction=2,4'],
    ...MNIST_GRID,
    backend: 'auto',
    train: {},
  };
  writeFileSync(path.join(other, 'sweep.json'), JSON.stringify({ format: 'attention-studio.sweep', version: 1, name: 'x', spec, state: 'done', trials: [] }));
  const mixed = await attn('sweep', seCnn, '--dataset', 'mnist', '--param', 'se.reduction=2,8', '--out', other);
  assert.equal(mixed.code, 2);
  assert.match(mixed.stderr, /holds a sweep with other settings \(params\); give another --out/);
  const help = await attn('sweep', '--help');
  assert.match(help.stdout, /name=lo:hi:log\s+floats, log-uniform/);
  assert.match(help.stdout, /node\.param=v1,v2/);
});
