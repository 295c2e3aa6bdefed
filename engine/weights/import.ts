// Pretrained weights into a graph: a state_dict (safetensors, or .pth/.pt
// converted by a Python with torch) under our PyTorch export's names or a
// reference implementation's (source-names.ts), set into the compiled tfjs model
// with each array moved back into tfjs's layout: the inverse of
// engine/export/torch-weights.ts, so export then import is the identity.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TF } from '../blocks/contract.js';
import type { CompiledGraph } from '../compile/compile.js';
import { exportPytorch } from '../export/pytorch.js';
import { decodeSafetensors, type NamedArray } from '../export/safetensors.js';
import { permuteArray } from '../export/torch-weights.js';
import type { GraphFile } from '../graph/types.js';
import { recogniseSource } from './source-names.js';

export interface ImportReport {
  /** The naming the file was recognised as: "our PyTorch export" or a reference's. */
  source: string;
  loaded: string[];
  /** Weights of the graph the file does not have (left as initialised with --partial). */
  missing: string[];
  /** Arrays in the file the graph has no place for. */
  unexpected: string[];
  mismatched: { name: string; file: number[]; graph: number[] }[];
}

const CONVERTER = fileURLToPath(new URL('../../../engine/weights/pth_to_safetensors.py', import.meta.url));

/** The named float arrays of a .safetensors, .pth or .pt file; .pth needs `python` with torch and says so. */
export function readWeightsFile(file: string, python = process.env.ATTN_PYTHON ?? 'python3'): NamedArray[] {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.safetensors') return decodeSafetensors(readFileSync(file));
  if (ext !== '.pth' && ext !== '.pt' && ext !== '.bin') throw new Error(`${file}: weights must be .safetensors, .pth or .pt`);
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-pth-'));
  try {
    const out = path.join(dir, 'weights.safetensors');
    try {
      execFileSync(python, [CONVERTER, file, out], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      const e = err as { code?: string; stderr?: Buffer };
      if (e.code === 'ENOENT')
        throw new Error(`${file}: reading .pth needs a Python with torch; "${python}" was not found (set ATTN_PYTHON, or save the state_dict as .safetensors)`);
      const why = e.stderr?.toString().trim().split('\n').pop() ?? String(err);
      throw new Error(
        `${file}: ${python} could not convert it${/No module named 'torch'/.test(why) ? ` (${python} has no torch; set ATTN_PYTHON to one that has)` : ''}: ${why}`,
      );
    }
    return decodeSafetensors(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const sameSize = (a: number[], b: number[]) => a.reduce((x, y) => x * y, 1) === b.reduce((x, y) => x * y, 1);
/** Equal up to axes of size 1 (a class token [1, 1, d] vs [1, d]). */
const sameUpToOnes = (a: number[], b: number[]) => a.filter((d) => d !== 1).join() === b.filter((d) => d !== 1).join();

/**
 * Sets the file's arrays into the compiled model. Strict unless `partial`: any missing,
 * unexpected or mismatched name throws with the whole report; with `partial` what fits
 * is loaded and the rest keeps its initial value.
 */
export function importWeights(tf: TF, graph: GraphFile, compiled: CompiledGraph, arrays: NamedArray[], opts: { partial?: boolean } = {}): ImportReport {
  const exported = exportPytorch(graph);
  const targets = exported.weights;
  // BatchNorm's step counter is bookkeeping of PyTorch's training, with no tfjs weight to go to.
  const real = arrays.filter((a) => !a.name.endsWith('.num_batches_tracked') && a.name !== 'num_batches_tracked');
  const source = recogniseSource(
    real,
    targets.map((w) => w.torch),
  );
  const named = source ? source.translate(real) : real;
  const byName = new Map(named.map((a) => [a.name, a]));
  const variables = new Map(compiled.model.weights.map((v) => [v.originalName, v]));
  const report: ImportReport = { source: source?.name ?? "Attention Studio's PyTorch export", loaded: [], missing: [], unexpected: [], mismatched: [] };
  const writes: [(typeof compiled.model.weights)[number], Float32Array][] = [];
  for (const w of targets) {
    const full = w.tfjs.startsWith('_') ? `${w.layer}${w.tfjs}` : `${w.layer}/${w.tfjs}`;
    const v = variables.get(full);
    if (!v) throw new Error(`node "${w.nodeId}": the compiled model has no weight ${full} for ${w.torch}`);
    const a = byName.get(w.torch);
    byName.delete(w.torch);
    if (!a) {
      report.missing.push(w.torch);
      continue;
    }
    const shape = v.shape as number[];
    const permuted = w.permute ? w.permute.map((i) => shape[i]) : shape;
    const torchShape = w.reshape ?? permuted;
    if (a.shape.join() !== torchShape.join() && !(sameSize(a.shape, torchShape) && sameUpToOnes(a.shape, torchShape))) {
      report.mismatched.push({ name: w.torch, file: a.shape, graph: torchShape });
      continue;
    }
    let data = a.data;
    if (w.permute) {
      const inverse = w.permute.map((_, i) => w.permute!.indexOf(i));
      data = permuteArray(a.data, permuted, inverse).data;
    }
    writes.push([v, data]);
    report.loaded.push(w.torch);
  }
  report.unexpected.push(...byName.keys());
  const bad = report.missing.length + report.unexpected.length + report.mismatched.length;
  if (bad && !opts.partial) throw new WeightsImportError(report);
  for (const [v, data] of writes) v.write(tf.tensor(data, v.shape as number[]));
  return report;
}

/** The report as lines a person reads: what is missing, unexpected, of another shape. */
export function reportLines(r: ImportReport, limit = 20): string[] {
  const list = (what: string, names: string[]) =>
    names.length ? [`${names.length} ${what}: ${names.slice(0, limit).join(', ')}${names.length > limit ? `, … (${names.length - limit} more)` : ''}`] : [];
  return [
    `names: ${r.source}; loaded ${r.loaded.length} arrays`,
    ...list('missing from the file (left as initialised)', r.missing),
    ...list('in the file but not in the graph', r.unexpected),
    ...list(
      'of another shape',
      r.mismatched.map((m) => `${m.name} file [${m.file.join(', ')}] vs graph [${m.graph.join(', ')}]`),
    ),
  ];
}

export class WeightsImportError extends Error {
  constructor(readonly report: ImportReport) {
    super(`the weights do not fit the graph (use --partial to load what fits):\n  ${reportLines(report).join('\n  ')}`);
  }
}
