// Runs a Python script without blocking the event loop, so node:test's own timeouts still hold; killed after `timeoutMs`.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PYTHON } from './torch.js';

/** Runs PYTHON with `args`; its stdout, or an error naming the script with its stderr (and whether it was killed for time). */
export async function runPython(args: string[], timeoutMs: number): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(PYTHON, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1 << 26 });
    return stdout;
  } catch (err) {
    const e = err as { killed?: boolean; stderr?: string; message: string };
    const why = e.killed ? `killed after ${timeoutMs / 1000} s` : e.message;
    throw new Error(`${PYTHON} ${args.join(' ')}: ${why}\n${e.stderr ?? ''}`);
  }
}
