// A test-only hook into the writes of a run folder. With
// ATTN_TEST_CHECKPOINT_PAUSE=<point>[#<n>] the process stops the n-th time
// (default: the first) it reaches that point, after appending the point's name
// to the file ATTN_TEST_CHECKPOINT_PAUSE_REPORT; the test then kills it with
// SIGKILL, which is how test/runs-kill.test.ts checks that a kill at any point
// leaves the run folder consistent. Unset, it costs one lookup per point.
import { appendFileSync } from 'node:fs';

/** The points of a checkpoint write, in order (see writeCheckpoint), and the metrics row after it. */
export const WRITE_POINTS = [
  'tmp-created',
  'file-written',
  'files-written',
  'manifest-written',
  'old-moved-aside',
  'renamed',
  'latest-tmp-written',
  'latest-written',
  'prune-moved',
  'metrics-row',
] as const;
export type WritePoint = (typeof WRITE_POINTS)[number];

let reached = 0;

export async function writePoint(point: WritePoint): Promise<void> {
  const want = process.env.ATTN_TEST_CHECKPOINT_PAUSE;
  if (!want) return;
  const [name, nth = '1'] = want.split('#');
  if (name !== point || ++reached !== Number(nth)) return;
  const report = process.env.ATTN_TEST_CHECKPOINT_PAUSE_REPORT;
  if (report) appendFileSync(report, `${point}\n`);
  await new Promise(() => setInterval(() => undefined, 60_000));
}
