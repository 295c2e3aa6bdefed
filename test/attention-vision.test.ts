// The vision attention blocks (issue 3, items 5, 6, 7, 9, 11): for each block,
// (a) its outputs for fixed weights and inputs against the paper's formula,
//     written here independently with plain tf ops or plain arrays;
// (b) training behaviour particular to a block (the non-local block's identity start, the attention
//     branch's own loss); that every weight trains and save/load reproduces the outputs, for every
//     example of every block, is test/block-conformance.test.ts's;
// (d) parameter counts equal the reference PyTorch modules, derived by hand;
// (e) bad wiring gives a diagnostic on the node.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfjs from '@tensorflow/tfjs';
import { compileGraph, type CompiledGraph } from '../engine/compile/compile.js';
import { analyzeGraph } from '../engine/shapes/analyze.js';
import type { GraphFile, GraphNode } from '../engine/graph/types.js';
import { tfReady } from './helpers/tf.js';

type T = tfjs.Tensor;
const tf = await tfReady;

// ---------------------------------------------------------------- graphs

/** [h, w, c] is an image input, [t, f] a sequence, [f] a vector. */
type InputSpec = number[];

function inputNode(id: string, s: InputSpec, x: number): GraphNode {
  const params =
    s.length === 3
      ? { kind: 'image', height: s[0], width: s[1], channels: s[2] }
      : s.length === 2
        ? { kind: 'sequence', length: s[0], features: s[1] }
        : { kind: 'vector', features: s[0] };
  return { id, type: 'io.input', params, position: { x, y: 0 } };
}

interface Setup {
  type: string;
  params?: Record<string, unknown>;
  /** Block input port -> input spec; each becomes an io.input node named after the port. */
  inputs: Record<string, InputSpec>;
  /** Block output ports wired to io.output nodes (named `o_<port>`), with their loss. */
  outputs: Record<string, string>;
}

function graphOf(s: Setup): GraphFile {
  const ports = Object.keys(s.inputs);
  return {
    format: 'attention-studio.graph',
    version: 1,
    name: `test_${s.type.replace(/\W/g, '_')}`,
    nodes: [
      ...ports.map((p, i) => inputNode(`i_${p}`, s.inputs[p], i * 100)),
      { id: 'blk', type: s.type, params: s.params ?? {}, position: { x: 0, y: 100 } },
      ...Object.entries(s.outputs).map(([p, loss], i) => ({ id: `o_${p}`, type: 'io.output', params: { loss }, position: { x: i * 100, y: 200 } })),
    ],
    edges: [
      ...ports.map((p) => ({ from: { node: `i_${p}`, port: 'out' }, to: { node: 'blk', port: p } })),
      ...Object.keys(s.outputs).map((p) => ({ from: { node: 'blk', port: p }, to: { node: `o_${p}`, port: 'in' } })),
    ],
  };
}

// ---------------------------------------------------------------- data and weights

/** A seeded stream of uniform numbers (LCG), so tests do not depend on tfjs's RNG. */
function uniform(seed: number) {
  let s = seed >>> 0 || 1;
  return (lo: number, hi: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  };
}

function randomTensor(shape: number[], seed: number, lo = -1, hi = 1): T {
  const u = uniform(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, () => u(lo, hi)),
    shape,
  );
}

const concrete = (spec: InputSpec, batch: number) => [batch, ...spec];

function feedsFor(c: CompiledGraph, s: Setup, batch: number, seed = 11): T[] {
  return c.inputs.map((inp, k) => randomTensor(concrete(s.inputs[inp.nodeId.slice(2)], batch), seed + k));
}

/** Gives every weight of the block's layers fixed values; returns them by "layerSuffix/weight". */
function fixWeights(model: tfjs.LayersModel, prefix = 'blk', seed = 5): Record<string, T> {
  const u = uniform(seed);
  const byName: Record<string, T> = {};
  for (const layer of model.layers) {
    if (!layer.name.startsWith(`${prefix}_`) || layer.weights.length === 0) continue;
    const values = layer.weights.map((w) => {
      const short = w.name.split('/').pop()!.replace(/_\d+$/, '');
      const positive = short === 'moving_variance' || short === 'gamma';
      const n = w.shape.reduce((a: number, b) => a * (b ?? 1), 1);
      const t = tf.tensor(
        Float32Array.from({ length: n }, () => (positive ? u(0.5, 1.5) : u(-0.6, 0.6))),
        w.shape as number[],
      );
      byName[`${layer.name.slice(prefix.length + 1)}/${short}`] = t;
      return t;
    });
    layer.setWeights(values);
  }
  return byName;
}

