// Runs the `attn` command as a user does: its own Node process, exit code and output kept.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

export const attnBin = fileURLToPath(new URL('../../../bin/attn.js', import.meta.url));
/** The broken-graph corpus. */
export const brokenDir = fileURLToPath(new URL('../../../test/fixtures/broken/', import.meta.url));

/** Longest an `attn` command may run in a test (a ResNet-50 predict on a loaded 2-core machine takes minutes): then it is killed. */
const ATTN_TIMEOUT_MS = 540_000;

export async function attn(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [attnBin, ...args], { maxBuffer: 1 << 24, timeout: ATTN_TIMEOUT_MS });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** What `attn train --json` prints last: the run's done event. */
export interface TrainDone {
  type: 'done';
  metrics: Record<string, number>;
  samplesPerSec: number;
  [key: string]: unknown;
}

/** Runs `attn train ... --json` and returns its done event; a failed run or a last line of another kind fails the test. */
export async function attnTrain(...args: string[]): Promise<TrainDone> {
  const r = await attn('train', ...args, '--json');
  assert.equal(r.code, 0, r.stderr);
  const done = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as TrainDone;
  assert.equal(done.type, 'done');
  return done;
}

/** A flag's value: spelt out, repeated for a list, the bare flag for `true`. */
export type FlagValue = string | number | true | readonly (string | number)[];

/** `attn` flags from named settings, camelCase names as kebab-case flags: `{ batchSize: 32, json: true }` → `--batch-size 32 --json`. */
export function flags(settings: Record<string, FlagValue>): string[] {
  return Object.entries(settings).flatMap(([name, value]) => {
    const flag = `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    if (value === true) return [flag];
    return (Array.isArray(value) ? value : [value]).flatMap((v) => [flag, String(v)]);
  });
}
