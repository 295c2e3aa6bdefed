// Runs the `attn` command as a user does: its own Node process, exit code and output kept.
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