function predictAll(c: CompiledGraph, feeds: T[]): Record<string, T> {
  const ys = c.model.predict(feeds) as T | T[];
  const list = Array.isArray(ys) ? ys : [ys];
  return Object.fromEntries(c.outputs.map((o, i) => [o.nodeId.slice(2), list[i]]));
}

function assertClose(actual: T, expected: T, tol = 1e-4, what = 'output'): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.dataSync();
  const e = expected.dataSync();
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - e[i]));
  assert.ok(worst <= tol, `${what}: max |difference| ${worst} > ${tol}`);
}

// ---------------------------------------------------------------- reference maths (independent of the blocks)

/** PyTorch-style convolution: symmetric zero padding (k − 1)/2, then a valid convolution. */
function convSame(x: T, kernel: T, bias?: T): T {
  const k = kernel.shape[0];
  const p = (k - 1) / 2;
  const y = tf.conv2d(
    tf.pad(x, [
      [0, 0],
      [p, p],
      [p, p],
      [0, 0],
    ]) as tfjs.Tensor4D,
    kernel as tfjs.Tensor4D,
    1,
    'valid',
  );
  return bias ? tf.add(y, bias) : y;
}

/** Inference-mode BatchNorm over the last axis; ε = 1e-5 as in PyTorch. */
function bnInfer(x: T, W: Record<string, T>, layer: string): T {
  const scale = tf.div(W[`${layer}/gamma`], tf.sqrt(tf.add(W[`${layer}/moving_variance`], 1e-5)));
  return tf.add(tf.mul(tf.sub(x, W[`${layer}/moving_mean`]), scale), W[`${layer}/beta`]);
}

/** A linear map on the last axis, y = xW + b. */
function linear(x: T, W: T, b?: T): T {
  const shape = x.shape;
  const y = tf.matMul(tf.reshape(x, [-1, shape[shape.length - 1]]) as tfjs.Tensor2D, W as tfjs.Tensor2D);
  const out = tf.reshape(y, [...shape.slice(0, -1), W.shape[1]!]);
  return b ? tf.add(out, b) : out;
}

/** SE / CBAM channel weights from pooled descriptors [B, C] through FC-ReLU-FC. */
const mlp = (v: T, W: Record<string, T>, pre: string, bias: boolean) =>
  linear(tf.relu(linear(v, W[`${pre}fc1/kernel`], bias ? W[`${pre}fc1/bias`] : undefined)), W[`${pre}fc2/kernel`], bias ? W[`${pre}fc2/bias`] : undefined);

const expandChannels = (w: T) => tf.reshape(w, [w.shape[0], 1, 1, w.shape[1]!]);

function cbamChannelRef(x: T, W: Record<string, T>, pre: string, bias = true) {
  const avg = tf.mean(x, [1, 2]);
  const max = tf.max(x, [1, 2]);
  const weights = tf.sigmoid(tf.add(mlp(avg, W, pre, bias), mlp(max, W, pre, bias)));
  return { weights, out: tf.mul(x, expandChannels(weights)) };
}

/** CBAM spatial gate with plain arrays for the channel pooling. */
function cbamSpatialRef(x: T, W: Record<string, T>, pre: string, batchNorm: boolean) {
  const [b, h, w, c] = x.shape;
  const xs = x.dataSync();
  const pooled = new Float32Array(b * h * w * 2);
  for (let i = 0; i < b * h * w; i++) {
    let sum = 0;
    let max = -Infinity;
    for (let k = 0; k < c; k++) {
      sum += xs[i * c + k];
      max = Math.max(max, xs[i * c + k]);
    }
    pooled[2 * i] = sum / c;
    pooled[2 * i + 1] = max;
  }
  let m = convSame(tf.tensor(pooled, [b, h, w, 2]), W[`${pre}conv/kernel`]);
  if (batchNorm) m = bnInfer(m, W, `${pre}bn`);
  m = tf.sigmoid(m);
  return { map: tf.reshape(m, [b, h, w]), out: tf.mul(x, m) };
}

// ---------------------------------------------------------------- shared checks (b)

