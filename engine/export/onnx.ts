// Graph -> ONNX, through our PyTorch export and torch.onnx.export (opset 17,
// dynamic batch axis), run by a Python that has torch. The ONNX model computes
// the graph's outputs (probabilities, not logits); images are NCHW.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
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

const run = promisify(execFile);
const found = new Map<string, Promise<boolean>>();
/** The first of `candidates` (by default ATTN_PYTHON, /usr/bin/python3, python3, python) that imports torch, or null. */
export async function findTorchPython(candidates = CANDIDATES()): Promise<string | null> {
  for (const p of candidates) {
    if (!found.has(p))
      found.set(
        p,
        run(p, ['-c', 'import torch'], { timeout: 120_000 }).then(
          () => true,
          () => false,
        ),
      );
    if (await found.get(p)) return p;
  }
  return null;
}

export interface OnnxOptions {
  /** Trained weights: a safetensors state_dict for the PyTorch export (torchWeightsFile). */
  weights?: Uint8Array;
  /** The Pythons to try, in order; default: ATTN_PYTHON, /usr/bin/python3, python3, python. */
  pythons?: string[];
}

/** The ONNX file (bytes) of a graph: its outputs as in the graph (probabilities, not logits), images NCHW. */
export async function exportOnnx(graph: GraphFile, options: OnnxOptions = {}): Promise<Uint8Array> {
  const candidates = options.pythons ?? CANDIDATES();
  const python = await findTorchPython(candidates);
  if (!python)
    throw new OnnxExportError(
      `ONNX export runs torch.onnx.export and needs a Python with PyTorch: none of ${candidates.join(', ')} imports torch ` +
        '(install it, e.g. `pip install torch` or `apt-get install python3-torch`, or name one in ATTN_PYTHON)',
    );
  const code = exportPytorch(graph).code; // before any process starts: graph errors are ExportErrors
  const dir = await mkdtemp(join(tmpdir(), 'attn-onnx-'));
  try {
    const model = join(dir, 'model.py');
    await writeFile(model, code);
    // A copy beside the model: inside a packaged app the source sits in an archive Python cannot read.
    await writeFile(join(dir, 'to_onnx.py'), await readFile(join(TORCH_DIR, 'to_onnx.py')));
    const args = [join(dir, 'to_onnx.py'), model, join(dir, 'model.onnx')];
    if (options.weights) {
      await writeFile(join(dir, 'weights.safetensors'), options.weights);
      args.push(join(dir, 'weights.safetensors'));
    }
    try {
      await run(python, args, { maxBuffer: 1 << 26 });
    } catch (err) {
      const e = err as Error & { stderr?: string };
      const why = (e.stderr || e.message).trim().split('\n').slice(-3).join(' ');
      throw new OnnxExportError(`torch.onnx.export failed for "${graph.name}" (${python}): ${why}`);
    }
    return new Uint8Array(await readFile(join(dir, 'model.onnx')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
