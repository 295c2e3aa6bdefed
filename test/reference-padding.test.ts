// Explicit (PyTorch) padding of the window blocks: shapes by PyTorch's formula and
// values against torch.nn.functional (conv2d, max_pool2d, avg_pool2d with ceil_mode
// and count_include_pad) on random inputs and weights, all cases in one Python run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registry } from '../engine/blocks/registry.js';
import { portsOf } from '../engine/blocks/contract.js';
import { resolveParams } from '../engine/blocks/params.js';
import { analyzeGraph } from '../engine/shapes/analyze.js';
import { tfReady } from './helpers/tf.js';
import { exampleGraph } from './helpers/graphs.js';
import { checkTfjsExport, pyCompileEach } from './helpers/exports.js';
import { prepareTorchCase, runTorchCases, skipWithoutTorch } from './helpers/torch.js';

type Case = { type: string; params: Record<string, unknown>; input: number[] };

const CASES: Case[] = [
  { type: 'core.conv2d', params: { filters: 4, kernel: 7, stride: 2, padding: 'explicit', pads: [3], useBias: false }, input: [2, 16, 16, 3] },
  { type: 'core.conv2d', params: { filters: 3, kernel: 3, stride: 2, padding: 'explicit', pads: [1] }, input: [2, 8, 9, 2] },
  { type: 'core.conv2d', params: { filters: 3, kernel: 3, stride: 2, padding: 'explicit', pads: [0, 1, 2, 1] }, input: [2, 9, 8, 2] },
  { type: 'core.conv2d', params: { filters: 2, kernel: 3, dilation: 2, padding: 'explicit', pads: [2, 1] }, input: [2, 7, 7, 2] },
  { type: 'core.depthwiseConv2d', params: { kernel: 3, stride: 2, padding: 'explicit', pads: [1], depthMultiplier: 2 }, input: [2, 8, 8, 3] },
  { type: 'core.depthwiseConv2d', params: { kernel: 3, dilation: 2, padding: 'explicit', pads: [2] }, input: [2, 9, 7, 2] },
  { type: 'core.pool2d', params: { mode: 'max', size: 3, stride: 2, padding: 'explicit', pads: [1] }, input: [2, 8, 8, 3] },
  { type: 'core.pool2d', params: { mode: 'max', size: 3, stride: 2, padding: 'explicit', pads: [1], ceilMode: true }, input: [2, 8, 9, 2] },
  { type: 'core.pool2d', params: { mode: 'max', size: 2, stride: 2, padding: 'explicit', pads: [0], ceilMode: true }, input: [2, 7, 5, 2] },
  { type: 'core.pool2d', params: { mode: 'max', size: 3, stride: 2, padding: 'explicit', pads: [0, 1, 1, 0] }, input: [2, 6, 7, 2] },
  { type: 'core.pool2d', params: { mode: 'avg', size: 3, stride: 2, padding: 'explicit', pads: [1] }, input: [2, 8, 7, 2] },
  { type: 'core.pool2d', params: { mode: 'avg', size: 3, stride: 2, padding: 'explicit', pads: [1], countIncludePad: false }, input: [2, 8, 7, 2] },
  { type: 'core.pool2d', params: { mode: 'avg', size: 3, stride: 2, padding: 'explicit', pads: [1], ceilMode: true }, input: [2, 8, 9, 2] },
  {
    type: 'core.pool2d',
    params: { mode: 'avg', size: 3, stride: 2, padding: 'explicit', pads: [1, 0], ceilMode: true, countIncludePad: false },
    input: [2, 10, 8, 2],
  },
  { type: 'core.pool2d', params: { mode: 'avg', size: 2, stride: 2, padding: 'explicit', pads: [0], ceilMode: true }, input: [2, 5, 7, 1] },
];

