// kill -9 at any point of a checkpoint write: the real training process is
// stopped at each named point of the write (engine/runs/test-pause.ts), killed
// with SIGKILL, and the run continued every time. Each continuation starts from
// the newest complete checkpoint on disk, nothing half-written stays behind,
// keepCheckpoints holds, metrics.jsonl has one row per epoch, and the run that
// was killed eleven times ends with the numbers of an uninterrupted one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TrainingClient } from '../engine/worker/client.js';
import type { StartCommand } from '../engine/worker/protocol.js';
import type { TrainEvent, TrainEventOf } from '../engine/schemas/train-events.js';
import { WRITE_POINTS } from '../engine/runs/index.js';
import { tinyMlp } from './train-fixtures.js';

const KEEP = 2;
const EPOCHS = 14;
// 100 MNIST samples, 90 for training in batches of 45: two batches an epoch, and an
// interval checkpoint at the end of every epoch that the epoch's checkpoint replaces.
const config = { epochs: EPOCHS, batchSize: 45, lr: 0.05, seed: 5, checkpointEvery: 2, keepCheckpoints: KEEP, probe: { enabled: false } };
const start = (over: Partial<Omit<StartCommand, 'type'>>): Omit<StartCommand, 'type'> => ({
  graph: tinyMlp(),
  dataset: { name: 'mnist', limit: 100, seed: 5 },
  config,
  backend: 'cpu',
  ...over,
});

/** Every point of the write once (the first run is stopped in its third write, so that a checkpoint exists). */
const KILLS = [
  'tmp-created#3',
  'file-written',
  'file-written#2',
  'files-written',
  'manifest-written',
  'old-moved-aside',
  'renamed',
  'latest-tmp-written',
  'latest-written',
  'prune-moved',
  'metrics-row',
];

interface OnDisk {
  name: string;
  step: number;
  epoch: number;
  kind: 'final' | 'tmp' | 'old' | 'del';
  complete: boolean;
}

/** What checkpoints/ holds, by this test's own reading: complete means the manifest is there and every file matches its sha256. */
function onDisk(run: string): OnDisk[] {
  const dir = path.join(run, 'checkpoints');
  return readdirSync(dir).flatMap((name) => {
    const m = /^step-(\d+)(?:\.(tmp|old|del)-\d+)?$/.exec(name);
    if (!m) return [];
    const manifestFile = path.join(dir, name, 'checkpoint.json');
    let complete = false;
    let epoch = -1;
    if (existsSync(manifestFile)) {
      const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { epoch: number; files: Record<string, { sha256: string }> };
      epoch = manifest.epoch;
      complete = Object.entries(manifest.files).every(
        ([f, { sha256 }]) =>
          existsSync(path.join(dir, name, f)) &&
          createHash('sha256')
            .update(readFileSync(path.join(dir, name, f)))
            .digest('hex') === sha256,
      );
    }
    return [{ name, step: Number(m[1]), epoch, kind: (m[2] ?? 'final') as OnDisk['kind'], complete }];
  });
}

/** The checkpoint a continuation must start from: the newest complete one (a finished replacement before the one it replaces). */
function newestComplete(disk: OnDisk[]): OnDisk {
  const rank = { tmp: 2, final: 1, old: 0, del: -1 };
  const candidates = disk.filter((c) => c.complete && c.kind !== 'del').sort((a, b) => a.step - b.step || rank[a.kind] - rank[b.kind]);
  assert.ok(candidates.length, 'a complete checkpoint exists');
  return candidates.at(-1)!;
}

function metricEpochs(run: string): number[] {
  const text = existsSync(path.join(run, 'metrics.jsonl')) ? readFileSync(path.join(run, 'metrics.jsonl'), 'utf8') : '';
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => (JSON.parse(l) as { epoch: number }).epoch);
}

