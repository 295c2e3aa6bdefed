// Export of the vision attention blocks (SE, CBAM and its halves, non-local, attention branch, gates) and the
// structured ones (residual attention, Attend and Rectify + global gate, local self-attention 2D, augmented conv):
// every example to all three targets, checked as test/export.test.ts does, but only these blocks,
// plus the readability rules: one documented helper per block, emitted once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { registry } from '../engine/blocks/registry.js';
import { portsOf, type TF } from '../engine/blocks/contract.js';
import { compileGraph } from '../engine/compile/compile.js';
import { encodeSafetensors } from '../engine/export/safetensors.js';
import { permuteArray, torchWeightsFile } from '../engine/export/torch-weights.js';
import { resolveParams } from '../engine/blocks/params.js';
import { exportPytorch } from '../engine/export/pytorch.js';
import { exportKeras } from '../engine/export/keras.js';
import { exportTfjs } from '../engine/export/tfjs.js';
import type { GraphFile } from '../engine/graph/types.js';
import { tfReady } from './helpers/tf.js';
import { exampleGraph, graph, loadTemplate, templateFiles } from './helpers/graphs.js';
import { pyCompile } from './helpers/exports.js';
import { runTorchCases, torchAvailable, type TorchCase } from './helpers/torch.js';

const VISION = [
  'attention.squeezeExcitation',
  'attention.cbam',
  'attention.cbamChannel',
  'attention.cbamSpatial',
  'attention.nonLocal',
  'attention.attentionBranch',
  'attention.highwayGate',
  'attention.gate',
];
const STRUCTURED = ['attention.residualAttention', 'attention.attendRectify', 'attention.globalGate', 'attention.localSelfAttention2d', 'attention.augmentedConv'];
const TYPES = [...VISION, ...STRUCTURED];

const cases: { name: string; graph: GraphFile }[] = [];
for (const type of TYPES) {
  const block = registry.get(type)!;
  block.examples.forEach((ex, k) => {
    const { values } = resolveParams(block, ex.params as Record<string, unknown>);
    const ports = { inputs: [...portsOf(block, values, 'inputs')], outputs: [...portsOf(block, values, 'outputs')] };
    cases.push({ name: `${type} example ${k + 1}`, graph: exampleGraph(block, ex as never, ports) });
  });
}

// Two CBAMs and an SE in a row: helpers once each, distinct modules, weights of both CBAMs mapped.
const stacked = graph(
  [
    ['x', 'io.input', { kind: 'image', height: 8, width: 8, channels: 6 }],
    ['c1', 'attention.cbam', { reduction: 2 }],
    ['c2', 'attention.cbam', { reduction: 3, kernel: 3 }],
    ['se', 'attention.squeezeExcitation', { reduction: 2 }],
    ['y', 'io.output', { loss: 'none' }],
  ],
  [
    ['x.out', 'c1.in'],
    ['c1.out', 'c2.in'],
    ['c2.out', 'se.in'],
    ['se.out', 'y.in'],
  ],
  'stacked vision attention',
);
cases.push({ name: 'stacked CBAM, CBAM, SE', graph: stacked });
// The small templates built on the vision blocks (the structured ones' templates are large networks that
// test/export.test.ts already runs).
for (const file of templateFiles()) {
  const g = loadTemplate(file);
  if (g.nodes.some((n) => VISION.includes(n.type)) && !g.nodes.some((n) => STRUCTURED.includes(n.type))) cases.push({ name: `template ${file}`, graph: g });
}

type Model = ReturnType<TF['model']>;

/**
 * Every weight of the compiled model, trainable or not, set to random values: the non-local block's
 * BatchNorm starts with γ = 0 and fresh running statistics are 0 and 1, which would hide mistakes.
 */
function randomise(tf: TF, model: Model, seed: number): void {
  model.weights.forEach((w, k) => {
    const shape = w.shape as number[];
    w.write(/variance/.test(w.originalName) ? tf.randomUniform(shape, 0.5, 2, 'float32', seed + k) : tf.randomNormal(shape, 0, 0.5, 'float32', seed + k));
  });
}

function randomInputs(tf: TF, inputs: { shape: (number | null)[]; dtype: string }[], seed: number) {
  return inputs.map((i, k) => {
    const shape = i.shape.map((d, a) => (a === 0 ? 2 : (d as number)));
    return i.dtype === 'int32' ? tf.randomUniform(shape, 0, 2, 'int32', seed + k) : tf.randomNormal(shape, 0, 1, 'float32', seed + k);
  });
}

const scratch = fileURLToPath(new URL('../../exports-under-test/', import.meta.url));
let counter = 0;

/** Runs the exported TypeScript, loads the (randomised) compiled weights by name, compares every output. */
async function checkTfjs(tf: TF, g: GraphFile, seed = 5) {
  const js = ts.transpileModule(exportTfjs(g), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
  mkdirSync(scratch, { recursive: true });
  const file = join(scratch, `vision-export-${process.pid}-${counter++}.mjs`);
  writeFileSync(file, js.outputText);
  const exported = ((await import(pathToFileURL(file).href)) as { buildModel(): Model }).buildModel();
  const compiled = compileGraph(tf, g, { seed });
  randomise(tf, compiled.model, seed);
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
    assert.deepEqual(b[k].shape, y.shape, `output ${k}`);
    const x = y.dataSync();
    const z = b[k].dataSync();
    for (let i = 0; i < x.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(x[i] - z[i]));
  });
  const result = { compiledParams: compiled.params, exportedParams: exported.countParams(), weights: exported.weights.length, compiledWeights: compiled.model.weights.length, maxAbsDiff };
  tf.dispose([...feeds, ...a, ...b]);
  compiled.model.dispose();
  exported.dispose();
  return result;
}

