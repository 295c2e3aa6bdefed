// The structured attention blocks (issue 3: residual attention, Attend and Rectify with its global gate, local
// self-attention 2D, attention-augmented convolution). For each block:
//  (a) its outputs for fixed weights and inputs equal the paper's formula, written again here with plain arrays
//      or plain tf ops;
//  (b), (c) training every weight and save/load: test/block-conformance.test.ts, for every example;
//  (d) its parameter count equals the count of the PyTorch reference, derived by hand;
//  (e) bad wiring gives a diagnostic on the node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGraph, type CompiledGraph } from '../engine/compile/compile.js';
import { analyzeGraph } from '../engine/shapes/analyze.js';
import type { GraphFile } from '../engine/graph/types.js';
import type { Tensor, TF } from '../engine/blocks/contract.js';
import type * as tfjs from '@tensorflow/tfjs';
import { tfReady } from './helpers/tf.js';

// ---------------------------------------------------------------------------------------------- graphs and data

type Sources = Record<string, Record<string, unknown>>; // input node id -> io.input params

/** Inputs → the block under test ("blk", fed port by port) → one Output per listed output port. */
function graphOf(type: string, params: Record<string, unknown>, sources: Sources, wires: Record<string, string>, outs: string[], trainOut?: string): GraphFile {
  const nodes: GraphFile['nodes'] = Object.entries(sources).map(([id, p], i) => ({ id, type: 'io.input', params: p, position: { x: 0, y: 100 * i } }));
  nodes.push({ id: 'blk', type, params, position: { x: 200, y: 0 } });
  const edges: GraphFile['edges'] = Object.entries(wires).map(([port, src]) => ({ from: { node: src, port: 'out' }, to: { node: 'blk', port } }));
  outs.forEach((port, i) => {
    nodes.push({ id: `out_${port}`, type: 'io.output', params: { loss: port === trainOut ? 'meanSquaredError' : 'none' }, position: { x: 400, y: 100 * i } });
    edges.push({ from: { node: 'blk', port }, to: { node: `out_${port}`, port: 'in' } });
  });
  return { format: 'attention-studio.graph', version: 1, name: `test ${type}`, nodes, edges };
}

const image = (height: number, width: number, channels: number) => ({ kind: 'image', height, width, channels });
const vector = (features: number) => ({ kind: 'vector', features });