async function checkTrainingStep(s: Setup, opts: { batch?: number; expectFrozen?: (name: string) => boolean; prepare?: (c: CompiledGraph) => void } = {}) {
  const c = compileGraph(tf, graphOf(s));
  opts.prepare?.(c);
  const batch = opts.batch ?? 4;
  const feeds = feedsFor(c, s, batch);
  const targets = c.outputs.map((o, k) => {
    const shape = concrete(o.shape.slice(1) as number[], batch);
    if (o.loss === 'categoricalCrossentropy') return tf.oneHot(tf.tensor1d([0, 1, 2, 1].slice(0, batch), 'int32'), shape[1]).toFloat();
    return randomTensor(shape, 99 + k);
  });
  // tfjs adds the outputs' unreduced losses before averaging (training.js) and has no lossWeights, so
  // several outputs of different ranks need losses reduced to weighted scalars: L = Σ w_k·mean(L_k).
  const lossOf = (name: string, weight: number) => (t: T, p: T) => tf.mul(tf.mean(tf.metrics[name as 'meanSquaredError'](t, p)), weight);
  c.model.compile({ optimizer: tf.train.adam(0.01), loss: c.outputs.map((o) => lossOf(o.loss!, o.weight)) });
  const blockWeights = c.model.trainableWeights.filter((w) => w.name.startsWith('blk_'));
  assert.ok(blockWeights.length > 0, 'the block has trainable weights');
  const before = blockWeights.map((w) => w.read().dataSync().slice());
  await c.model.trainOnBatch(feeds, targets);
  blockWeights.forEach((w, i) => {
    const after = w.read().dataSync();
    const changed = after.some((v, j) => v !== before[i][j]);
    const frozen = opts.expectFrozen?.(w.name) ?? false;
    assert.equal(changed, !frozen, `${w.name} ${frozen ? 'should not move yet' : 'did not change: no gradient reaches it'}`);
  });
  return c;
}

function paramsOf(s: Setup) {
  const c = compileGraph(tf, graphOf(s));
  return c.nodeParams.get('blk')!;
}

function diagnosticsOn(s: Setup) {
  return analyzeGraph(graphOf(s)).diagnostics.filter((d) => d.nodeId === 'blk' && d.severity === 'error');
}

function assertDiagnostic(s: Setup, pattern: RegExp, port?: string) {
  const ds = diagnosticsOn(s);
  const hit = ds.find((d) => pattern.test(d.message));
  assert.ok(hit, `expected a diagnostic matching ${pattern} on the block, got ${JSON.stringify(ds)}`);
  if (port) assert.equal(hit.port, port);
}

// ---------------------------------------------------------------- Squeeze-and-Excitation

describe('attention.squeezeExcitation', () => {
  const s: Setup = {
    type: 'attention.squeezeExcitation',
    params: { reduction: 4 },
    inputs: { in: [6, 6, 8] },
    outputs: { out: 'meanSquaredError', weights: 'none' },
  };

  test('(a) y = x · σ(W2 ReLU(W1 GAP(x) + b1) + b2), weights [B, C]', () => {
    for (const bias of [true, false]) {
      const setup = { ...s, params: { reduction: 3, bias } };
      const c = compileGraph(tf, graphOf(setup));
      const W = fixWeights(c.model);
      const [x] = feedsFor(c, setup, 2);
      const y = predictAll(c, [x]);
      const weights = tf.sigmoid(mlp(tf.mean(x, [1, 2]), W, '', bias));
      assert.equal(W['fc1/kernel'].shape[1], 2, 'hidden width ⌊8/3⌋ = 2');
      assertClose(y.weights, weights, 1e-5, 'channel weights');
      assertClose(y.out, tf.mul(x, expandChannels(weights)), 1e-5, 'y');
    }
    const att = compileGraph(tf, graphOf(s)).attention;
    assert.deepEqual(
      att.map((a) => [a.port, a.kind, a.shape]),
      [['weights', 'channel', [null, 8]]],
    );
  });

  test('(d) parameters equal torchvision.ops.SqueezeExcitation(C, ⌊C/r⌋)', () => {
    // fc1: C·h + h, fc2: h·C + C (1×1 convs with bias); without bias 2·C·h.
    const count = (c: number, r: number, bias: boolean) => {
      const h = Math.max(1, Math.floor(c / r));
      return 2 * c * h + (bias ? h + c : 0);
    };
    for (const [c, r, bias] of [
      [8, 4, true],
      [8, 3, true],
      [12, 16, true],
      [8, 2, false],
    ] as const) {
      const p = paramsOf({ ...s, params: { reduction: r, bias }, inputs: { in: [6, 6, c] } });
      assert.deepEqual(p, { params: count(c, r, bias), trainable: count(c, r, bias) }, `C=${c} r=${r} bias=${bias}`);
    }
    assert.equal(count(8, 4, true), 42);
  });

  test('(e) bad wiring: a vector into SE', () => {
    assertDiagnostic({ ...s, inputs: { in: [8] } }, /rank 4/, 'in');
    assertDiagnostic({ ...s, params: { reduction: 0 } }, /reduction/);
  });
});