/** PyTorch's layout of a graph tensor: rank-4 feature maps are NCHW, attention matrices keep the graph's layout. */
const toTorchLayout = (data: Float32Array, shape: number[], matrix = false) =>
  shape.length === 4 && !matrix ? permuteArray(data, shape, [0, 3, 1, 2]) : { data, shape };

/** Whether each model output carries an attention matrix ([B, heads, queries, keys]). */
function matrixOutputs(g: GraphFile, compiled: ReturnType<typeof compileGraph>): boolean[] {
  return compiled.outputs.map((o) => {
    const edge = g.edges.find((e) => e.to.node === o.nodeId)!;
    return compiled.analysis.nodes.get(edge.from.node)?.outputs.find((p) => p.name === edge.from.port)?.attention === 'matrix';
  });
}

/** Like helpers/torch.ts's prepareTorchCase, on randomised weights. */
function prepareRandomised(tf: TF, g: GraphFile, seed = 3): TorchCase {
  const dir = mkdtempSync(join(tmpdir(), 'attn-export-vision-'));
  const compiled = compileGraph(tf, g, { seed });
  randomise(tf, compiled.model, seed);
  const exported = exportPytorch(g);
  writeFileSync(join(dir, 'model.py'), exported.code);
  writeFileSync(join(dir, 'weights.safetensors'), torchWeightsFile(compiled.model, exported));
  const feeds = randomInputs(tf, compiled.inputs, seed);
  writeFileSync(join(dir, 'inputs.safetensors'), encodeSafetensors(feeds.map((t, j) => ({ name: `input${j}`, ...toTorchLayout(Float32Array.from(t.dataSync()), t.shape) }))));
  writeFileSync(join(dir, 'dtypes.json'), JSON.stringify(compiled.inputs.map((i) => (i.dtype === 'int32' ? 'int' : 'float'))));
  const ys = [compiled.model.predict(feeds)].flat() as ReturnType<TF['zeros']>[];
  const matrix = matrixOutputs(g, compiled);
  const expected = ys.map((y, k) => toTorchLayout(Float32Array.from(y.dataSync()), y.shape, matrix[k]));
  tf.dispose([...feeds, ...ys]);
  compiled.model.dispose();
  return { dir, tfjsParams: compiled.params, tfjsTrainable: compiled.trainableParams, expected };
}

for (const c of cases) {
  test(`tfjs export on randomised weights: ${c.name}`, async () => {
    const tf = await tfReady;
    const r = await checkTfjs(tf, c.graph);
    assert.equal(r.exportedParams, r.compiledParams);
    assert.equal(r.weights, r.compiledWeights, 'every compiled weight has an exported counterpart');
    assert.ok(r.maxAbsDiff <= 1e-5, `max |Δ| ${r.maxAbsDiff}`);
  });
}

test('Keras and PyTorch exports compile', async (t) => {
  for (const c of cases) await t.test(c.name, () => pyCompile(c.graph));
});

test('each block is one documented helper, emitted once', () => {
  const py = exportPytorch(stacked).code;
  for (const cls of ['CBAM', 'ChannelAttention', 'SpatialAttention', 'SqueezeExcitation']) {
    assert.equal(py.split(`class ${cls}(nn.Module):`).length, 2, cls);
  }
  assert.match(py, /self\.c1 = CBAM\(channels=6, reduction=2\)/);
  assert.match(py, /c1_out, c1_channel_weights, c1_spatial_map = self\.c1\(x_\)/);
  assert.match(py, /Woo, Park, Lee & Kweon \(2018\)/);
  assert.doesNotMatch(py, /NonLocalBlock|HighwayGate/);
  const keras = exportKeras(stacked);
  assert.equal(keras.split('class CBAM(keras.layers.Layer):').length, 2);
  const ts = exportTfjs(stacked);
  assert.equal(ts.split('class CBAM {').length, 2);
  assert.equal(ts.split('class ChannelPool extends tf.layers.Layer').length, 2);
});

test('PyTorch export of the vision attention blocks: parameters, and outputs with randomised exported weights', async (t) => {
  const ok = torchAvailable();
  if (ok !== true) {
    console.log(`NOTICE: skipping the PyTorch export checks: ${ok}`);
    t.skip(ok);
    return;
  }
  const tf = await tfReady;
  const prepared = cases.map((c) => ({ c, p: prepareRandomised(tf, c.graph) }));
  const results = runTorchCases(prepared.map((x) => x.p));
  const failures: string[] = [];
  let worst = 0;
  prepared.forEach((x, i) => {
    const r = results[i];
    if ('error' in r) return void failures.push(`${x.c.name}: ${r.error}`);
    worst = Math.max(worst, r.maxAbsDiff);
    if (r.torchTrainable !== x.p.tfjsTrainable) failures.push(`${x.c.name}: ${r.torchTrainable} trainable parameters, tfjs has ${x.p.tfjsTrainable}`);
    if (r.missing.length) failures.push(`${x.c.name}: no exported weight for ${r.missing.join(', ')}`);
    if (r.unexpected.length) failures.push(`${x.c.name}: unexpected weights ${r.unexpected.join(', ')}`);
    if (!(r.maxAbsDiff <= 1e-4)) failures.push(`${x.c.name}: max |Δ| ${r.maxAbsDiff}`);
  });
  console.log(`vision attention PyTorch exports: ${prepared.length} cases, max |Δ| ${worst.toExponential(2)}`);
  assert.deepEqual(failures, []);
});