/** mulberry32: a small seeded generator, so inputs and weights are the same on every run. */
function rng(seed: number) {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

function randomInputs(tf: TF, compiled: CompiledGraph, batch: number, seed: number): Tensor[] {
  const r = rng(seed);
  return compiled.inputs.map(({ shape }) => {
    const dims = [batch, ...(shape.slice(1) as number[])];
    return tf.tensor(Array.from({ length: dims.reduce((a, b) => a * b, 1) }, r.normal), dims);
  });
}

/** Gives every weight seeded values (BN variances positive) so outputs depend on all of them. */
function randomizeWeights(tf: TF, model: tfjs.LayersModel, seed: number, scale = 0.5): void {
  const r = rng(seed);
  for (const layer of model.layers) {
    const ws = layer.weights;
    if (!ws.length) continue;
    layer.setWeights(
      ws.map((w) => {
        const n = w.shape.reduce((a: number, b) => a * (b ?? 1), 1);
        const values = w.name.includes('moving_variance')
          ? Array.from({ length: n }, () => 0.5 + r.uniform())
          : Array.from({ length: n }, () => scale * r.normal());
        return tf.tensor(values, w.shape as number[]);
      }),
    );
  }
}

const weightsOf = (model: tfjs.LayersModel, layer: string) => model.getLayer(layer).getWeights() as Tensor[];
const arr = (t: Tensor) => Array.from(t.dataSync());

function predictAll(model: tfjs.LayersModel, xs: Tensor[]): Tensor[] {
  const ys = model.predict(xs.length === 1 ? xs[0] : xs) as Tensor | Tensor[];
  return Array.isArray(ys) ? ys : [ys];
}

function assertClose(actual: Tensor | number[], expected: Tensor | number[], tol: number, what: string): void {
  const a = Array.isArray(actual) ? actual : arr(actual);
  const e = Array.isArray(expected) ? expected : arr(expected);
  assert.equal(a.length, e.length, `${what}: ${a.length} values vs ${e.length}`);
  let worst = 0;
  let at = -1;
  e.forEach((v, i) => {
    const d = Math.abs(a[i] - v) / Math.max(1, Math.abs(v));
    if (!(d <= worst)) [worst, at] = [d, i];
  });
  assert.ok(worst <= tol, `${what}: largest difference ${worst} at index ${at} (got ${a[at]}, expected ${e[at]})`);
}

/** (a)–(c) run on the same compiled model; the output ports are listed in model-output order. */
async function setup(type: string, params: Record<string, unknown>, sources: Sources, wires: Record<string, string>, outs: string[], seed = 1) {
  const tf = await tfReady;
  const compiled = compileGraph(tf, graphOf(type, params, sources, wires, outs));
  randomizeWeights(tf, compiled.model, seed);
  const xs = randomInputs(tf, compiled, 2, seed + 100);
  const ys = predictAll(compiled.model, xs);
  const byPort = Object.fromEntries(outs.map((p, i) => [p, ys[i]]));
  const byInput = Object.fromEntries(compiled.inputs.map((inp, i) => [inp.nodeId, xs[i]]));
  return { tf, compiled, model: compiled.model, xs, ys: byPort, input: byInput };
}

// (e) the graph's diagnostics put an error on the block's node whose message matches.
function assertDiagnostic(graph: GraphFile, message: RegExp, port?: string) {
  const errors = analyzeGraph(graph).diagnostics.filter((d) => d.severity === 'error');
  const hit = errors.find((d) => d.nodeId === 'blk' && message.test(d.message));
  assert.ok(hit, `expected an error on node "blk" matching ${message}; got ${JSON.stringify(errors)}`);
  if (port) assert.equal(hit.port, port);
}

function assertNoErrors(graph: GraphFile) {
  const errors = analyzeGraph(graph).diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(errors, []);
}

// ---------------------------------------------------------------------------------- plain-array tensor helpers

/** Row-major nested access to a flat array with a shape. */
function view(data: ArrayLike<number>, shape: number[]) {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  return (...idx: number[]) => data[idx.reduce((s, v, i) => s + v * strides[i], 0)];
}
const softmax = (xs: number[]) => {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
};
/** x [B, H, W, Cin] · kernel [1, 1, Cin, Cout] (+ bias): a 1×1 convolution as plain sums, [B][H][W][Cout]. */
function pointwise(x: Tensor, kernel: Tensor, bias?: Tensor): number[][][][] {
  const [b, h, w, cin] = x.shape;
  const cout = kernel.shape[3] as number;
  const X = view(x.dataSync(), x.shape);
  const K = view(kernel.dataSync(), kernel.shape);
  const bv = bias ? arr(bias) : undefined;
  return Array.from({ length: b }, (_, n) =>
    Array.from({ length: h }, (_, i) =>
      Array.from({ length: w }, (_, j) =>
        Array.from({ length: cout }, (_, o) => {
          let s = bv ? bv[o] : 0;
          for (let c = 0; c < cin; c++) s += X(n, i, j, c) * K(0, 0, c, o);
          return s;
        }),
      ),
    ),
  );
}

// ========================================================================================= residual attention

const RA = 'attention.residualAttention';

/** Bilinear interpolation matrix with aligned corners (Caffe Interp / nn.UpsamplingBilinear2d): [out, in]. */
function alignCornersMatrix(out: number, inp: number): number[][] {
  return Array.from({ length: out }, (_, i) => {
    const row = new Array(inp).fill(0);
    const src = out === 1 ? 0 : (i * (inp - 1)) / (out - 1);
    const lo = Math.floor(src);
    const hi = Math.min(lo + 1, inp - 1);
    row[lo] += 1 - (src - lo);
    row[hi] += src - lo;
    return row;
  });
}

/** The residual attention module with p = 1, t = 2, r = 1 and two pooling levels, in plain tf ops. */
function residualAttentionReference(tf: TF, model: tfjs.LayersModel, x: Tensor) {
  const W = (name: string) => weightsOf(model, `blk_${name}`);
  const bn = (t: Tensor, name: string) => {
    const [gamma, beta, mean, variance] = W(name);
    return tf.add(tf.mul(tf.div(tf.sub(t, mean), tf.sqrt(tf.add(variance, 1e-5))), gamma), beta);
  };
  const conv = (t: Tensor, name: string) => tf.conv2d(t as tfjs.Tensor4D, W(name)[0] as tfjs.Tensor4D, 1, 'same');
  // Pre-activation bottleneck: x + conv1x1(relu(bn(conv3x3(relu(bn(conv1x1(relu(bn(x)))))))))
  const unit = (t: Tensor, name: string) => {
    let y = t;
    for (const k of [1, 2, 3]) y = conv(tf.relu(bn(y, `${name}_bn${k}`)), `${name}_conv${k}`);
    return tf.add(t, y);
  };
  const pool = (t: Tensor) => tf.maxPool(t as tfjs.Tensor4D, 3, 2, 'same');
  const up = (t: Tensor, h: number, w: number) => {
    const [b, th, tw, c] = t.shape;
    const rows = tf.matMul(tf.tensor2d(alignCornersMatrix(h, th)), tf.reshape(tf.transpose(t, [1, 0, 2, 3]), [th, b * tw * c]));
    const t1 = tf.transpose(tf.reshape(rows, [h, b, tw, c]), [1, 0, 2, 3]); // [b, h, tw, c]
    const cols = tf.matMul(tf.tensor2d(alignCornersMatrix(w, tw)), tf.reshape(tf.transpose(t1, [2, 0, 1, 3]), [tw, b * h * c]));
    return tf.transpose(tf.reshape(cols, [w, b, h, c]), [1, 2, 0, 3]);
  };
  const [, H, Wd] = x.shape;
  const pre = unit(x, 'pre1');
  const trunk = unit(unit(pre, 'trunk1'), 'trunk2');
  const down1 = unit(pool(pre), 'mask_down1_1');
  const skip1 = unit(down1, 'mask_skip1');
  const down2 = unit(pool(down1), 'mask_down2_1');
  const bottom = unit(down2, 'mask_bottom1');
  const up1 = unit(tf.add(up(bottom, down1.shape[1] as number, down1.shape[2] as number), skip1), 'mask_up1_1');
  let m = up(up1, H, Wd);
  for (const k of [1, 2]) m = conv(tf.relu(bn(m, `mask_bn${k}`)), `mask_conv${k}`);
  const mask = tf.sigmoid(m);
  const out = unit(tf.mul(tf.add(1, mask), trunk), 'post1');
  return { out, mask, maskMean: tf.mean(mask, -1) };
}

/** Parameters of one pre-activation bottleneck unit in PyTorch: three BatchNorm2d (γ, β) and three bias-free convs. */
const unitParams = (c: number) => {
  const b = c / 4;
  return 2 * c + c * b + 2 * b + 9 * b * b + 2 * b + b * c;
};
/** BatchNorm running statistics (buffers in PyTorch, non-trainable weights in tfjs) of one unit. */
const unitBuffers = (c: number) => 2 * c + 2 * (c / 4) + 2 * (c / 4);
/** Units of the module: p pre + t trunk + mask (r per level down, skip units, r at the bottom, r per level up) + p post. */
const raUnits = (p: number, t: number, r: number, levels: number) => p + t + (levels * r + (levels - 1) + r + (levels - 1) * r) + p;

test('residualAttention (a): output, mask and mask mean equal (1 + M(x))·T(x) computed directly', async () => {
  const { tf, model, ys, input } = await setup(RA, {}, { x: image(7, 6, 8) }, { in: 'x' }, ['out', 'mask', 'maskMean']);
  const ref = residualAttentionReference(tf, model, input.x);
  assertClose(ys.mask, ref.mask, 1e-4, 'mask');
  assertClose(ys.maskMean, ref.maskMean, 1e-4, 'mask mean');
  assertClose(ys.out, ref.out, 1e-4, 'output');
  const m = arr(ys.mask);
  assert.ok(
    m.every((v) => v > 0 && v < 1),
    'the mask lies in (0, 1)',
  );
  assert.ok(Math.max(...m) - Math.min(...m) > 0.1, 'the mask varies (the check is not trivially satisfied)');
});

test('residualAttention (d): parameter count equals the PyTorch pre-activation reference', async () => {
  const tf = await tfReady;
  for (const [params, c] of [
    [{}, 8],
    [{ p: 0, t: 1, r: 2, levels: 3 }, 16],
    [{ p: 2, t: 3, r: 1, levels: 1 }, 4],
  ] as const) {
    const compiled = compileGraph(tf, graphOf(RA, params, { x: image(8, 8, c) }, { in: 'x' }, ['out']));
    const { p = 1, t = 2, r = 1, levels = 2 } = params as { p?: number; t?: number; r?: number; levels?: number };
    const units = raUnits(p, t, r, levels);
    const maskHead = 2 * c + c * c + 2 * c + c * c; // BN, conv1x1, BN, conv1x1 (no bias)
    const node = compiled.nodeParams.get('blk')!;
    assert.equal(node.trainable, units * unitParams(c) + maskHead, `trainable parameters for ${JSON.stringify(params)}, C=${c}`);
    assert.equal(node.params - node.trainable, units * unitBuffers(c) + 4 * c, 'BatchNorm running statistics');
    assert.equal(compiled.trainableParams, node.trainable, 'all trainable parameters belong to the node');
  }
  // Written out for the defaults on 8 channels (bottleneck 2): 9 units of
  // BN(8) 16 + conv 8·2 + BN(2) 4 + conv 9·2·2 + BN(2) 4 + conv 2·8 = 92, and the mask head 16 + 64 + 16 + 64 = 160.
  const defaults = compileGraph(tf, graphOf(RA, {}, { x: image(8, 8, 8) }, { in: 'x' }, ['out']));
  assert.equal(defaults.trainableParams, 9 * 92 + 160);
});

test('residualAttention (e): bad wiring gives diagnostics on the node', () => {
  assertDiagnostic(graphOf(RA, {}, { x: image(8, 8, 6) }, { in: 'x' }, ['out']), /divisible by 4/, 'in');
  assertDiagnostic(graphOf(RA, {}, { x: vector(8) }, { in: 'x' }, ['out']), /rank 4/, 'in');
  assertDiagnostic(graphOf(RA, { levels: 0 }, { x: image(8, 8, 8) }, { in: 'x' }, ['out']), /levels/);
  assertNoErrors(graphOf(RA, {}, { x: image(8, 8, 8) }, { in: 'x' }, ['out', 'mask', 'maskMean']));
});

// ========================================================================================= attend and rectify

const AR = 'attention.attendRectify';

/** Attend and Rectify with 1×1 heads as plain sums: maps H, hypotheses o_k, gates g and Σ_k g_k o_k. */
function attendRectifyReference(z: Tensor, wa: Tensor, wo: Tensor, wg: Tensor, K: number, classes: number) {
  const [B, Hh, Ww] = z.shape;
  const A = pointwise(z, wa);
  const O = pointwise(z, wo);
  const S = pointwise(z, wg);
  const out: number[] = [];
  const maps: number[] = new Array(B * Hh * Ww * K).fill(0);
  const gates: number[] = [];
  for (let b = 0; b < B; b++) {
    const hyps: number[][] = [];
    const scores: number[] = [];
    for (let k = 0; k < K; k++) {
      const positions: [number, number][] = [];
      for (let i = 0; i < Hh; i++) for (let j = 0; j < Ww; j++) positions.push([i, j]);
      const h = softmax(positions.map(([i, j]) => A[b][i][j][k]));
      positions.forEach(([i, j], p) => (maps[((b * Hh + i) * Ww + j) * K + k] = h[p]));
      hyps.push(Array.from({ length: classes }, (_, c) => positions.reduce((s, [i, j], p) => s + h[p] * O[b][i][j][k * classes + c], 0)));
      scores.push(positions.reduce((s, [i, j], p) => s + h[p] * S[b][i][j][k], 0));
    }
    const g = softmax(scores.map(Math.tanh));
    gates.push(...g);
    for (let c = 0; c < classes; c++) out.push(g.reduce((s, gk, k) => s + gk * hyps[k][c], 0));
  }
  return { out, maps, gates };
}

test('attendRectify (a): hypothesis, maps and gates equal the paper formulas computed directly', async () => {
  const [K, classes] = [3, 5];
  const { model, ys, input } = await setup(AR, { heads: K, classes }, { z: image(4, 5, 6) }, { in: 'z' }, ['out', 'maps', 'gates']);
  const ref = attendRectifyReference(
    input.z,
    weightsOf(model, 'blk_attention')[0],
    weightsOf(model, 'blk_outputs')[0],
    weightsOf(model, 'blk_gate_scores')[0],
    K,
    classes,
  );
  assertClose(ys.maps, ref.maps, 1e-5, 'attention maps');
  assertClose(ys.gates, ref.gates, 1e-5, 'gates');
  assertClose(ys.out, ref.out, 1e-4, 'hypothesis');
  // Each map is a distribution over positions; the gates are one over heads.
  const maps = view(ys.maps.dataSync(), ys.maps.shape);
  for (let k = 0; k < K; k++) {
    let s = 0;
    for (let i = 0; i < 4; i++) for (let j = 0; j < 5; j++) s += maps(1, i, j, k);
    assert.ok(Math.abs(s - 1) < 1e-5, `map ${k} sums to 1`);
  }
  assert.ok(
    Math.abs(
      arr(ys.gates)
        .slice(0, K)
        .reduce((a, b) => a + b, 0) - 1,
    ) < 1e-5,
  );
});

test("attendRectify (d): parameter count equals the authors' PyTorch module (bias-free heads)", async () => {
  const tf = await tfReady;
  for (const [K, classes, kernel, C] of [
    [4, 10, 1, 16],
    [2, 3, 3, 8],
  ]) {
    const compiled = compileGraph(tf, graphOf(AR, { heads: K, classes, kernel }, { z: image(6, 6, C) }, { in: 'z' }, ['out']));
    // AttentionHead Conv2d(C, K), OutHead Conv2d(C, K·classes), score Conv2d(C, K), all bias=False.
    const expected = kernel * kernel * C * (K + K * classes + K);
    assert.equal(compiled.nodeParams.get('blk')!.params, expected);
    assert.equal(compiled.trainableParams, expected);
  }
});

test('attendRectify (e): bad wiring gives diagnostics on the node', () => {
  assertDiagnostic(graphOf(AR, {}, { z: vector(8) }, { in: 'z' }, ['out']), /rank 4/, 'in');
  assertDiagnostic(graphOf(AR, { heads: 0 }, { z: image(4, 4, 8) }, { in: 'z' }, ['out']), /heads/);
  assertNoErrors(graphOf(AR, {}, { z: image(4, 4, 8) }, { in: 'z' }, ['out', 'maps', 'gates']));
});

// ============================================================================================== global gate

const GG = 'attention.globalGate';
const ggSources = (classes: number, features?: number): Sources => ({
  net: vector(classes),
  h1: vector(classes),
  h2: vector(classes),
  ...(features ? { f: vector(features) } : {}),
});
const ggWires = (features: boolean): Record<string, string> => ({ net: 'net', hyp1: 'h1', hyp2: 'h2', ...(features ? { features: 'f' } : {}) });

/** g = softmax(tanh(f W)), out = g_0 · p_net + Σ_l g_l · softmax(o_l), per sample. */
function globalGateReference(f: number[], w: Tensor, pNet: number[], hyps: number[][]) {
  const Wv = view(w.dataSync(), w.shape);
  const g = softmax(Array.from({ length: w.shape[1] as number }, (_, j) => Math.tanh(f.reduce((s, v, i) => s + v * Wv(i, j), 0))));
  const dists = [pNet, ...hyps.map(softmax)];
  return { gates: g, out: pNet.map((_, c) => dists.reduce((s, d, l) => s + g[l] * d[c], 0)) };
}

for (const variant of [
  { label: 'probabilities with features', params: { hypotheses: 2 }, features: 6 },
  { label: 'logits, gates from the output', params: { hypotheses: 2, net: 'logits' }, features: 0 },
]) {
  test(`globalGate (a): ${variant.label}: output and gates equal the mixture formula computed directly`, async () => {
    const classes = 4;
    const { model, ys, input } = await setup(GG, variant.params, ggSources(classes, variant.features), ggWires(!!variant.features), ['out', 'gates']);
    const w = weightsOf(model, 'blk_gates')[0];
    const rows = (t: Tensor) => {
      const a = arr(t);
      return [a.slice(0, a.length / 2), a.slice(a.length / 2)];
    };
    const net = rows(input.net);
    const [h1, h2] = [rows(input.h1), rows(input.h2)];
    const f = variant.features ? rows(input.f) : net;
    const out: number[] = [];
    const gates: number[] = [];
    for (const b of [0, 1]) {
      const pNet = variant.params.net === 'logits' ? softmax(net[b]) : net[b];
      const r = globalGateReference(f[b], w, pNet, [h1[b], h2[b]]);
      out.push(...r.out);
      gates.push(...r.gates);
    }
    assertClose(ys.gates, gates, 1e-5, 'gates');
    assertClose(ys.out, out, 1e-5, 'output');
  });
}

test('globalGate (d): parameter count equals Linear(F, N + 1, bias=False)', async () => {
  const tf = await tfReady;
  const withFeatures = compileGraph(tf, graphOf(GG, { hypotheses: 2 }, ggSources(10, 64), ggWires(true), ['out']));
  assert.equal(withFeatures.nodeParams.get('blk')!.params, 64 * 3);
  const fromOutput = compileGraph(tf, graphOf(GG, { hypotheses: 2 }, ggSources(10), ggWires(false), ['out']));
  assert.equal(fromOutput.nodeParams.get('blk')!.params, 10 * 3);
});

test('globalGate (e): bad wiring gives diagnostics on the node', () => {
  const sources = { ...ggSources(4), h2: vector(3) };
  assertDiagnostic(graphOf(GG, {}, sources, ggWires(false), ['out']), /"hyp2" has 3 classes.*"net" has 4/, 'hyp2');
  assertDiagnostic(graphOf(GG, {}, ggSources(4), { net: 'net', hyp1: 'h1' }, ['out']), /required input "hyp2"/, 'hyp2');
  assertDiagnostic(graphOf(GG, {}, { ...ggSources(4), net: image(2, 2, 4) }, ggWires(false), ['out']), /rank 2/, 'net');
  assertNoErrors(graphOf(GG, {}, ggSources(4, 3), ggWires(true), ['out', 'gates']));
});

// ================================================================================ local self-attention 2D

const LSA = 'attention.localSelfAttention2d';

/** y_ij = Σ_ab∈N(ij) softmax_ab(q_ij·(k_ab + r_(a−i,b−j))) v_ab per head, neighbours inside the image only. */
function localSelfAttentionReference(x: Tensor, wq: Tensor, wk: Tensor, wv: Tensor, rows: Tensor, cols: Tensor, heads: number, kernel: number) {
  const [B, H, W] = x.shape;
  const C = wq.shape[3] as number;
  const dh = C / heads;
  const [q, k, v] = [pointwise(x, wq), pointwise(x, wk), pointwise(x, wv)];
  const R = view(rows.dataSync(), rows.shape);
  const Cl = view(cols.dataSync(), cols.shape);
  const rel = (a: number, b: number, c: number) => (c < C / 2 ? R(a, c) : Cl(b, c - C / 2));
  const pad = (kernel - 1) / 2;
  const y = new Array(B * H * W * C).fill(0);
  const att = new Array(B * heads * H * W * kernel * kernel).fill(0);
  for (let n = 0; n < B; n++)
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++)
        for (let h = 0; h < heads; h++) {
          const window: [number, number, number, number][] = [];
          for (let a = 0; a < kernel; a++)
            for (let b = 0; b < kernel; b++) {
              const [yy, xx] = [i + a - pad, j + b - pad];
              if (yy >= 0 && yy < H && xx >= 0 && xx < W) window.push([a, b, yy, xx]);
            }
          const logits = window.map(([a, b, yy, xx]) => {
            let s = 0;
            for (let d = h * dh; d < (h + 1) * dh; d++) s += q[n][i][j][d] * (k[n][yy][xx][d] + rel(a, b, d));
            return s;
          });
          const w = softmax(logits);
          window.forEach(([a, b, yy, xx], m) => {
            att[(((n * heads + h) * H + i) * W + j) * kernel * kernel + a * kernel + b] = w[m];
            for (let d = h * dh; d < (h + 1) * dh; d++) y[((n * H + i) * W + j) * C + d] += w[m] * v[n][yy][xx][d];
          });
        }
  return { y, att };
}