/** Runs a training process until it stops at `point`, then kills it with SIGKILL. */
async function killAt(point: string, report: string, cmd: Omit<StartCommand, 'type'>): Promise<{ events: TrainEvent[]; pid: number }> {
  process.env.ATTN_TEST_CHECKPOINT_PAUSE = point;
  process.env.ATTN_TEST_CHECKPOINT_PAUSE_REPORT = report;
  const client = TrainingClient.start(cmd);
  delete process.env.ATTN_TEST_CHECKPOINT_PAUSE;
  delete process.env.ATTN_TEST_CHECKPOINT_PAUSE_REPORT;
  const events: TrainEvent[] = [];
  client.on('event', (e) => events.push(e));
  let ended = false;
  const done = client.done.then(
    () => assert.fail(`the run finished without reaching ${point}`),
    (err: Error) => ((ended = true), err),
  );
  const name = point.split('#')[0];
  while (!(existsSync(report) && readFileSync(report, 'utf8').split('\n').includes(name))) {
    assert.ok(!ended, `the process ended before reaching ${point}: ${ended && (await done).message}`);
    await sleep(20);
  }
  client.kill('SIGKILL');
  const err = await done;
  assert.match(err.message, /killed \(SIGKILL\)/);
  return { events, pid: client.child.pid! };
}

test(
  'kill -9 at every point of a checkpoint write: every continuation starts from the newest complete checkpoint and the run ends as an uninterrupted one',
  { timeout: 300_000 },
  async () => {
    assert.deepEqual([...new Set(KILLS.map((k) => k.split('#')[0]))].sort(), [...WRITE_POINTS].sort(), 'every point of the write is killed at');
    const root = mkdtempSync(path.join(tmpdir(), 'attn-runs-kill-'));
    const run = path.join(root, 'run');
    for (const [i, point] of KILLS.entries()) {
      const report = path.join(root, `report-${i}`);
      const expected = i === 0 ? undefined : newestComplete(onDisk(run));
      const { events, pid } = await killAt(point, report, i === 0 ? start({ out: { dir: run } }) : start({ resumeFrom: run }));
      if (expected) {
        const started = events.find((e): e is TrainEventOf<'started'> => e.type === 'started');
        assert.equal(
          started?.resumedFrom,
          path.join(run, 'checkpoints', `step-${String(expected.step).padStart(6, '0')}`),
          `after the kill before this one, continued from the newest complete checkpoint (${point})`,
        );
      }
      const disk = onDisk(run);
      // Leftovers are only the killed process's own: the continuation tidied up the earlier ones.
      for (const c of disk.filter((d) => d.kind !== 'final'))
        assert.ok(c.name.endsWith(`-${pid}`), `${c.name} left over from an earlier kill (killed at ${point})`);
      assert.ok(
        disk.filter((d) => d.kind === 'final').length <= KEEP + 1,
        `at most one checkpoint over keepCheckpoints while writing (killed at ${point}): ${disk.map((d) => d.name)}`,
      );
      const epochs = metricEpochs(run);
      assert.deepEqual(
        epochs,
        epochs.map((_, k) => k),
        `one metrics row per epoch, in order (killed at ${point})`,
      );
    }

    const last = newestComplete(onDisk(run));
    const finish = TrainingClient.start(start({ resumeFrom: run }));
    const resumed: TrainEvent[] = [];
    finish.on('event', (e) => resumed.push(e));
    const done = await finish.done;
    assert.equal((resumed[0] as TrainEventOf<'started'>).resumedFrom, path.join(run, 'checkpoints', `step-${String(last.step).padStart(6, '0')}`));
    assert.equal(done.epochs, EPOCHS);

    const disk = onDisk(run);
    assert.deepEqual(
      disk.filter((d) => d.kind !== 'final'),
      [],
      'nothing half-written is left',
    );
    assert.equal(disk.length, KEEP, `keepCheckpoints (${KEEP}) holds: ${disk.map((d) => d.name)}`);
    assert.deepEqual(
      metricEpochs(run),
      Array.from({ length: EPOCHS }, (_, k) => k),
      'one metrics row per epoch',
    );
    const latest = JSON.parse(readFileSync(path.join(run, 'checkpoints', 'latest.json'), 'utf8'));
    assert.equal(latest.step, done.steps);

    // The same run without a kill: the same numbers, epoch by epoch.
    const plain = path.join(root, 'plain');
    await TrainingClient.start(start({ out: { dir: plain } })).done;
    const rows = (dir: string) =>
      readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => {
          const { seconds: _s, ...row } = JSON.parse(l) as Record<string, number>;
          return row;
        });
    assert.deepEqual(rows(run), rows(plain));
  },
);
