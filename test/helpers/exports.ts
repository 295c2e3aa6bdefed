// Runs exported tfjs (TypeScript) code, and compiles exported Python.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TestContext } from 'node:test';
import ts from 'typescript';
import type { TF } from '../../engine/blocks/contract.js';
import { compileGraph } from '../../engine/compile/compile.js';
import { exportTfjs } from '../../engine/export/tfjs.js';
import { exportKeras } from '../../engine/export/keras.js';
import { exportPytorch } from '../../engine/export/pytorch.js';
import type { GraphFile } from '../../engine/graph/types.js';
import { PYTHON } from './torch.js';

// Inside the project, so that `import '@tensorflow/tfjs'` resolves to the same tfjs instance.
const scratch = fileURLToPath(new URL('../../exports-under-test/', import.meta.url));
let counter = 0;

type Model = ReturnType<TF['model']>;

/**
 * Every weight of a compiled model, trainable or not, set to random values: fresh
 * models hide mapping mistakes (zero biases, BatchNorm statistics 0 and 1, the
 * non-local block's gamma = 0).
 */
export function randomizeWeights(tf: TF, model: Model, seed: number): void {
  model.weights.forEach((w, k) => {
    const shape = w.shape as number[];
    w.write(/variance/.test(w.originalName) ? tf.randomUniform(shape, 0.5, 2, 'float32', seed + k) : tf.randomNormal(shape, 0, 0.5, 'float32', seed + k));
  });
}

/** A batch of random inputs (two by default): token ids 0/1 (so 0/1 masks too), or normal floats. */
export function randomInputs(tf: TF, inputs: { shape: (number | null)[]; dtype: string }[], seed: number, batch = 2) {
  return inputs.map((i, k) => {
    const shape = i.shape.map((d, a) => (a === 0 ? batch : (d as number)));
    return i.dtype === 'int32' ? tf.randomUniform(shape, 0, 2, 'int32', seed + k) : tf.randomNormal(shape, 0, 1, 'float32', seed + k);
  });
}

export interface TfjsCheck {
  compiledParams: number;
  exportedParams: number;
  /** Weight variables in each model: every compiled weight needs an exported counterpart. */
  compiledWeights: number;
  exportedWeights: number;
  maxAbsDiff: number;
  code: string;
}

/** Transpiles the exported TypeScript, builds its model, loads the compiled model's (randomised) weights by name, compares outputs. */
/** Transpiles the exported TypeScript and imports it as a module, written to `file` (by default a new one in the project's scratch folder). */
export async function importExportedTfjs<Module = { buildModel(): Model }>(code: string, file?: string): Promise<Module> {
  const js = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }, reportDiagnostics: true });
  const problem = js.diagnostics?.[0];
  if (problem) throw new Error(`exported TypeScript does not parse: ${ts.flattenDiagnosticMessageText(problem.messageText, '\n')}`);
  mkdirSync(scratch, { recursive: true });
  file ??= join(scratch, `export-${process.pid}-${counter++}.mjs`);
  writeFileSync(file, js.outputText);
  return (await import(pathToFileURL(file).href)) as Module;
}

/** Transpiles the exported TypeScript and runs its buildModel(). */
export async function buildExportedTfjs(code: string): Promise<Model> {
  return (await importExportedTfjs(code)).buildModel();
}

export async function checkTfjsExport(tf: TF, graph: GraphFile, seed = 1): Promise<TfjsCheck> {
  const code = exportTfjs(graph);
  const exported = await buildExportedTfjs(code);
  const compiled = compileGraph(tf, graph, { seed });
  randomizeWeights(tf, compiled.model, seed);
  const byName = new Map(compiled.model.weights.map((w) => [w.originalName, w]));
  exported.setWeights(
    exported.weights.map((w) => {
      const src = byName.get(w.originalName);
      if (!src) throw new Error(`exported weight ${w.originalName} has no counterpart in the compiled model`);
      return src.read();
    }),
  );
  const feeds = randomInputs(tf, compiled.inputs, seed);
  const a = [compiled.model.predict(feeds)].flat() as ReturnType<TF['zeros']>[];
  const b = [exported.predict(feeds)].flat() as ReturnType<TF['zeros']>[];
  let maxAbsDiff = 0;
  a.forEach((y, k) => {
    if (JSON.stringify(y.shape) !== JSON.stringify(b[k].shape)) throw new Error(`output ${k}: shapes ${y.shape} vs ${b[k].shape}`);
    const x = y.dataSync();
    const z = b[k].dataSync();
    for (let i = 0; i < x.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(x[i] - z[i]));
  });
  const result = {
    compiledParams: compiled.params,
    exportedParams: exported.countParams(),
    compiledWeights: compiled.model.weights.length,
    exportedWeights: exported.weights.length,
    maxAbsDiff,
    code,
  };
  tf.dispose([...feeds, ...a, ...b]);
  compiled.model.dispose();
  exported.dispose();
  return result;
}