test('localSelfAttention2d (a): output and window weights equal the stand-alone self-attention formula', async () => {
  const [heads, kernel] = [2, 3];
  const { model, ys, input } = await setup(LSA, { channels: 8, heads, kernel }, { x: image(5, 4, 3) }, { in: 'x' }, ['out', 'attention']);
  const [rows, cols] = weightsOf(model, 'blk_attention');
  const ref = localSelfAttentionReference(
    input.x,
    weightsOf(model, 'blk_query')[0],
    weightsOf(model, 'blk_key')[0],
    weightsOf(model, 'blk_value')[0],
    rows,
    cols,
    heads,
    kernel,
  );
  assert.deepEqual(ys.attention.shape, [2, heads, 20, 9]);
  assertClose(ys.attention, ref.att, 1e-5, 'window weights');
  assertClose(ys.out, ref.y, 1e-4, 'output');
  // The corner position (0, 0) sees only 4 of its 9 neighbours: the 5 outside the image weigh exactly 0.
  const corner = arr(ys.attention).slice(0, 9);
  assert.deepEqual(
    [0, 1, 2, 3, 6].map((i) => corner[i]),
    [0, 0, 0, 0, 0],
  );
});

test('localSelfAttention2d (d): parameter count equals the PyTorch reference (3 bias-free 1×1 projections + rel_h, rel_w)', async () => {
  const tf = await tfReady;
  for (const [cin, dout, heads, kernel] of [
    [3, 8, 2, 3],
    [16, 32, 8, 7],
  ]) {
    const compiled = compileGraph(tf, graphOf(LSA, { channels: dout, heads, kernel }, { x: image(8, 8, cin) }, { in: 'x' }, ['out']));
    assert.equal(compiled.nodeParams.get('blk')!.params, 3 * cin * dout + (dout / 2) * kernel * 2);
  }
});

