// The guards in `npm test`'s node --test command, run as package.json spells it on
// small fixture files: a test file whose process ends mid-test must fail the run,
// naming the file and the tests left without a verdict (test/helpers/verdict-check.ts),
// and a test file that leaves something open must fail, naming what (test/helpers/exit-watchdog.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { VerdictLedger } from './helpers/verdict-check.js';

const DIST = fileURLToPath(new URL('../', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = 'test/fixtures/runner';

/** The arguments of `npm test`'s `node --test` (run in dist/), without its test files. */
function npmTestRunnerArgs(): string[] {
  const script: string = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')).scripts.test;
  const command = /node (--[^&|;]*?--test[^&|;]*)$/.exec(script);
  assert.ok(command, `package.json's test script runs no "node … --test …" last: ${script}`);
  return command[1].split(/\s+/).filter((arg) => arg.startsWith('--'));
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs npm test's node --test on the fixture files, killed after 60 s. */
function runGuarded(files: string[], env: Record<string, string> = {}): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  // Set for this file's own process; a runner that inherits it would run as a child, not as a runner.
  delete childEnv.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, [...npmTestRunnerArgs(), ...files.map((f) => `${FIXTURES}/${f}`)], { cwd: DIST, env: childEnv });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node --test on ${files.join(', ')} ran past 60 s:\n${stdout}\n${stderr}`));
    }, 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test("npm test's runner loads the exit watchdog and the verdict check, without --test-force-exit", () => {
  const args = npmTestRunnerArgs();
  assert.ok(args.includes('--import=./test/helpers/exit-watchdog.js'), args.join(' '));
  assert.ok(args.includes('--test-reporter=./test/helpers/verdict-check.js'), args.join(' '));
  assert.ok(!args.includes('--test-force-exit'), 'its early exit loses verdicts (nodejs/node#64833)');
});

test('a test file whose process exits mid-test fails the run, naming the file and the tests without a verdict', { timeout: 90_000 }, async () => {
  const run = await runGuarded(['exits-mid-test.js', 'clean.js']);
  assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
  assert.match(run.stderr, /3 test\(s\) in 1 file\(s\) were queued but never got a verdict/);
  assert.match(run.stderr, /test\/fixtures\/runner\/exits-mid-test\.js:\n/);
  assert.match(run.stderr, /'exits mid-test' \(line \d+\) started and never finished/);
  assert.match(run.stderr, /'never runs' \(line \d+\) never started/);
  assert.match(run.stderr, /'a suite' \(line \d+\) started and never finished/);
  const verdicts = run.stderr.slice(run.stderr.indexOf('verdict check'));
  assert.doesNotMatch(verdicts, /clean\.js/, 'the clean file got all its verdicts');
});

test("a run whose every test got a verdict passes the check, and ends with its files' wall times", { timeout: 90_000 }, async () => {
  const times = path.join(mkdtempSync(path.join(tmpdir(), 'attn-times-')), 'times.json');
  const run = await runGuarded(['clean.js'], { ATTN_TEST_TIMES: times });
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  assert.match(run.stderr, /verdict check: 3 verdicts from 1 test files, none missing/);
  assert.match(
    run.stderr,
    /the 1 slowest of 1 test files \(wall seconds of each file's process; all files: \d+ s\):\n +\d+\.\d {2}test\/fixtures\/runner\/clean\.js\n/,
  );
  // The file's time is its process's: its 1 s top-level `after` included.
  const written = JSON.parse(readFileSync(times, 'utf8')) as Record<string, number>;
  assert.deepEqual(Object.keys(written), ['test/fixtures/runner/clean.js']);
  assert.ok(written['test/fixtures/runner/clean.js'] >= 1, JSON.stringify(written));
});

test('a test file that leaves a server open fails after the grace period, naming the server', { timeout: 90_000 }, async () => {
  const run = await runGuarded(['leaves-server-open.js', 'clean.js'], { ATTN_EXIT_GRACE_MS: '500' });
  assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
  const output = run.stdout + run.stderr;
  assert.match(
    output,
    /test\/fixtures\/runner\/leaves-server-open\.js: the process was still running 0\.5 s after its last test, held by:\n {2}- server listening on \{"address":"127\.0\.0\.1"/,
  );
  assert.match(output, /✔ opens a server and forgets it/, 'its test itself passed, and said so');
  assert.match(run.stderr, /verdict check: 4 verdicts from 2 test files, none missing/);
});

test('a test that never ends fails by its timeout, and its file still ends after the grace period', { timeout: 90_000 }, async () => {
  const run = await runGuarded(['hangs.js'], { ATTN_EXIT_GRACE_MS: '500' });
  assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
  const output = run.stdout + run.stderr;
  assert.match(output, /✖ waits forever .*\n\s+'test timed out after 300ms'/);
  assert.match(output, /hangs\.js: the process was still running 0\.5 s after its last test, held by:\n {2}- 1 × Timeout/);
});

test('the ledger holds a test that was queued twice under one name until both have a verdict', () => {
  const ledger = new VerdictLedger();
  const at = (type: string, line: number) => ({ type, data: { name: 'same name', nesting: 0, file: '/x.test.js', line } });
  ledger.record(at('test:enqueue', 1));
  ledger.record(at('test:enqueue', 2));
  ledger.record(at('test:dequeue', 1));
  ledger.record(at('test:pass', 1));
  assert.deepEqual(
    ledger.lost().map((t) => t.where),
    [' (line 2)'],
  );
  ledger.record(at('test:pass', 2));
  assert.deepEqual(ledger.problems(), []);
});