// ---------------------------------------------------------------- CBAM

describe('attention.cbam and its halves', () => {
  const img = { in: [6, 6, 8] };
  const full: Setup = {
    type: 'attention.cbam',
    params: { reduction: 4, kernel: 3 },
    inputs: img,
    outputs: { out: 'meanSquaredError', channelWeights: 'none', spatialMap: 'none' },
  };
  const channel: Setup = { type: 'attention.cbamChannel', params: { reduction: 4 }, inputs: img, outputs: { out: 'meanSquaredError', channelWeights: 'none' } };
  const spatial: Setup = { type: 'attention.cbamSpatial', params: { kernel: 3 }, inputs: img, outputs: { out: 'meanSquaredError', spatialMap: 'none' } };

  test('(a) channel: M_c = σ(MLP(AvgPool x) + MLP(MaxPool x)), y = M_c ⊙ x', () => {
    const c = compileGraph(tf, graphOf(channel));
    const W = fixWeights(c.model);
    const [x] = feedsFor(c, channel, 2);
    const y = predictAll(c, [x]);
    const ref = cbamChannelRef(x, W, '');
    assertClose(y.channelWeights, ref.weights, 1e-5, 'M_c');
    assertClose(y.out, ref.out, 1e-5, 'y');
  });

  test('(a) spatial: M_s = σ(BN(conv_k([mean; max]))), y = M_s ⊙ x, with and without BatchNorm', () => {
    for (const [kernel, batchNorm] of [
      [3, true],
      [5, false],
      [7, true],
    ] as const) {
      const setup = { ...spatial, params: { kernel, batchNorm } };
      const c = compileGraph(tf, graphOf(setup));
      const W = fixWeights(c.model);
      const [x] = feedsFor(c, setup, 2);
      const y = predictAll(c, [x]);
      const ref = cbamSpatialRef(x, W, '', batchNorm);
      assertClose(y.spatialMap, ref.map, 1e-5, `M_s k=${kernel}`);
      assertClose(y.out, ref.out, 1e-5, `y k=${kernel}`);
    }
  });

  test('(a) CBAM: channel then spatial, F″ = M_s(F′) ⊙ F′', () => {
    const c = compileGraph(tf, graphOf(full));
    const W = fixWeights(c.model);
    const [x] = feedsFor(c, full, 2);
    const y = predictAll(c, [x]);
    const ch = cbamChannelRef(x, W, 'channel_');
    const sp = cbamSpatialRef(ch.out, W, 'spatial_', true);
    assertClose(y.channelWeights, ch.weights, 1e-5, 'M_c');
    assertClose(y.spatialMap, sp.map, 1e-5, 'M_s');
    assertClose(y.out, sp.out, 1e-5, 'F″');
    assert.deepEqual(
      c.attention.map((a) => [a.port, a.kind, a.shape]),
      [
        ['channelWeights', 'channel', [null, 8]],
        ['spatialMap', 'spatial', [null, 6, 6]],
      ],
    );
  });

  test("(d) parameters equal the authors' ChannelGate + SpatialGate (Jongchan/attention-module)", () => {
    // ChannelGate: Linear(C, h) + Linear(h, C) = 2·C·h + h + C.
    // SpatialGate: Conv2d(2, 1, k, bias=False) + BatchNorm2d(1): 2·k² + 2, and 2 running statistics.
    const mlpCount = (c: number, r: number) => 2 * c * Math.max(1, Math.floor(c / r)) + Math.max(1, Math.floor(c / r)) + c;
    const spatialCount = (k: number, bn: boolean) => 2 * k * k + (bn ? 2 : 0);
    assert.deepEqual(paramsOf({ ...channel, params: { reduction: 4 } }), { params: mlpCount(8, 4), trainable: 42 });
    assert.deepEqual(paramsOf({ ...spatial, params: { kernel: 7 } }), { params: 98 + 2 + 2, trainable: spatialCount(7, true) });
    assert.deepEqual(paramsOf({ ...spatial, params: { kernel: 3, batchNorm: false } }), { params: 18, trainable: spatialCount(3, false) });
    assert.deepEqual(paramsOf({ ...full, params: { reduction: 16 }, inputs: { in: [6, 6, 32] } }), {
      params: mlpCount(32, 16) + spatialCount(7, true) + 2,
      trainable: 2 * 32 * 2 + 2 + 32 + 100,
    });
  });

  test('(e) bad wiring: rank, even kernel', () => {
    assertDiagnostic({ ...full, inputs: { in: [5, 8] } }, /rank 4/, 'in');
    assertDiagnostic({ ...spatial, params: { kernel: 4 } }, /kernel 4 is even/);
    assertDiagnostic({ ...full, params: { kernel: 6 } }, /even/);
  });
});

