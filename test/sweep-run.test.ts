// A sweep whose trial cannot train: the failure is recorded with its reason
// (naming the node) and the other trials run to their end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readManifest, Sweep, type SweepEvent } from '../engine/sweep/index.js';
import { tinyMnistGraph } from './host-fixtures.js';
import { MNIST_GRID } from './helpers/sweeps.js';

test('a failed trial records its error and the sweep goes on', { timeout: 180_000 }, async () => {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'attn-sweep-fail-')), 'sweep');
  const events: SweepEvent[] = [];
  const sweep = await Sweep.open(
    {
      graph: tinyMnistGraph(),
      graphFile: 'se-probe-net',
      // A 64×64 window over a 28×28 image: a shape error in the second trial only.
      params: ['pool.size=64,4'],
      ...MNIST_GRID,
      limit: 100,
      backend: 'cpu',
      train: { epochs: 1, batchSize: 20 },
      parallel: 1,
      dir,
    },
    (e) => events.push(e),
  );
  const m = await sweep.run();
  assert.deepEqual(
    m.trials.map((t) => t.status),
    ['failed', 'done'],
  );
  assert.match(m.trials[0].error!, /pool/, m.trials[0].error);
  assert.equal(m.trials[0].metric, undefined);
  assert.equal(m.best, 'trial-002');
  assert.equal(m.state, 'done');
  assert.deepEqual((await readManifest(dir))!.trials, m.trials, 'sweep.json holds the same');
  assert.deepEqual(
    events.filter((e) => e.type === 'trial-end').map((e) => (e as { trial: { id: string } }).trial.id),
    ['trial-001', 'trial-002'],
  );
});
