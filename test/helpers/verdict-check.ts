// A node:test reporter that checks the run's bookkeeping, not its results: every
// test that was queued (each test file among them) must end with a verdict (pass,
// fail, skip or todo). A test file's process that dies mid-test, or whose report
// is cut off (nodejs/node#64833, --test-force-exit), leaves tests without one,
// and node --test itself still exits 0. This reporter then names each such test
// and its file and fails the run (exit code 1). At the end it lists the slowest
// test files (test/helpers/file-times.ts), and with ATTN_TEST_TIMES=FILE it writes
// every file's time there as JSON.
//
//   node --test --test-reporter=spec --test-reporter-destination=stdout \
//        --test-reporter=./test/helpers/verdict-check.js --test-reporter-destination=stderr …
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { FileTimes } from './file-times.js';

interface TestEventData {
  name?: string;
  nesting?: number;
  file?: string;
  line?: number;
  column?: number;
}
interface TestEvent {
  type: string;
  data?: TestEventData;
}

interface Pending {
  name: string;
  file: string;
  where: string;
  started: boolean;
}

/** The tests of a run that were queued and have no verdict yet, in the order they were queued. */
export class VerdictLedger {
  private readonly pending = new Map<string, Pending[]>();
  /** Each test file seen, with how many verdicts its tests got. */
  private readonly files = new Map<string, number>();
  tests = 0;

  record(event: TestEvent): void {
    const data = event.data;
    if (!data || data.name === undefined || data.nesting === undefined) return;
    const file = data.file ?? '(no file)';
    // Node 20 reports each file as a test of its own, which gets no pass event
    // when its tests pass: for it, completing is the verdict.
    const isFile = data.name === data.file;
    const key = `${file}\0${data.nesting}\0${data.name}`;
    const list = this.pending.get(key) ?? [];
    switch (event.type) {
      case 'test:enqueue':
        if (!this.files.has(file)) this.files.set(file, 0);
        list.push({ name: data.name, file, where: location(data), started: false });
        this.pending.set(key, list);
        return;
      case 'test:dequeue': {
        const waiting = list.find((p) => !p.started);
        if (waiting) waiting.started = true;
        return;
      }
      case 'test:complete':
        if (isFile) this.settle(key, list);
        return;
      case 'test:pass':
      case 'test:fail':
        if (isFile) return this.settle(key, list);
        this.tests++;
        this.files.set(file, (this.files.get(file) ?? 0) + 1);
        this.settle(key, list);
        return;
    }
  }

  private settle(key: string, list: Pending[]): void {
    list.shift();
    if (list.length === 0) this.pending.delete(key);
  }

  /** Tests queued without a verdict. */
  lost(): Pending[] {
    return [...this.pending.values()].flat();
  }

  /** Empty when every queued test got a verdict; otherwise lines naming each test left without one. */
  problems(): string[] {
    if (this.files.size === 0) return ['verdict check: the run queued no tests at all (no test files matched?)'];
    const lost = this.lost();
    const silent = [...this.files].filter(([, verdicts]) => verdicts === 0).map(([file]) => file);
    if (lost.length === 0 && silent.length === 0) return [];
    const lines: string[] = [];
    for (const file of silent) lines.push(`verdict check: ${relative(file)} reported no tests at all (did its process exit before they ran?)`);
    if (lost.length === 0) return lines;
    const byFile = new Map<string, Pending[]>();
    for (const p of lost) byFile.set(p.file, [...(byFile.get(p.file) ?? []), p]);
    lines.push(`verdict check: ${lost.length} test(s) in ${byFile.size} file(s) were queued but never got a verdict (pass, fail or skip):`);
    for (const [file, tests] of byFile) {
      lines.push(`  ${relative(file)}:`);
      for (const t of tests) {
        const what = t.name === t.file ? 'the file itself' : `'${t.name}'`;
        lines.push(`    ${what}${t.where} ${t.started ? 'started and never finished' : 'never started'}`);
      }
    }
    lines.push('  Its process ended early, or its report was cut off: see the output of that file above.');
    return lines;
  }

  summary(): string {
    return `verdict check: ${this.tests} verdicts from ${this.files.size} test files, none missing`;
  }
}

function location(data: TestEventData): string {
  return data.line === undefined ? '' : ` (line ${data.line})`;
}

function relative(file: string): string {
  return path.isAbsolute(file) ? path.relative(process.cwd(), file) : file;
}

export default async function* verdictCheck(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const ledger = new VerdictLedger();
  const times = new FileTimes();
  for await (const event of source) {
    ledger.record(event);
    times.record(event);
  }
  yield `\n${times.slowest(15).join('\n')}\n`;
  const timesFile = process.env.ATTN_TEST_TIMES;
  if (timesFile) writeFileSync(timesFile, `${JSON.stringify(times.toJSON(), null, 2)}\n`);
  const problems = ledger.problems();
  if (problems.length > 0) {
    process.exitCode = 1;
    yield `\n${problems.join('\n')}\n`;
  } else {
    yield `${ledger.summary()}\n`;
  }
}