// ---------------------------------------------------------------- Non-local

/** The non-local block written with plain arrays: [b][i][c] lists, positions row-major. */
function nonLocalRef(x: T, W: Record<string, T>, pairwise: string, subsample: boolean) {
  const [b, h, w, c] = x.shape;
  const ci = Math.max(1, Math.floor(c / 2));
  const conv1x1 = (name: string) => linear(x, W[`${name}/kernel`].reshape([c, ci]), W[`${name}/bias`]);
  const pool = (t: T) => (subsample ? tf.maxPool(t as tfjs.Tensor4D, 2, 2, 'valid') : t);
  const rows = (t: T) => {
    const [, hh, ww, cc] = t.shape;
    const d = t.dataSync();
    return Array.from({ length: b }, (_, n) =>
      Array.from({ length: hh * ww }, (_, i) => Array.from(d.subarray((n * hh * ww + i) * cc, (n * hh * ww + i + 1) * cc))),
    );
  };
  const theta = rows(conv1x1('theta'));
  const phi = rows(pool(conv1x1('phi')));
  const g = rows(pool(conv1x1('g')));
  const dot = (u: number[], v: number[]) => u.reduce((s, ui, k) => s + ui * v[k], 0);
  const wf = pairwise === 'concatenation' ? Array.from(W['affinity/kernel'].dataSync()) : [];
  const keys = phi[0].length;
  const f = theta.map((tn, n) =>
    tn.map((ti) => {
      if (pairwise === 'concatenation') return phi[n].map((pj) => Math.max(0, dot(wf, [...ti, ...pj])) / keys);
      const s = phi[n].map((pj) => dot(ti, pj));
      if (pairwise === 'dotProduct') return s.map((v) => v / keys);
      const m = Math.max(...s);
      const e = s.map((v) => Math.exp(v - m));
      const z = e.reduce((a, v) => a + v, 0);
      return e.map((v) => v / z);
    }),
  );
  const y = f.map((fn, n) => fn.map((fi) => Array.from({ length: ci }, (_, k) => fi.reduce((s, fij, j) => s + fij * g[n][j][k], 0))));
  const yT = tf.tensor(y.flat(2), [b, h, w, ci]);
  const z = tf.add(bnInfer(linear(yT, W['wz/kernel'].reshape([ci, c]), W['wz/bias']), W, 'wz_bn'), x);
  return { out: z, affinity: tf.tensor(f.flat(2), [b, h * w, keys]) };
}

