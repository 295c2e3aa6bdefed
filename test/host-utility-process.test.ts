// The desktop training entry (electron/training-entry.ts) runs the real training
// worker over Electron's process.parentPort. Without the Electron binary, a Node
// child stands in for the utility process: its parentPort is an EventEmitter with
// Electron's shape (test/helpers/parent-port.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eventSchema, SERIALIZATION, type TrainEvent } from '../engine/worker/protocol.js';
import { tinyMnistGraph } from './host-fixtures.js';
import { parentPortStandIn, TRAINING_ENTRY } from './helpers/parent-port.js';

test('the utility-process entry runs the training worker over parentPort, maps arriving as Float32Arrays', { timeout: 90_000 }, async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'attn-utility-'));
  try {
    const child = fork(TRAINING_ENTRY, [], {
      serialization: SERIALIZATION,
      execArgv: await parentPortStandIn(dir),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const events: TrainEvent[] = [];
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const done = new Promise<TrainEvent>((resolve, reject) => {
      child.on('message', (raw) => {
        const e = eventSchema.parse(raw);
        events.push(e);
        if (e.type === 'done') resolve(e);
        if (e.type === 'error') reject(new Error(e.message));
      });
      child.on('exit', (code) => reject(new Error(`the entry exited with ${code}; events: ${events.map((x) => x.type).join(', ')}`)));
    });
    child.send({
      type: 'start',
      graph: tinyMnistGraph(),
      dataset: { name: 'mnist', limit: 48 },
      config: { epochs: 1, batchSize: 16, probe: { enabled: true, samples: 2, everyBatches: 1, minIntervalMs: 0 } },
      backend: 'cpu',
      out: { dir: path.join(dir, 'run') },
    });
    const end = await done;
    assert.ok(end.type === 'done' && end.reason === 'completed');
    assert.ok(events.some((e) => e.type === 'started'));
    assert.ok(events.some((e) => e.type === 'progress'));
    const att = events.find((e) => e.type === 'attention');
    assert.ok(att?.type === 'attention' && att.maps[0].data instanceof Float32Array);
    // The worker disconnects when the run is over; the entry then ends the process.
    assert.equal(await exited, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
