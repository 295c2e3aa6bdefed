// Finding a Python with PyTorch: the interpreter asked for, else
// /usr/bin/python3, else `python3` on PATH; each is asked for its torch
// version and the devices torch sees. The first with torch wins.
//
// A page in browser mode may name the interpreter, so a name is checked before
// anything runs: it must resolve to an existing regular executable file whose
// name says Python, and it is then run only with the fixed probe below; what
// runs afterwards is that resolved file.
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

export interface TorchPython {
  /** The interpreter, as given or found. */
  python: string;
  pythonVersion: string;
  torch: string;
  /** CUDA (or ROCm) devices by name; empty when none. */
  cuda: string[];
  mps: boolean;
  /** Whether torch.distributed works (DDP, --nproc). */
  distributed: boolean;
}

const PROBE = `
import json, sys
try:
    import torch
except Exception as err:
    print(json.dumps({"python": sys.version.split()[0], "error": f"{type(err).__name__}: {err}"}))
    sys.exit(0)
cuda = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
mps = getattr(torch.backends, "mps", None)
print(json.dumps({"python": sys.version.split()[0], "torch": torch.__version__, "cuda": cuda,
                  "mps": bool(mps and mps.is_available()), "distributed": torch.distributed.is_available()}))
`;

export const DEFAULT_PYTHONS = ['/usr/bin/python3', 'python3'];

/** An interpreter named without a folder, looked up on PATH as a shell would; null when not found. */
async function onPath(name: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (
      await access(candidate, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  return null;
}

const looksLikePython = (file: string) => /python/i.test(path.basename(file));

/**
 * The absolute path an interpreter name stands for (PATH looked up), or why it
 * cannot be one: with symlinks resolved it must exist, be a regular file, be
 * executable and be named like a Python (python, python3.11, a venv's
 * bin/python…). The path itself, not its target, is what runs: a venv's
 * python is a symlink that finds its packages from where it is.
 */
export async function resolveInterpreter(python: string): Promise<{ file: string } | { reason: string }> {
  if (python.includes('\0')) return { reason: `the Python path ${JSON.stringify(python)} holds a NUL character` };
  const named = python.includes('/') || python.includes(path.sep) ? path.resolve(python) : await onPath(python);
  if (!named) return { reason: `no Python at ${python} (not found on PATH)` };
  let file: string;
  try {
    file = await realpath(named);
  } catch {
    return { reason: `no Python at ${python}` };
  }
  const info = await stat(file);
  if (!info.isFile()) return { reason: `${python} is not a Python interpreter: ${file} is not a regular file` };
  if (
    !(await access(file, constants.X_OK).then(
      () => true,
      () => false,
    ))
  )
    return { reason: `${python} is not a Python interpreter: ${file} is not executable` };
  if (!looksLikePython(named) && !looksLikePython(file))
    return { reason: `${python} is not a Python interpreter: its name does not say python (refused without running it)` };
  return { file: named };
}

/** One interpreter: its torch, or why it cannot train. The name is checked first (resolveInterpreter) and the resolved file is what runs. */
export async function probePython(given: string, timeoutMs = 60_000): Promise<TorchPython | { python: string; reason: string }> {
  const resolved = await resolveInterpreter(given);
  if ('reason' in resolved) return { python: given, reason: resolved.reason };
  return runProbe(resolved.file, timeoutMs);
}

function runProbe(python: string, timeoutMs: number): Promise<TorchPython | { python: string; reason: string }> {
  return new Promise((resolve) => {
    const child = spawn(python, ['-c', PROBE], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill(), timeoutMs);
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
      resolve({ python, reason: missing ? `no Python at ${python}` : `${python} could not run: ${e.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      let info: { python?: string; error?: string; torch?: string; cuda?: string[]; mps?: boolean; distributed?: boolean };
      try {
        info = JSON.parse(line);
      } catch {
        return resolve({ python, reason: `${python} is not a working Python 3 (exit code ${code}${err.trim() ? `: ${err.trim().split('\n').pop()}` : ''})` });
      }
      if (info.error || !info.torch)
        return resolve({
          python,
          reason: `${python} (Python ${info.python}) has no PyTorch: ${info.error} (pip install torch, or apt-get install python3-torch)`,
        });
      resolve({
        python,
        pythonVersion: info.python!,
        torch: info.torch,
        cuda: info.cuda ?? [],
        mps: info.mps === true,
        distributed: info.distributed !== false,
      });
    });
  });
}

export class NoTorchError extends Error {
  constructor(readonly tried: { python: string; reason: string }[]) {
    super(`no Python with PyTorch found: ${tried.map((t) => t.reason).join('; ')}`);
    this.name = 'NoTorchError';
  }
}

/** The interpreter given (only it), or the first default with torch; throws NoTorchError saying what each lacked. */
export async function findTorchPython(given?: string): Promise<TorchPython> {
  const tried: { python: string; reason: string }[] = [];
  for (const python of given ? [given] : DEFAULT_PYTHONS) {
    const r = await probePython(python);
    if ('torch' in r) return r;
    tried.push(r);
  }
  throw new NoTorchError(tried);
}

/** The devices a run can ask for, as shown to the user: "cuda: NVIDIA H100", "mps", "cpu". */
export function describeDevices(p: TorchPython): string[] {
  return [...p.cuda.map((name, i) => `cuda:${i} ${name}`), ...(p.mps ? ['mps'] : []), 'cpu'];
}