test('localSelfAttention2d (e): bad wiring gives diagnostics on the node', () => {
  assertDiagnostic(graphOf(LSA, { channels: 6, heads: 4 }, { x: image(4, 4, 3) }, { in: 'x' }, ['out']), /heads 4 must divide channels 6/);
  assertDiagnostic(graphOf(LSA, { kernel: 4 }, { x: image(4, 4, 3) }, { in: 'x' }, ['out']), /must be odd/);
  assertDiagnostic(graphOf(LSA, { channels: 9, heads: 3 }, { x: image(4, 4, 3) }, { in: 'x' }, ['out']), /must be even/);
  assertDiagnostic(graphOf(LSA, {}, { x: vector(4) }, { in: 'x' }, ['out']), /rank 4/, 'in');
  assertNoErrors(graphOf(LSA, {}, { x: image(4, 4, 3) }, { in: 'x' }, ['out', 'attention']));
});

// ================================================================================ attention-augmented conv

const AA = 'attention.augmentedConv';

/**
 * Bello et al.'s augmented_conv2d: concat[conv(X), W_O · MHA(X)], MHA logits q·k/√dkh + q·r^H_(x'−x) + q·r^W_(y'−y)
 * with q already scaled, as in the paper's code.
 */
function augmentedConvReference(tf: TF, model: tfjs.LayersModel, x: Tensor, o: { filters: number; dk: number; dv: number; heads: number; relative: boolean }) {
  const [B, H, W] = x.shape;
  const { dk, dv, heads } = o;
  const [dkh, dvh] = [dk / heads, dv / heads];
  const [wqkv, bqkv] = weightsOf(model, 'blk_qkv');
  const qkv = pointwise(x, wqkv, bqkv);
  const [relW, relH] = o.relative ? weightsOf(model, 'blk_attention').map((t) => view(t.dataSync(), t.shape)) : [];
  const N = H * W;
  const attn: number[] = [];
  const mha: number[][][][] = Array.from({ length: B }, () => Array.from({ length: H }, () => Array.from({ length: W }, () => new Array(dv).fill(0))));
  for (let b = 0; b < B; b++)
    for (let h = 0; h < heads; h++)
      for (let p = 0; p < N; p++) {
        const [x0, y0] = [Math.floor(p / W), p % W];
        const q = Array.from({ length: dkh }, (_, d) => qkv[b][x0][y0][h * dkh + d] * dkh ** -0.5);
        const logits = Array.from({ length: N }, (_, p2) => {
          const [x1, y1] = [Math.floor(p2 / W), p2 % W];
          let s = 0;
          for (let d = 0; d < dkh; d++) {
            s += q[d] * qkv[b][x1][y1][dk + h * dkh + d];
            if (relW) s += q[d] * (relH(x1 - x0 + H - 1, d) + relW(y1 - y0 + W - 1, d));
          }
          return s;
        });
        const w = softmax(logits);
        attn.push(...w);
        w.forEach((wt, p2) => {
          const [x1, y1] = [Math.floor(p2 / W), p2 % W];
          for (let d = 0; d < dvh; d++) mha[b][x0][y0][h * dvh + d] += wt * qkv[b][x1][y1][2 * dk + h * dvh + d];
        });
      }
  const [wo, bo] = weightsOf(model, 'blk_attn_out');
  const attnOut = pointwise(tf.tensor(mha), wo, bo);
  let out = tf.tensor(attnOut);
  if (o.dv < o.filters) {
    const [wc, bc] = weightsOf(model, 'blk_conv');
    const conv = tf.add(tf.conv2d(x as tfjs.Tensor4D, wc as tfjs.Tensor4D, 1, 'same'), bc);
    out = tf.concat([conv, out], -1);
  }
  return { out, attn };
}

