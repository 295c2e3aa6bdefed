// Runs exported PyTorch code under Debian's python3-torch and compares it with
// the compiled tfjs model on the same weights and inputs. Cases are prepared one
// by one and run in one Python process (importing torch takes seconds).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TF } from '../../engine/blocks/contract.js';
import { compileGraph } from '../../engine/compile/compile.js';
import { exportPytorch } from '../../engine/export/pytorch.js';
import { encodeSafetensors } from '../../engine/export/safetensors.js';
import { permuteArray, torchWeightsFile } from '../../engine/export/torch-weights.js';
import type { GraphFile } from '../../engine/graph/types.js';
import { randomInputs, randomizeWeights } from './exports.js';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';

export const PYTHON = '/usr/bin/python3';
// A DDP collective stuck in a test fails its run within minutes, naming the rank, rather than at the 30-minute default.
process.env.ATTN_COLLECTIVE_TIMEOUT_S ??= '300';
const runner = fileURLToPath(new URL('../../../test/helpers/run_torch_export.py', import.meta.url));

const imports = new Map<string, string | true>();
/** true, or why `module` cannot be imported by PYTHON (naming the Debian package that has it). */
function pythonModule(module: string, label: string, debianPackage: string): string | true {
  let ok = imports.get(module);
  if (ok === undefined) {
    const r = spawnSync(PYTHON, ['-c', `import ${module}`], { encoding: 'utf8' });
    ok =
      r.status === 0
        ? true
        : `${label} is not installed for ${PYTHON} (apt-get install ${debianPackage}): ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
    imports.set(module, ok);
  }
  return ok;
}

/** true, or why PyTorch cannot be used here. */
export const torchAvailable = () => pythonModule('torch', 'PyTorch', 'python3-torch');

/** true, or why torchvision (the reference networks) cannot be used here. */
export const torchvisionAvailable = () => pythonModule('torchvision', 'torchvision', 'python3-torchvision');

function skipUnless(t: TestContext, what: string, ok: string | true): boolean {
  if (ok === true) return false;
  console.log(`NOTICE: skipping ${what}: ${ok}`);
  t.skip(ok);
  return true;
}

/** Skips `t`, with a notice naming what goes unchecked, where python3 with torch is missing; true when skipped. */
export function skipWithoutTorch(t: TestContext, what: string): boolean {
  return skipUnless(t, what, torchAvailable());
}

/** As skipWithoutTorch, for tests that build torchvision's models. */
export function skipWithoutTorchvision(t: TestContext, what: string): boolean {
  return skipWithoutTorch(t, what) || skipUnless(t, what, torchvisionAvailable());
}

export interface TorchCase {
  dir: string;
  /** The inputs in PyTorch's layout (images NCHW). */
  inputs: { data: Float32Array | Int32Array; shape: number[]; dtype: 'float32' | 'int32' }[];
  tfjsParams: number;
  tfjsTrainable: number;
  expected: { data: Float32Array; shape: number[] }[];
}

export interface TorchResult {
  torchTrainable: number;
  exampleShapes: number[][];
  maxAbsDiff: number;
  missing: string[];
  unexpected: string[];
}

const toTorchLayout = (data: Float32Array, shape: number[], matrix = false) =>
  shape.length === 4 && !matrix ? permuteArray(data, shape, [0, 3, 1, 2]) : { data, shape };

/** Whether each model output carries an attention matrix, which PyTorch code keeps in the graph's layout. */
function matrixOutputs(graph: GraphFile, compiled: ReturnType<typeof compileGraph>): boolean[] {
  return compiled.outputs.map((o) => {
    const edge = graph.edges.find((e) => e.to.node === o.nodeId)!;
    const source = compiled.analysis.nodes.get(edge.from.node);
    return source?.outputs.find((p) => p.name === edge.from.port)?.attention === 'matrix';
  });
}

/** Exports the graph, its compiled weights (randomised), random inputs and tfjs's outputs on them. */
export function prepareTorchCase(tf: TF, graph: GraphFile, seed = 1): TorchCase {
  const dir = mkdtempSync(join(tmpdir(), 'attn-export-'));
  const compiled = compileGraph(tf, graph, { seed });
  randomizeWeights(tf, compiled.model, seed);
  const exported = exportPytorch(graph);
  writeFileSync(join(dir, 'model.py'), exported.code);
  writeFileSync(join(dir, 'weights.safetensors'), torchWeightsFile(compiled.model, exported));
  const feeds = randomInputs(tf, compiled.inputs, seed);
  const inputs = feeds.map((t) => ({ ...toTorchLayout(Float32Array.from(t.dataSync()), t.shape), dtype: t.dtype as 'float32' | 'int32' }));
  writeFileSync(join(dir, 'inputs.safetensors'), encodeSafetensors(inputs.map((x, k) => ({ name: `input${k}`, data: x.data, shape: x.shape }))));
  writeFileSync(join(dir, 'dtypes.json'), JSON.stringify(compiled.inputs.map((i) => (i.dtype === 'int32' ? 'int' : 'float'))));
  const ys = [compiled.model.predict(feeds)].flat() as ReturnType<TF['zeros']>[];
  const matrix = matrixOutputs(graph, compiled);
  const expected = ys.map((y, k) => toTorchLayout(Float32Array.from(y.dataSync()), y.shape, matrix[k]));
  tf.dispose([...feeds, ...ys]);
  compiled.model.dispose();
  return { dir, inputs, tfjsParams: compiled.params, tfjsTrainable: compiled.trainableParams, expected };
}

/** Runs the cases in one Python process; a case that fails in Python gets its error. */
export function runTorchCases(cases: TorchCase[]): (TorchResult | { error: string })[] {
  if (!cases.length) return [];
  const out = execFileSync(PYTHON, [runner, ...cases.map((c) => c.dir)], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const lines = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  return cases.map((c, i) => {
    const r = lines[i];
    if (r.error) return { error: r.error as string };
    let maxAbsDiff = 0;
    (r.outputs as { shape: number[]; data: number[] }[]).forEach((o, k) => {
      const e = c.expected[k];
      if (JSON.stringify(o.shape) !== JSON.stringify(e.shape)) maxAbsDiff = Infinity;
      else o.data.forEach((v, j) => (maxAbsDiff = Math.max(maxAbsDiff, Math.abs(v - e.data[j]))));
    });
    return { torchTrainable: r.trainable, exampleShapes: r.exampleShapes, maxAbsDiff, missing: r.missing, unexpected: r.unexpected };
  });
}

/** Trainable parameter counts of exported PyTorch files' Model(), in one Python process. */
export function torchTrainableCounts(codes: string[]): number[] {
  const dir = mkdtempSync(join(tmpdir(), 'attn-count-'));
  const files = codes.map((code, i) => {
    const f = join(dir, `model_${i}.py`);
    writeFileSync(f, code);
    return f;
  });
  const script = [
    'import importlib.util, sys',
    'for path in sys.argv[1:]:',
    '    spec = importlib.util.spec_from_file_location("exported", path)',
    '    module = importlib.util.module_from_spec(spec)',
    '    spec.loader.exec_module(module)',
    '    print(sum(p.numel() for p in module.Model().parameters() if p.requires_grad), flush=True)',
  ].join('\n');
  const out = execFileSync(PYTHON, ['-c', script, ...files], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return out.trim().split('\n').map(Number);
}

/**
 * One subtest per case: the exported PyTorch module has the compiled trainable
 * parameter count, every parameter and buffer gets an exported weight, and the
 * outputs match tfjs's within 1e-4. Returns the largest difference seen.
 */
export async function torchExportSubtests(t: TestContext, tf: TF, cases: { name: string; graph: GraphFile }[]): Promise<number> {
  const prepared = cases.map((c) => {
    try {
      return { c, p: prepareTorchCase(tf, c.graph) };
    } catch (err) {
      return { c, error: (err as Error).message };
    }
  });
  const runnable = prepared.filter((x) => x.p);
  const results = runTorchCases(runnable.map((x) => x.p!));
  const byName = new Map(runnable.map((x, i) => [x.c.name, results[i]]));
  let worst = 0;
  for (const x of prepared) {
    await t.test(x.c.name, () => {
      assert.equal(x.error, undefined, x.error);
      const r = byName.get(x.c.name)!;
      if ('error' in r) assert.fail(r.error);
      assert.equal(r.torchTrainable, x.p!.tfjsTrainable, 'trainable parameters');
      assert.deepEqual(r.missing, [], 'every PyTorch parameter and buffer gets a trained value');
      assert.deepEqual(r.unexpected, []);
      assert.ok(r.maxAbsDiff <= 1e-4, `max |Δ| ${r.maxAbsDiff}`);
      worst = Math.max(worst, r.maxAbsDiff);
    });
  }
  return worst;
}