/** The tfjs export builds the compiled model: the same parameters, every weight mapped, outputs within 1e-5. Returns the largest difference. */
export async function assertTfjsExportMatches(tf: TF, graph: GraphFile): Promise<number> {
  const r = await checkTfjsExport(tf, graph);
  assert.equal(r.exportedParams, r.compiledParams);
  assert.equal(r.exportedWeights, r.compiledWeights, 'every compiled weight has an exported counterpart');
  assert.ok(r.maxAbsDiff <= 1e-5, `max |Δ| ${r.maxAbsDiff}`);
  return r.maxAbsDiff;
}

// py_compile in one Python process for many files (each start of Python costs a few hundred ms under load).
const PY_COMPILE_EACH = `import json, py_compile, sys
problems = []
for f in sys.argv[1:]:
    try:
        py_compile.compile(f, doraise=True)
        problems.append(None)
    except py_compile.PyCompileError as e:
        problems.append(e.msg)
print(json.dumps(problems))`;

/**
 * py_compile (as `python3 -m py_compile` does) on each graph's exported Keras and PyTorch code, in one Python
 * process: for each graph, null, or the error (the export's own, or the compiler's message).
 */
export function pyCompileEach(graphs: GraphFile[]): (Error | null)[] {
  const dir = mkdtempSync(join(tmpdir(), 'attn-py-'));
  const files = graphs.map((graph, i): string[] | Error => {
    try {
      return [
        ['keras_model', exportKeras(graph)],
        ['torch_model', exportPytorch(graph).code],
      ].map(([name, code]) => {
        const file = join(dir, `${name}_${i}.py`);
        writeFileSync(file, code);
        return file;
      });
    } catch (err) {
      return err as Error;
    }
  });
  const compiled = files.flatMap((f) => (f instanceof Error ? [] : f));
  const out = execFileSync(PYTHON, ['-c', PY_COMPILE_EACH, ...compiled], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const problems = new Map(compiled.map((file, k) => [file, (JSON.parse(out) as (string | null)[])[k]]));
  return files.map((f) => {
    if (f instanceof Error) return f;
    const messages = f.map((file) => problems.get(file)).filter((m): m is string => typeof m === 'string');
    return messages.length ? new Error(messages.join('\n')) : null;
  });
}

/** `python3 -m py_compile` on exported Keras and PyTorch code; throws with the compiler's message. */
export function pyCompile(graph: GraphFile): void {
  const [problem] = pyCompileEach([graph]);
  if (problem) throw problem;
}

/** A subtest per case that throws with its exports' problem; one Python process compiles them all. */
export async function pyCompileSubtests(t: TestContext, cases: { name: string; graph: GraphFile }[]): Promise<void> {
  const problems = pyCompileEach(cases.map((c) => c.graph));
  for (const [i, c] of cases.entries())
    await t.test(c.name, () => {
      if (problems[i]) throw problems[i];
    });
}

/** Writes each exported file into `dir` as `<name>.<ext>`, the name made file-safe; returns their paths. */
export function writeExports(dir: string, ext: string, exports: { name: string; code: string }[]): string[] {
  return exports.map(({ name, code }) => {
    const file = join(dir, `${name.replace(/\W/g, '_')}.${ext}`);
    writeFileSync(file, code);
    return file;
  });
}

/** A fresh folder for exported files inside the project, where their imports of @tensorflow/tfjs resolve. */
export function scratchDir(prefix: string): string {
  mkdirSync(scratch, { recursive: true });
  return mkdtempSync(join(scratch, prefix));
}

/** Type-checks exported TypeScript files with strict and noImplicitOverride: each problem as "file:line message", the file named from `dir`. */
export function typeCheck(files: string[], dir: string): string[] {
  const program = ts.createProgram(files, {
    strict: true,
    noImplicitOverride: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file ? `${d.file.fileName.slice(dir.length + 1)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}
