// Loaded into every test file's process (`node --import ./test/helpers/exit-watchdog.js
// --test`). Once a file's last test has ended, the process should exit by itself;
// if something the tests opened still holds it (a child process, a server, a
// browser, a worker, a timer), the file would hang CI. After a grace period this
// says which file and what is still open, and exits with a failure, so the leak
// fails that file instead of hanging the run or hiding behind --test-force-exit,
// whose early exit loses test verdicts (nodejs/node#64833).
import { after } from 'node:test';
import { AsyncResource } from 'node:async_hooks';
import path from 'node:path';
import { openHandles } from './open-handles.js';

/** How long a file's process may take to exit after its last test, in ms (ATTN_EXIT_GRACE_MS). */
const GRACE_MS = Number(process.env.ATTN_EXIT_GRACE_MS ?? 10_000);

// Only in the processes that run a test file (the runner itself sets NODE_TEST_CONTEXT
// for them); in the runner this must add nothing.
if (process.env.NODE_TEST_CONTEXT) {
  // Loaded before the test file, this is the first of the file's top-level `after`
  // hooks. It appends the watch as the last one, so that the file's own cleanup runs
  // before the grace period starts. (`after` attaches to the test or hook it is
  // called from; called in this scope, made outside any test, it attaches to the root.)
  const topLevel = new AsyncResource('attn-exit-watchdog');
  after(() => {
    topLevel.runInAsyncScope(() => after(startWatch));
  });
}

function startWatch(): void {
  setTimeout(() => {
    const file = path.relative(process.cwd(), process.argv[1] ?? '?');
    const open = openHandles();
    const message =
      `\n${file}: the process was still running ${GRACE_MS / 1000} s after its last test, held by:\n` +
      (open.length ? open.map((line) => `  - ${line}\n`).join('') : '  - (nothing Node can name; a native addon?)\n') +
      `Close these where the test opens them (kill child processes, close servers, browsers, workers; clear timers).\n`;
    process.exitCode = 1;
    process.stderr.write(message, () => process.exit(1));
  }, GRACE_MS).unref();
}
