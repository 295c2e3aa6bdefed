// When a rank is killed from outside, the others fail soon after (gloo's "connection
// closed by peer"), and one of them may be seen to end first: the killed rank's pipes
// can outlive it, held by a process it started. The run's error must still name the
// killed rank. Stand-in ranks (a shell script in place of Python) make that order certain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launchRanks } from '../engine/pytorch/launch.js';

test('a rank killed from outside is named as the cause, though another rank failed before its pipes closed', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-launch-cause-'));
  const rank = path.join(dir, 'rank.sh');
  writeFileSync(
    rank,
    [
      '#!/bin/sh',
      'if [ "$RANK" = 1 ]; then',
      '  sleep 30 &  # holds the stderr pipe after this rank is killed',
      '  exec sleep 30',
      'fi',
      'sleep 0.5',
      'echo "RuntimeError: Connection closed by peer" >&2',
      'exit 1',
      '',
    ].join('\n'),
  );
  chmodSync(rank, 0o755);
  const ranks = await launchRanks({ python: rank, specFile: path.join(dir, 'spec.json'), nproc: 2, logDir: dir, onLine: () => {} });
  const killed = ranks.pids[1]!;
  try {
    process.kill(killed, 'SIGKILL');
    await assert.rejects(ranks.exited, (err: Error) => {
      assert.match(err.message, /^PyTorch rank 1 of 2 was killed \(SIGKILL\)/);
      return true;
    });
  } finally {
    try {
      process.kill(-killed, 'SIGKILL'); // the sleep it started, in its process group
    } catch {
      // already gone
    }
  }
});
