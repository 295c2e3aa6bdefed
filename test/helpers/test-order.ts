// Prints npm test's test files (test/*.test.js and test/e2e/*.test.js, run from dist/),
// slowest first by test/helpers/test-times.json, so that with --test-concurrency=2
// the long files start early and the run does not end with one of them running
// alone. node --test starts files in the order given. A file missing from the list
// (a new one) goes first: its time is unknown, and a long one must not start last.
// Refresh the list from a run: ATTN_TEST_TIMES=../test/helpers/test-times.json npm test
// (the verdict-check reporter writes it), then prettier.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const TIMES = new URL('../../../test/helpers/test-times.json', import.meta.url);

/** The test files npm test runs, relative to `dist` (what its `test/*.test.js test/e2e/*.test.js` matched). */
export function testFiles(dist: string): string[] {
  return ['test', 'test/e2e'].flatMap((dir) =>
    readdirSync(`${dist}/${dir}`)
      .filter((name) => name.endsWith('.test.js'))
      .sort()
      .map((name) => `${dir}/${name}`),
  );
}

/** `files`, those without a time first (in their given order), then the others slowest first. */
export function slowestFirst(files: string[], seconds: Record<string, number>): string[] {
  const known = (file: string) => Object.hasOwn(seconds, file);
  return [...files.filter((f) => !known(f)), ...files.filter(known).sort((a, b) => seconds[b] - seconds[a])];
}

export function readTimes(): Record<string, number> {
  return JSON.parse(readFileSync(TIMES, 'utf8')) as Record<string, number>;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dist = fileURLToPath(new URL('../../', import.meta.url));
  process.stdout.write(slowestFirst(testFiles(dist), readTimes()).join('\n') + '\n');
}