describe('attention.nonLocal', () => {
  const s: Setup = { type: 'attention.nonLocal', inputs: { in: [6, 6, 8] }, outputs: { out: 'meanSquaredError', affinity: 'none' } };

  for (const pairwise of ['embeddedGaussian', 'dotProduct', 'concatenation'])
    test(`(a) ${pairwise}: z = BN(W_z Σ_j f(θ_i, φ_j) g_j / C(x)) + x, with and without subsampling`, () => {
      for (const [subsample, shape] of [
        [true, [6, 5, 8]],
        [false, [4, 4, 6]],
      ] as const) {
        const setup = { ...s, params: { pairwise, subsample }, inputs: { in: [...shape] } };
        const c = compileGraph(tf, graphOf(setup));
        const W = fixWeights(c.model);
        const [x] = feedsFor(c, setup, 2);
        const y = predictAll(c, [x]);
        const ref = nonLocalRef(x, W, pairwise, subsample);
        assertClose(y.affinity, ref.affinity, 1e-5, `affinity (subsample ${subsample})`);
        assertClose(y.out, ref.out, 1e-4, `z (subsample ${subsample})`);
      }
    });

  test('(a) with γ = 0 at initialisation the block is the identity; the affinity is a [B, HW, HW/4] matrix', () => {
    const c = compileGraph(tf, graphOf(s));
    const [x] = feedsFor(c, s, 2);
    const y = predictAll(c, [x]);
    assertClose(y.out, x, 0, 'z = x');
    assert.deepEqual(y.affinity.shape, [2, 36, 9]);
    const rowSums = tf.sum(y.affinity, -1).dataSync();
    assert.ok(
      rowSums.every((v) => Math.abs(v - 1) < 1e-5),
      'embedded-Gaussian rows sum to 1',
    );
    assert.deepEqual(
      c.attention.map((a) => [a.port, a.kind, a.shape]),
      [['affinity', 'matrix', [null, 36, 9]]],
    );
  });

  const train = { ...s, outputs: { out: 'meanSquaredError' } };
  test('(b) at initialisation only the zero-γ BatchNorm learns (identity start); with γ ≠ 0 every weight does', async () => {
    for (const pairwise of ['embeddedGaussian', 'dotProduct', 'concatenation']) {
      const setup = { ...train, params: { pairwise } };
      await checkTrainingStep(setup, { expectFrozen: (n) => !/blk_wz_bn\/(gamma|beta)/.test(n) });
      await checkTrainingStep(setup, {
        prepare: (c) => {
          const bn = c.model.getLayer('blk_wz_bn');
          const [, ...rest] = bn.getWeights();
          bn.setWeights([tf.fill([8], 0.5), ...rest]);
        },
      });
    }
  });

  test('(d) parameters equal AlexHex7/Non-local_pytorch NONLocalBlock2D (bn_layer=True)', () => {
    // g, θ, φ: 3·(C·C′ + C′); W: C′·C + C; BatchNorm2d(C): 2·C (+2·C running stats); concat_project: 2·C′.
    const count = (c: number, concat: boolean) => {
      const ci = Math.max(1, Math.floor(c / 2));
      return 3 * (c * ci + ci) + ci * c + c + 2 * c + (concat ? 2 * ci : 0);
    };
    for (const [c, pairwise] of [
      [8, 'embeddedGaussian'],
      [8, 'dotProduct'],
      [8, 'concatenation'],
      [5, 'concatenation'],
      [1, 'embeddedGaussian'],
    ] as const) {
      const p = paramsOf({ ...s, params: { pairwise }, inputs: { in: [6, 6, c] } });
      const trainable = count(c, pairwise === 'concatenation');
      assert.deepEqual(p, { params: trainable + 2 * c, trainable }, `C=${c} ${pairwise}`);
    }
    assert.equal(count(8, false), 164);
  });

  test('(e) bad wiring: rank, and subsampling a 1-pixel-wide map', () => {
    assertDiagnostic({ ...s, inputs: { in: [6, 8] } }, /rank 4/, 'in');
    assertDiagnostic({ ...s, inputs: { in: [6, 1, 8] } }, /subsampling/, 'in');
    assert.deepEqual(diagnosticsOn({ ...s, params: { subsample: false }, inputs: { in: [6, 1, 8] } }), []);
  });
});

// ---------------------------------------------------------------- Attention branch

