// The harness's own promise: a browser-mode server that fails to start is stopped,
// so it cannot hold its test file's process open (CI would wait on it forever).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serve } from './harness.js';
import { openHandles } from '../helpers/open-handles.js';

test('a serve.js that prints no URL in time is stopped, not left running', { timeout: 60_000 }, async () => {
  await assert.rejects(serve(1), /serve\.js printed no URL in 0\.001 s/);
  assert.deepEqual(
    openHandles().filter((handle) => handle.includes('serve.js')),
    [],
  );
});