for (const variant of [
  { label: 'relative', params: { filters: 6, kernel: 3, dk: 4, dv: 4, heads: 2, relative: true } },
  { label: 'fully attentional, no relative logits', params: { filters: 4, kernel: 3, dk: 2, dv: 4, heads: 2, relative: false } },
]) {
  test(`augmentedConv (a): ${variant.label}: output and attention equal the paper's formula computed directly`, async () => {
    const { tf, model, ys, input } = await setup(AA, variant.params, { x: image(3, 4, 3) }, { in: 'x' }, ['out', 'attention']);
    const ref = augmentedConvReference(tf, model, input.x, variant.params);
    assert.deepEqual(ys.attention.shape, [2, variant.params.heads, 12, 12]);
    assertClose(ys.attention, ref.attn, 1e-5, 'attention weights');
    assertClose(ys.out, ref.out, 1e-4, 'output');
  });
}

test("augmentedConv (d): parameter count equals the paper's reference (conv, qkv and output 1×1 convs with bias, key_rel_h/w)", async () => {
  const tf = await tfReady;
  for (const [cin, H, W, p] of [
    [3, 8, 8, { filters: 16, kernel: 3, dk: 8, dv: 8, heads: 2, relative: true }],
    [5, 6, 7, { filters: 12, kernel: 5, dk: 12, dv: 4, heads: 4, relative: true }],
    [4, 5, 5, { filters: 8, kernel: 3, dk: 4, dv: 8, heads: 1, relative: false }],
  ] as const) {
    const compiled = compileGraph(tf, graphOf(AA, p, { x: image(H, W, cin) }, { in: 'x' }, ['out']));
    const conv = p.dv < p.filters ? p.kernel * p.kernel * cin * (p.filters - p.dv) + (p.filters - p.dv) : 0;
    const qkv = cin * (2 * p.dk + p.dv) + (2 * p.dk + p.dv);
    const attnOut = p.dv * p.dv + p.dv;
    const rel = p.relative ? (2 * H - 1 + 2 * W - 1) * (p.dk / p.heads) : 0;
    assert.equal(compiled.nodeParams.get('blk')!.params, conv + qkv + attnOut + rel, JSON.stringify(p));
  }
});

test('augmentedConv (e): bad wiring gives diagnostics on the node', () => {
  assertDiagnostic(graphOf(AA, { dk: 6, heads: 4 }, { x: image(4, 4, 3) }, { in: 'x' }, ['out']), /heads 4 must divide dk 6/);
  assertDiagnostic(graphOf(AA, { dv: 6, heads: 4, dk: 8 }, { x: image(4, 4, 3) }, { in: 'x' }, ['out']), /heads 4 must divide dv 6/);
  assertDiagnostic(graphOf(AA, { filters: 4, dv: 8 }, { x: image(4, 4, 3) }, { in: 'x' }, ['out']), /dv 8 is more than the 4 output filters/);
  assertDiagnostic(graphOf(AA, {}, { x: vector(4) }, { in: 'x' }, ['out']), /rank 4/, 'in');
  assertNoErrors(graphOf(AA, {}, { x: image(4, 4, 3) }, { in: 'x' }, ['out', 'attention']));
});