describe('attention.attentionBranch', () => {
  const s: Setup = {
    type: 'attention.attentionBranch',
    params: { classes: 3, convLayers: 1 },
    inputs: { in: [6, 6, 4] },
    outputs: { out: 'meanSquaredError', map: 'none', scores: 'auto' },
  };

  test('(a) scores = softmax(GAP(conv(ReLU(BN(conv_K(BN(f(x)))))))), M = σ(BN(conv_1(…))), out = (1 + M)·x', () => {
    for (const [convLayers, mapKernel] of [
      [1, 1],
      [0, 3],
      [2, 1],
    ] as const) {
      const setup = { ...s, params: { classes: 3, convLayers, mapKernel } };
      const c = compileGraph(tf, graphOf(setup));
      const W = fixWeights(c.model);
      const [x] = feedsFor(c, setup, 2);
      const y = predictAll(c, [x]);
      let a = x;
      for (let i = 1; i <= convLayers; i++) a = tf.relu(bnInfer(convSame(a, W[`conv${i}/kernel`]), W, `bn${i}`));
      a = bnInfer(a, W, 'bn');
      a = tf.relu(bnInfer(convSame(a, W['class_conv/kernel']), W, 'class_bn'));
      const scores = tf.softmax(tf.mean(convSame(a, W['score_conv/kernel']), [1, 2]));
      const m = tf.sigmoid(bnInfer(convSame(a, W['map_conv/kernel']), W, 'map_bn'));
      assertClose(y.scores, scores, 1e-5, `scores (n=${convLayers})`);
      assertClose(y.map, tf.reshape(m, [2, 6, 6]), 1e-5, `M (n=${convLayers})`);
      assertClose(y.out, tf.mul(x, tf.add(1, m)), 1e-5, `out (n=${convLayers})`);
    }
  });

  test('(b) one step on L_att + L_per changes every weight; scores train with their own cross-entropy', async () => {
    const setup = { ...s, outputs: { out: 'meanSquaredError', scores: 'auto' } };
    const c = await checkTrainingStep(setup);
    const scores = c.outputs.find((o) => o.nodeId === 'o_scores')!;
    assert.equal(scores.loss, 'categoricalCrossentropy');
    assert.deepEqual(
      c.attention.map((a) => [a.port, a.kind, a.shape]),
      [['map', 'spatial', [null, 6, 6]]],
    );
  });

  test("(d) parameters equal the authors' ResNet ABN branch with conv–BN–ReLU units", () => {
    // n·(Conv3×3 C→C + BN(C)) + bn_att BN(C) + att_conv C→K + bn_att2 BN(K) + att_conv2 K→K + att_conv3 K→1 (k×k) + bn_att3 BN(1); no conv biases.
    const count = (c: number, k: number, n: number, mk: number) => n * (9 * c * c + 2 * c) + 2 * c + c * k + 2 * k + k * k + mk * mk * k + 2;
    const stats = (c: number, k: number, n: number) => 2 * (n * c + c + k + 1);
    for (const [c, k, n, mk] of [
      [4, 3, 1, 1],
      [8, 5, 0, 3],
      [2, 10, 2, 1],
    ] as const) {
      const p = paramsOf({ ...s, params: { classes: k, convLayers: n, mapKernel: mk }, inputs: { in: [6, 6, c] } });
      assert.deepEqual(p, { params: count(c, k, n, mk) + stats(c, k, n), trainable: count(c, k, n, mk) }, `C=${c} K=${k} n=${n} k=${mk}`);
    }
    assert.equal(count(8, 5, 1, 1), 690);
  });

  test('(e) bad wiring: a sequence in, an even map kernel', () => {
    assertDiagnostic({ ...s, inputs: { in: [6, 4] } }, /rank 4/, 'in');
    assertDiagnostic({ ...s, params: { mapKernel: 2 } }, /even/);
  });
});

// ---------------------------------------------------------------- Gates

describe('attention.highwayGate', () => {
  const s: Setup = { type: 'attention.highwayGate', inputs: { in: [5, 8] }, outputs: { out: 'meanSquaredError', gate: 'none' } };

  test('(a) y = H(x)·T(x) + x·(1 − T(x)), T = σ(W_T x + b_T), on sequences, vectors and k×k on images', () => {
    const cases: [InputSpec, Record<string, unknown>][] = [
      [[5, 8], {}],
      [[6], { activation: 'tanh' }],
      [[6, 6, 4], { kernel: 3, activation: 'linear' }],
    ];
    for (const [spec, params] of cases) {
      const setup = { ...s, params, inputs: { in: spec } };
      const c = compileGraph(tf, graphOf(setup));
      const W = fixWeights(c.model);
      const [x] = feedsFor(c, setup, 2);
      const y = predictAll(c, [x]);
      const map = (n: string) => (spec.length === 3 ? convSame(x, W[`${n}/kernel`], W[`${n}/bias`]) : linear(x, W[`${n}/kernel`], W[`${n}/bias`]));
      const act = (params.activation ?? 'relu') as string;
      const hx = act === 'relu' ? tf.relu(map('transform')) : act === 'tanh' ? tf.tanh(map('transform')) : map('transform');
      const t = tf.sigmoid(map('gate'));
      assertClose(y.gate, t, 1e-5, `T ${JSON.stringify(spec)}`);
      assertClose(y.out, tf.add(tf.mul(hx, t), tf.mul(x, tf.sub(1, t))), 1e-5, `y ${JSON.stringify(spec)}`);
    }
  });

  test('(a) b_T starts at the chosen negative bias, so the gate starts mostly closed', () => {
    const c = compileGraph(tf, graphOf({ ...s, params: { gateBias: -3 } }));
    const bias = c.model.getLayer('blk_gate').getWeights()[1].dataSync();
    assert.ok(bias.every((v) => v === -3));
    const c2 = compileGraph(tf, graphOf(s));
    assert.ok(
      c2.model
        .getLayer('blk_gate')
        .getWeights()[1]
        .dataSync()
        .every((v) => v === -2),
      'default −2',
    );
    assert.deepEqual(
      c2.attention.map((a) => [a.port, a.kind, a.shape]),
      [['gate', 'gate', [null, 5, 8]]],
    );
  });

  test('(d) parameters equal two nn.Linear(C, C) / nn.Conv2d(C, C, k) with bias', () => {
    assert.deepEqual(paramsOf(s), { params: 2 * (8 * 8 + 8), trainable: 144 });
    assert.deepEqual(paramsOf({ ...s, params: { kernel: 3 }, inputs: { in: [6, 6, 4] } }), { params: 2 * (9 * 4 * 4 + 4), trainable: 296 });
  });

  test('(e) bad wiring: a k×k kernel on a sequence, an even kernel', () => {
    assertDiagnostic({ ...s, params: { kernel: 3 } }, /needs an image input/, 'in');
    assertDiagnostic({ ...s, params: { kernel: 2 }, inputs: { in: [6, 6, 4] } }, /even/);
  });
});

