// Each test file's wall time in a node --test run: the runner reports a file as a
// test of its own (its name is the file's path), and that test's duration is the
// file's process from start to exit. The verdict-check reporter prints the slowest
// at the end of the run, and with ATTN_TEST_TIMES=FILE writes them all there.
import path from 'node:path';

interface FileEvent {
  type: string;
  data?: { name?: string; file?: string; details?: { duration_ms?: number } };
}

/** Seconds per test file, keyed by its path relative to the runner's directory (as npm test names it). */
export class FileTimes {
  private readonly seconds = new Map<string, number>();

  record(event: FileEvent): void {
    const data = event.data;
    if (event.type !== 'test:complete' || !data?.file || data.name !== data.file) return;
    const ms = data.details?.duration_ms;
    if (ms !== undefined) this.seconds.set(relative(data.file), ms / 1000);
  }

  /** The files, slowest first. */
  sorted(): [string, number][] {
    return [...this.seconds].sort((a, b) => b[1] - a[1]);
  }

  /** Lines listing the `count` slowest files and the sum over all of them. */
  slowest(count: number): string[] {
    const all = this.sorted();
    if (all.length === 0) return [];
    const total = all.reduce((sum, [, s]) => sum + s, 0);
    return [
      `the ${Math.min(count, all.length)} slowest of ${all.length} test files (wall seconds of each file's process; all files: ${total.toFixed(0)} s):`,
      ...all.slice(0, count).map(([file, s]) => `  ${s.toFixed(1).padStart(7)}  ${file}`),
    ];
  }

  /** All files' seconds (one decimal), slowest first. */
  toJSON(): Record<string, number> {
    return Object.fromEntries(this.sorted().map(([file, s]) => [file, Math.round(s * 10) / 10]));
  }
}

function relative(file: string): string {
  return path.isAbsolute(file) ? path.relative(process.cwd(), file) : file;
}
