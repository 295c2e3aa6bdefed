// A rank left waiting in a collective for longer than ATTN_COLLECTIVE_TIMEOUT_S
// fails the run with a message that says so, not only gloo's "Timed out
// waiting …ms for recv operation".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PytorchRun } from '../engine/pytorch/run.js';
import { tinyMlp } from './train-fixtures.js';
import { skipWithoutTorch } from './helpers/torch.js';

test('a rank stopped mid-run: the other one fails after the collective timeout, saying it waited in a collective', async (t) => {
  if (skipWithoutTorch(t, 'DDP collective timeout')) return;
  const saved = process.env.ATTN_COLLECTIVE_TIMEOUT_S;
  // Long enough for both ranks to meet at start on a loaded machine; the stall is then the test's.
  process.env.ATTN_COLLECTIVE_TIMEOUT_S = '10';
  let stopped: number | undefined;
  let run: PytorchRun | undefined;
  try {
    run = await PytorchRun.setup(
      {
        graph: tinyMlp(),
        dataset: { name: 'mnist', limit: 1000 },
        config: { epochs: 200, batchSize: 50 },
        out: { dir: mkdtempSync(path.join(tmpdir(), 'attn-pytorch-timeout-')) },
        pytorch: { device: 'cpu', nproc: 2 },
      },
      (e) => {
        // Rank 1 stops (SIGSTOP) once training is under way: rank 0 waits for it in the next collective.
        if (e.type === 'progress' && stopped === undefined) {
          stopped = run!.rankPids[1];
          if (stopped) process.kill(stopped, 'SIGSTOP');
        }
      },
    );
    const failed = run.run();
    await assert.rejects(failed, (err: Error) => {
      assert.match(err.message, /rank 0 waited 10 s in a collective \(ATTN_COLLECTIVE_TIMEOUT_S\) for a rank that never joined it/);
      assert.match(err.message, /[Tt]imed out/, "gloo's own words are kept");
      return true;
    });
    assert.ok(stopped, 'rank 1 was stopped');
  } finally {
    if (stopped) {
      try {
        process.kill(stopped, 'SIGKILL');
      } catch {
        // already ended by the run
      }
    }
    run?.dispose();
    if (saved === undefined) delete process.env.ATTN_COLLECTIVE_TIMEOUT_S;
    else process.env.ATTN_COLLECTIVE_TIMEOUT_S = saved;
  }
});
