// Inspect on typed text through the host (the HostApi's inspectText, a training
// process answering): a run that was not trained on text cannot tokenise it, and
// says so instead of feeding the model garbage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { inspectInProcess } from '../engine/worker/client.js';
import { attn } from './helpers/cli.js';
import { sandbox, tinyMnistGraph } from './host-fixtures.js';

test('inspectText refuses a run that was not trained on text, with a message that says why', { timeout: 300_000 }, async () => {
  const s = await sandbox('browser', { inspect: (cmd) => inspectInProcess(cmd) });
  try {
    const graph = path.join(s.root, 'mnist.attn.json');
    await writeFile(graph, JSON.stringify(tinyMnistGraph()));
    const trained = await attn(
      'train',
      graph,
      '--dataset',
      'mnist',
      '--limit',
      '40',
      '--epochs',
      '1',
      '--backend',
      'cpu',
      '--out',
      path.join(s.root, 'runs', 'digits'),
    );
    assert.equal(trained.code, 0, trained.stderr);

    // The same run answers a validation sample, so the refusal is about text, not a broken run.
    const sample = (await s.service.dispatch('inspectSample', { runId: 'digits', index: 0 })) as { type: string };
    assert.equal(sample.type, 'inspection');
    await assert.rejects(s.service.dispatch('inspectText', { runId: 'digits', text: 'free money' }), (e: Error) =>
      /this run was not trained on text, so a text cannot be inspected: give a validation sample or an image/.test(e.message),
    );
  } finally {
    await s.service.dispose();
    await s.cleanup();
  }
});
