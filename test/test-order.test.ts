// npm test starts its test files slowest first (test/helpers/test-order.ts), from the
// times in test/helpers/test-times.json, and still runs every test file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readTimes, slowestFirst, testFiles } from './helpers/test-order.js';

const DIST = fileURLToPath(new URL('../', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test('files without a time come first, in their order; the others slowest first', () => {
  const files = ['a.test.js', 'new.test.js', 'b.test.js', 'c.test.js', 'newer.test.js'];
  assert.deepEqual(slowestFirst(files, { 'a.test.js': 3, 'b.test.js': 40, 'c.test.js': 7, 'gone.test.js': 99 }), [
    'new.test.js',
    'newer.test.js',
    'b.test.js',
    'c.test.js',
    'a.test.js',
  ]);
});

test('npm test runs the files test-order.js prints: every test file of test/ and test/e2e/ once, the timed ones slowest first', () => {
  const script: string = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')).scripts.test;
  assert.match(script, /files=\$\(node test\/helpers\/test-order\.js\) && node [^&|;]*--test [^&|;]*\$files$/, script);
  const printed = execFileSync(process.execPath, ['test/helpers/test-order.js'], { cwd: DIST, encoding: 'utf8' }).trim().split('\n');
  const all = testFiles(DIST);
  assert.ok(all.includes('test/test-order.test.js') && all.includes('test/e2e/editor.test.js'), all.join(' '));
  assert.deepEqual([...printed].sort(), [...all].sort());
  const times = readTimes();
  const timed = printed.filter((f) => f in times);
  assert.ok(timed.length > all.length / 2, `test-times.json times only ${timed.length} of ${all.length} files: refresh it`);
  timed.forEach((f, i) => i === 0 || assert.ok(times[timed[i - 1]] >= times[f], `${timed[i - 1]} before ${f}`));
  assert.deepEqual(printed.slice(printed.length - timed.length), timed, 'the untimed files come first');
});
