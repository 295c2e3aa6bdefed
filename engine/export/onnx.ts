// Graph -> ONNX, through our PyTorch export and torch.onnx.export (opset 17,
// dynamic batch axis), run by a Python that has torch. The ONNX model computes
// the graph's outputs (probabilities, not logits); images are NCHW.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GraphFile } from '../graph/types.js';
import { exportPytorch } from './pytorch.js';
import { TORCH_DIR } from './torch-sources.js';

/** Thrown where no Python with torch is found, or the export fails in Python. */
export class OnnxExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxExportError';
  }
}

const CANDIDATES = () => [process.env.ATTN_PYTHON, '/usr/bin/python3', 'python3', 'python'].filter((p): p is string => !!p);

const found = new Map<string, boolean>();
/** The first of `candidates` (by default ATTN_PYTHON, /usr/bin/python3, python3, python) that imports torch, or null. */
export function findTorchPython(candidates = CANDIDATES()): string | null {
  for (const p of candidates) {
    if (!found.has(p)) found.set(p, spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 }).status === 0);
    if (found.get(p)) return p;
  }
  return null;
}

export interface OnnxOptions {
  /** Trained weights: a safetensors state_dict for the PyTorch export (torchWeightsFile). */
  weights?: Uint8Array;
  /** The Pythons to try, in order; default: ATTN_PYTHON, /usr/bin/python3, python3, python. */
  pythons?: string[];
}

export function exportOnnx(graph: GraphFile, options: OnnxOptions = {}): Uint8Array {
  const candidates = options.pythons ?? CANDIDATES();
  const python = findTorchPython(candidates);
  if (!python)
    throw new OnnxExportError(
      `ONNX export runs torch.onnx.export and needs a Python with PyTorch: none of ${candidates.join(', ')} imports torch ` +
        '(install it, e.g. `pip install torch` or `apt-get install python3-torch`, or name one in ATTN_PYTHON)',
    );
  const dir = mkdtempSync(join(tmpdir(), 'attn-onnx-'));
  try {
    const model = join(dir, 'model.py');
    writeFileSync(model, exportPytorch(graph).code);
    const args = [join(TORCH_DIR, 'to_onnx.py'), model, join(dir, 'model.onnx')];
    if (options.weights) {
      writeFileSync(join(dir, 'weights.safetensors'), options.weights);
      args.push(join(dir, 'weights.safetensors'));
    }
    const r = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0) {
      const why = (r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' ');
      throw new OnnxExportError(`torch.onnx.export failed for "${graph.name}" (${python}): ${why}`);
    }
    return readFileSync(join(dir, 'model.onnx'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