describe('attention.gate', () => {
  const channel: Setup = { type: 'attention.gate', inputs: { in: [6, 6, 8], context: [3, 3, 5] }, outputs: { out: 'meanSquaredError', gate: 'none' } };
  const position: Setup = {
    type: 'attention.gate',
    params: { mode: 'position' },
    inputs: { in: [6, 6, 8], context: [6, 6, 2] },
    outputs: { out: 'meanSquaredError', gate: 'none' },
  };
  const selfSeq: Setup = { type: 'attention.gate', params: { mode: 'position' }, inputs: { in: [7, 4] }, outputs: { out: 'meanSquaredError', gate: 'none' } };

  test('(a) per channel: g = σ(W mean(c) + b) [B, C], y = g ⊙ x', () => {
    const c = compileGraph(tf, graphOf(channel));
    const W = fixWeights(c.model);
    const feeds = feedsFor(c, channel, 2);
    const [x, ctx] = feeds;
    assert.deepEqual(
      c.inputs.map((i) => i.nodeId),
      ['i_in', 'i_context'],
    );
    const y = predictAll(c, feeds);
    const g = tf.sigmoid(linear(tf.mean(ctx, [1, 2]), W['dense/kernel'], W['dense/bias']));
    assertClose(y.gate, g, 1e-5, 'g');
    assertClose(y.out, tf.mul(x, expandChannels(g)), 1e-5, 'y');
  });

  test('(a) per position: g = σ(w·c + b) [B, H, W], y = g ⊙ x; and self-gating on a sequence', () => {
    const c = compileGraph(tf, graphOf(position));
    const W = fixWeights(c.model);
    const [x, ctx] = feedsFor(c, position, 2);
    const y = predictAll(c, [x, ctx]);
    const g = tf.sigmoid(linear(ctx, W['dense/kernel'], W['dense/bias']));
    assertClose(y.gate, tf.reshape(g, [2, 6, 6]), 1e-5, 'g');
    assertClose(y.out, tf.mul(x, g), 1e-5, 'y');

    const cs = compileGraph(tf, graphOf(selfSeq));
    const Ws = fixWeights(cs.model);
    const [xs] = feedsFor(cs, selfSeq, 2);
    const ys = predictAll(cs, [xs]);
    const gs = tf.sigmoid(linear(xs, Ws['dense/kernel'], Ws['dense/bias']));
    assertClose(ys.gate, tf.reshape(gs, [2, 7]), 1e-5, 'self g');
    assertClose(ys.out, tf.mul(xs, gs), 1e-5, 'self y');
    assert.deepEqual(
      cs.attention.map((a) => [a.port, a.kind, a.shape]),
      [['gate', 'gate', [null, 7]]],
    );
  });

  test('(d) parameters equal nn.Linear(C_c, C) per channel and nn.Conv2d(C_c, 1, 1) per position', () => {
    assert.deepEqual(paramsOf(channel), { params: 5 * 8 + 8, trainable: 48 });
    assert.deepEqual(paramsOf(position), { params: 2 + 1, trainable: 3 });
  });

  test('(e) bad wiring: per-position context of another size, a vector to gate', () => {
    assertDiagnostic({ ...position, inputs: { in: [6, 6, 8], context: [3, 3, 2] } }, /positions/, 'context');
    assertDiagnostic({ ...channel, inputs: { in: [8], context: [3, 3, 5] } }, /rank 3 or 4/, 'in');
  });
});