/** The block's output shape, or throws with the analysis's first error. */
function blockShape(c: Case): (number | null)[] {
  const a = analyzeGraph(graphOf(c));
  const error = a.diagnostics.find((d) => d.severity === 'error');
  if (error) throw new Error(error.message);
  return a.nodes.get('block')!.outputShapes!.out;
}

const graphOf = (c: Case) => {
  const block = registry.get(c.type)!;
  const values = resolveParams(block, c.params).values;
  const ports = { inputs: [...portsOf(block, values, 'inputs')], outputs: [...portsOf(block, values, 'outputs')] };
  return exampleGraph(block, { params: c.params, inputs: { in: [null, ...c.input.slice(1)] } }, ports);
};

/** PyTorch's output size (torch/nn/modules docs; pooling's ceil-mode rule from ATen's pooling_output_shape). */
function torchOut(size: number, k: number, s: number, before: number, after: number, d = 1, ceil = false): number {
  const span = size + before + after - d * (k - 1) - 1;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= size + before) out--;
  return out;
}

test("explicit padding: output shapes follow PyTorch's formula", () => {
  for (const c of CASES) {
    const p = c.params as { kernel?: number; size?: number; stride?: number; dilation?: number; pads: number[]; ceilMode?: boolean };
    const sides =
      p.pads.length === 1 ? [p.pads[0], p.pads[0], p.pads[0], p.pads[0]] : p.pads.length === 2 ? [p.pads[0], p.pads[0], p.pads[1], p.pads[1]] : p.pads;
    const k = p.kernel ?? p.size!;
    const s = p.stride ?? (c.type === 'core.pool2d' ? 2 : 1);
    const out = blockShape(c);
    assert.deepEqual(
      out.slice(1, 3),
      [torchOut(c.input[1], k, s, sides[0], sides[1], p.dilation, p.ceilMode), torchOut(c.input[2], k, s, sides[2], sides[3], p.dilation, p.ceilMode)],
      JSON.stringify(c),
    );
  }
});

test('explicit padding: pooling pads of more than half the window are refused naming the rule', () => {
  const c = { type: 'core.pool2d', params: { mode: 'max', size: 3, padding: 'explicit', pads: [2] }, input: [1, 8, 8, 1] };
  assert.throws(() => blockShape(c), /at most half the window size 3/);
  assert.throws(() => blockShape({ ...c, params: { ...c.params, pads: [1, 1, 1] } }), /1, 2 or 4 entries/);
});

test('explicit padding equals torch.nn.functional on random inputs (1e-5)', async (t) => {
  if (skipWithoutTorch(t, 'explicit padding vs PyTorch')) return;
  const tf = await tfReady;
  const cases = CASES.map((c, i) => prepareTorchCase(tf, graphOf(c), 10 + i));
  const results = runTorchCases(cases);
  results.forEach((r, i) => {
    assert.ok(!('error' in r), `${JSON.stringify(CASES[i])}: ${'error' in r ? r.error : ''}`);
    if ('error' in r) return;
    assert.ok(r.maxAbsDiff < 1e-5, `${JSON.stringify(CASES[i])}: max |tfjs - torch| = ${r.maxAbsDiff}`);
  });
});

test('explicit padding: exported tfjs code computes what the compiled model does', async () => {
  const tf = await tfReady;
  for (const c of CASES.filter((c) => c.type !== 'core.depthwiseConv2d')) {
    const r = await checkTfjsExport(tf, graphOf(c), 3);
    assert.ok(r.maxAbsDiff < 1e-6, `${JSON.stringify(c)}: ${r.maxAbsDiff}`);
  }
});

test('explicit padding: Keras export compiles', () => {
  const cases = CASES.filter((c) => c.type !== 'core.depthwiseConv2d' && !c.params.ceilMode && c.params.countIncludePad !== false);
  pyCompileEach(cases.map(graphOf)).forEach((problem, i) => assert.equal(problem, null, `${JSON.stringify(cases[i])}: ${problem?.message}`));
});
