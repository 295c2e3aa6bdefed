// Finding a Python with PyTorch: the interpreter asked for, else
// /usr/bin/python3, else `python3` on PATH; each is asked for its torch
// version and the devices torch sees. The first with torch wins.
import { spawn } from 'node:child_process';

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

/** One interpreter: its torch, or why it cannot train. */
export function probePython(python: string, timeoutMs = 60_000): Promise<TorchPython | { python: string; reason: string }> {
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
      if (info.error || !info.torch) return resolve({ python, reason: `${python} (Python ${info.python}) has no PyTorch: ${info.error} (pip install torch, or apt-get install python3-torch)` });
      resolve({ python, pythonVersion: info.python!, torch: info.torch, cuda: info.cuda ?? [], mps: info.mps === true, distributed: info.distributed !== false });
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
