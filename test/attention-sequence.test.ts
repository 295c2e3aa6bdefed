// The sequence attention blocks (issue 3, items 1–4, 13, 14). For every block:
// (a) outputs for fixed weights and inputs against the paper's formula, written
//     here independently with plain arrays;
// (b) where the block has no weights of its own, a training step reaches the projections before it
//     (that every weight trains and save/load reproduces the outputs, for every example of every
//     block, is test/block-conformance.test.ts's);
// (d) parameter counts equal the reference PyTorch modules' (formulas derived by hand);
// (e) bad wiring gives a diagnostic on the node.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfjs from '@tensorflow/tfjs';
import { compileGraph, type CompiledGraph } from '../engine/compile/compile.js';
import { analyzeGraph } from '../engine/shapes/analyze.js';
import type { GraphEdge, GraphFile, GraphNode } from '../engine/graph/types.js';
import { tfReady } from './helpers/tf.js';
import { rng as seededRandom } from '../engine/data/random.js';

const tf = await tfReady;

// ------------------------------------------------------------------ plain-array maths

type M = number[][];
const mm = (a: M, b: M): M => a.map((r) => b[0].map((_, j) => r.reduce((s, x, k) => s + x * b[k][j], 0)));
const tr = (a: M): M => a[0].map((_, j) => a.map((r) => r[j]));
const plus = (a: M, b: M): M => a.map((r, i) => r.map((x, j) => x + b[i][j]));
const plusRow = (a: M, v: number[]): M => a.map((r) => r.map((x, j) => x + v[j]));
const each = (a: M, f: (x: number) => number): M => a.map((r) => r.map(f));
const cols = (a: M, from: number, to: number): M => a.map((r) => r.slice(from, to));
const hcat = (ms: M[]): M => ms[0].map((_, i) => ms.flatMap((m) => m[i]));
const softmax = (r: number[]) => {
  const m = Math.max(...r);
  const e = r.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
};
const layerNorm = (a: M, gamma: number[], beta: number[], eps = 1e-5): M =>
  a.map((r) => {
    const mean = r.reduce((s, x) => s + x, 0) / r.length;
    const variance = r.reduce((s, x) => s + (x - mean) ** 2, 0) / r.length;
    return r.map((x, j) => ((x - mean) / Math.sqrt(variance + eps)) * gamma[j] + beta[j]);
  });
const relu = (x: number) => Math.max(0, x);

/** softmax(scale·QKᵀ) over the keys, with keys hidden where keep[j] is 0 or (causal) j > i; returns weights and context. */
function attend(q: M, k: M, v: M, o: { scale?: number; causal?: boolean; keep?: number[] } = {}): { w: M; ctx: M } {
  const s = mm(q, tr(k)).map((r, i) => r.map((x, j) => ((o.keep && !o.keep[j]) || (o.causal && j > i) ? -Infinity : x * (o.scale ?? 1))));
  const w = s.map(softmax);
  return { w, ctx: mm(w, v) };
}

function closeTo(actual: unknown, expected: unknown, tol = 1e-4, path = ''): void {
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected an array`);
    assert.equal(actual.length, expected.length, `${path}: length`);
    expected.forEach((e, i) => closeTo(actual[i], e, tol, `${path}[${i}]`));
  } else {
    const a = actual as number;
    const e = expected as number;
    assert.ok(Math.abs(a - e) <= tol * (1 + Math.abs(e)), `${path}: ${a} vs ${e}`);
  }
}

/** Deterministic uniform numbers in [-1, 1). */
function rng(seed: number) {
  const uniform = seededRandom(seed);
  return () => uniform() * 2 - 1;
}
function randomArray(shape: number[], r: () => number): unknown {
  return shape.length === 0 ? r() : Array.from({ length: shape[0] }, () => randomArray(shape.slice(1), r));
}

// ------------------------------------------------------------------ graphs

/** [h, w, c] is an image input, [t, f] a sequence, [f] a vector (also a padding mask). */
type InputSpec = number[];

function inputParams(s: InputSpec) {
  return s.length === 3
    ? { kind: 'image', height: s[0], width: s[1], channels: s[2] }
    : s.length === 2
      ? { kind: 'sequence', length: s[0], features: s[1] }
      : { kind: 'vector', features: s[0] };
}

interface Setup {
  type: string;
  params?: Record<string, unknown>;
  /** Block input port -> an io.input node `i_<port>` of that spec, or ['node', id] for a node in `extra`. */
  inputs: Record<string, InputSpec | ['node', string]>;
  /** Further io.input nodes by id, feeding `extra`. */
  sources?: Record<string, InputSpec>;
  /** Extra nodes between inputs and the block (e.g. Dense projections): id -> [type, params, from input id]. */
  extra?: Record<string, [string, Record<string, unknown>, string]>;
  /** Block outputs wired to io.output nodes `o_<port>`; the first is trained, the rest have loss "none". */
  outputs: string[];
}

const BLOCK = 'blk';

function graphOf(s: Setup): GraphFile {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const at = (i: number) => ({ x: i * 120, y: 0 });
  const specs = new Map<string, InputSpec>();
  for (const [port, src] of Object.entries(s.inputs)) if (src[0] !== 'node') specs.set(`i_${port}`, src as InputSpec);
  for (const [id, spec] of Object.entries(s.sources ?? {})) specs.set(id, spec);
  for (const [id, spec] of specs) nodes.push({ id, type: 'io.input', params: inputParams(spec), position: at(nodes.length) });
  for (const [id, [type, params, from]] of Object.entries(s.extra ?? {})) {
    nodes.push({ id, type, params, position: at(nodes.length) });
    edges.push({ from: { node: from, port: 'out' }, to: { node: id, port: 'in' } });
  }
  nodes.push({ id: BLOCK, type: s.type, params: s.params ?? {}, position: at(nodes.length) });
  for (const [port, src] of Object.entries(s.inputs))
    edges.push({ from: { node: src[0] === 'node' ? (src[1] as string) : `i_${port}`, port: 'out' }, to: { node: BLOCK, port } });
  s.outputs.forEach((port, i) => {
    nodes.push({ id: `o_${port}`, type: 'io.output', params: { loss: i === 0 ? 'meanSquaredError' : 'none' }, position: at(nodes.length) });
    edges.push({ from: { node: BLOCK, port }, to: { node: `o_${port}`, port: 'in' } });
  });
  return { format: 'attention-studio.graph', version: 1, name: s.type.replace(/\W/g, '_'), nodes, edges };
}

interface Built {
  compiled: CompiledGraph;
  model: tfjs.LayersModel;
  /** Feeds in the model's input order, as tensors and as nested arrays (batch first). */
  feeds: tfjs.Tensor[];
  data: Record<string, unknown[]>;
  /** Weights of a layer of the block as nested arrays, by suffix ('' for the block's own name). */
  weights(suffix: string): unknown[];
}

const BATCH = 2;

/** Compiles the setup, fills every weight of the block with fixed values and makes input data. */
function build(s: Setup, seed = 1, inputData: Record<string, (b: number) => unknown> = {}): Built {
  const compiled = compileGraph(tf, graphOf(s));
  const model = compiled.model;
  const r = rng(seed);
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length) layer.setWeights(ws.map((w) => tf.tensor(randomArray(w.shape, () => 0.6 * r()) as number[], w.shape)));
  }
  const data: Record<string, unknown[]> = {};
  const feeds = compiled.inputs.map(({ nodeId, shape }) => {
    const make = inputData[nodeId.slice(2)];
    const values = Array.from({ length: BATCH }, (_, b) => (make ? make(b) : randomArray(shape.slice(1) as number[], r)));
    data[nodeId.slice(2)] = values;
    return tf.tensor(values as number[]);
  });
  const weights = (suffix: string) =>
    model
      .getLayer(suffix ? `${BLOCK}_${suffix}` : BLOCK)
      .getWeights()
      .map((w) => w.arraySync() as unknown[]);
  return { compiled, model, feeds, data, weights };
}

function predict(model: tfjs.LayersModel, feeds: tfjs.Tensor[]): unknown[] {
  const ys = model.predict(feeds) as tfjs.Tensor | tfjs.Tensor[];
  const list = Array.isArray(ys) ? ys : [ys];
  const out = list.map((y) => y.arraySync());
  tf.dispose(list);
  return out;
}

/** A Dense layer's kernel and bias as plain arrays: x ↦ xW + b. */
function dense(b: Built, suffix: string): (x: M) => M {
  const [W, bias] = b.weights(suffix) as [M, number[] | undefined];
  return (x) => (bias ? plusRow(mm(x, W), bias) : mm(x, W));
}

/** Multi-head attention by the paper's formula, heads as contiguous column slices (PyTorch layout). */
function multiHead(b: Built, prefix: string, xq: M, xk: M, xv: M, heads: number, o: { causal?: boolean; keep?: number[] } = {}) {
  const q = dense(b, `${prefix}query`)(xq);
  const k = dense(b, `${prefix}key`)(xk);
  const v = dense(b, `${prefix}value`)(xv);
  const dk = q[0].length / heads;
  const dv = v[0].length / heads;
  const per = Array.from({ length: heads }, (_, h) =>
    attend(cols(q, h * dk, (h + 1) * dk), cols(k, h * dk, (h + 1) * dk), cols(v, h * dv, (h + 1) * dv), { ...o, scale: 1 / Math.sqrt(dk) }),
  );
  return { out: dense(b, `${prefix}output`)(hcat(per.map((p) => p.ctx))), weights: per.map((p) => p.w) };
}

/** One training step on the first output; returns how far each trainable weight moved (max |Δ|). */
async function trainStep(b: Built): Promise<Map<string, number>> {
  const trainer = tf.model({ inputs: b.model.inputs, outputs: b.model.outputs[0] });
  trainer.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
  const before = trainer.trainableWeights.map((w) => w.read().dataSync().slice());
  const target = tf.randomNormal(
    b.model.outputs[0].shape.map((d) => d ?? BATCH),
    0,
    1,
    'float32',
    3,
  );
  await trainer.fit(b.feeds, target, { batchSize: BATCH, epochs: 1, shuffle: false, verbose: 0 });
  target.dispose();
  const moved = new Map<string, number>();
  trainer.trainableWeights.forEach((w, i) => {
    const after = w.read().dataSync();
    moved.set(w.name, Math.max(...after.map((x, j) => Math.abs(x - before[i][j]))));
  });
  return moved;
}

/**
 * Every trainable weight must move, except the key-projection biases of dot-product attention:
 * q·(k_j + b) = q·k_j + q·b adds the same number to every score of a query, which the softmax
 * ignores, so their gradient is exactly zero in theory (PyTorch's in_proj_bias[E:2E] likewise).
 */
async function assertAllWeightsTrain(b: Built): Promise<void> {
  const moved = await trainStep(b);
  assert.ok(moved.size > 0, 'the model has trainable weights');
  for (const [name, delta] of moved) {
    if (/_key\/bias/.test(name)) assert.ok(delta < 1e-6, `${name} (softmax-invariant) moved ${delta}`);
    else assert.ok(delta > 1e-9, `${name} did not change in a training step`);
  }
}

function nodeParams(b: Built): number {
  return b.compiled.nodeParams.get(BLOCK)!.params;
}

/** The error diagnostics on the block node. */
function blockErrors(s: Setup) {
  return analyzeGraph(graphOf(s)).diagnostics.filter((d) => d.severity === 'error' && d.nodeId === BLOCK);
}
function assertDiagnostic(s: Setup, port: string, pattern: RegExp): void {
  const ds = blockErrors(s);
  assert.ok(
    ds.some((d) => d.port === port && pattern.test(d.message)),
    `expected a diagnostic on port "${port}" matching ${pattern}; got ${JSON.stringify(ds)}`,
  );
}

/** The attention outputs the compiler found on the block: port -> kind. */
function attentionKinds(b: Built): Record<string, string> {
  return Object.fromEntries(b.compiled.attention.filter((a) => a.nodeId === BLOCK).map((a) => [a.port, a.kind]));
}

const seq = (b: Built, port: string, i: number) => b.data[port][i] as M;
const mask = (keep: number[]) => () => keep;

// ------------------------------------------------------------------ 1. scaled dot-product attention

describe('attention.scaledDotProduct (Vaswani et al. 2017, eq. 1)', () => {
  const setup = (params: Record<string, unknown> = {}, withMask = false): Setup => ({
    type: 'attention.scaledDotProduct',
    params,
    inputs: { query: [3, 4], key: [5, 4], value: [5, 2], ...(withMask ? { mask: [5] } : {}) },
    outputs: ['out', 'weights'],
  });

  for (const [label, params, keep] of [
    ['plain', {}, undefined],
    ['causal and padding masks', { causal: true }, [1, 1, 0, 1, 0]],
  ] as const) {
    test(`softmax(QKᵀ/√d_k)V and its weights, ${label}`, () => {
      const b = build(setup(params, keep !== undefined), 11, keep ? { mask: mask([...keep]) } : {});
      assert.deepEqual(attentionKinds(b), { weights: 'matrix' });
      const [out, w] = predict(b.model, b.feeds) as [M[], M[][]];
      for (let i = 0; i < BATCH; i++) {
        const ref = attend(seq(b, 'query', i), seq(b, 'key', i), seq(b, 'value', i), {
          scale: 1 / 2,
          causal: 'causal' in params,
          keep: keep ? [...keep] : undefined,
        });
        closeTo(out[i], ref.ctx);
        closeTo(w[i], ref.w);
      }
      if (keep) for (const rows of w) for (const row of rows) assert.equal(row[2], 0, 'a padded key gets no weight');
    });
  }

  // The block has no weights: the training step shows gradients pass through it to Dense projections of Q, K and V.
  const projected: Setup = {
    type: 'attention.scaledDotProduct',
    params: { causal: true },
    sources: { i_x: [4, 3] },
    extra: {
      proj_query: ['core.dense', { units: 4 }, 'i_x'],
      proj_key: ['core.dense', { units: 4 }, 'i_x'],
      proj_value: ['core.dense', { units: 2 }, 'i_x'],
    },
    inputs: { query: ['node', 'proj_query'], key: ['node', 'proj_key'], value: ['node', 'proj_value'] },
    outputs: ['out', 'weights'],
  };
  test('a training step reaches the projections of Q, K and V through it', async () => {
    await assertAllWeightsTrain(build(projected, 12));
  });
  test('it has no parameters', () => {
    assert.equal(nodeParams(build(setup(), 14)), 0);
  });
  test('bad wiring is reported on the node', () => {
    assertDiagnostic({ ...setup(), inputs: { query: [3, 3, 4], key: [5, 4], value: [5, 2] } }, 'query', /rank 3/);
    assertDiagnostic({ ...setup(), inputs: { query: [3, 4], key: [5, 3], value: [5, 2] } }, 'key', /same feature size d_k: 4 vs 3/);
    assertDiagnostic({ ...setup(), inputs: { query: [3, 4], key: [5, 4], value: [6, 2] } }, 'value', /same number of steps: 5 vs 6/);
    assertDiagnostic({ ...setup(), inputs: { query: [3, 4], key: [5, 4], value: [5, 2], mask: [4] } }, 'mask', /one entry per key step: 4 vs 5/);
    assert.deepEqual(blockErrors(setup()), []);
  });
});

// ------------------------------------------------------------------ 2. multi-head attention

/** PyTorch nn.MultiheadAttention(E, h, bias, kdim, vdim): q/k/v projections E×E, E×kdim, E×vdim, in_proj_bias 3E, out_proj E×E + E. */
const torchMultiHeadParams = (e: number, kdim = e, vdim = e, bias = true) => e * e + e * kdim + e * vdim + e * e + (bias ? 4 * e : 0);

describe('attention.multiHead (Vaswani et al. 2017, §3.2.2)', () => {
  const self = (params: Record<string, unknown>, t = 3, e = 4, withMask = false): Setup => ({
    type: 'attention.multiHead',
    params,
    inputs: { query: [t, e], ...(withMask ? { mask: [t] } : {}) },
    outputs: ['out', 'weights'],
  });
  const cross = (params: Record<string, unknown>): Setup => ({
    type: 'attention.multiHead',
    params,
    inputs: { query: [2, 6], key: [4, 5], value: [4, 3] },
    outputs: ['out', 'weights'],
  });

  test('self-attention with causal and padding masks matches the formula per head', () => {
    const keep = [1, 0, 1];
    const b = build(self({ heads: 2, causal: true }, 3, 4, true), 21, { mask: mask(keep) });
    assert.deepEqual(attentionKinds(b), { weights: 'matrix' });
    const [out, w] = predict(b.model, b.feeds) as [M[], M[][]];
    for (let i = 0; i < BATCH; i++) {
      const x = seq(b, 'query', i);
      const ref = multiHead(b, '', x, x, x, 2, { causal: true, keep });
      closeTo(out[i], ref.out);
      closeTo(w[i], ref.weights);
    }
  });

  test('cross-attention with other key/value sizes and Keras-style per-head dims, no biases', () => {
    const b = build(cross({ heads: 3, keyDim: 2, valueDim: 3, useBias: false }), 22);
    const [out, w] = predict(b.model, b.feeds) as [M[], M[][]];
    assert.deepEqual(b.model.outputs[1].shape, [null, 3, 2, 4]);
    for (let i = 0; i < BATCH; i++) {
      const ref = multiHead(b, '', seq(b, 'query', i), seq(b, 'key', i), seq(b, 'value', i), 3);
      closeTo(out[i], ref.out);
      closeTo(w[i], ref.weights);
    }
  });

  test('attention dropout acts while training only, after the weights output', () => {
    const b = build(self({ heads: 2, dropout: 0.5 }, 4, 4), 25);
    const [out1, w1] = predict(b.model, b.feeds);
    closeTo(predict(b.model, b.feeds), [out1, w1], 0);
    const trained = b.model.apply(b.feeds, { training: true }) as tfjs.Tensor[];
    const [out2, w2] = trained.map((t) => t.arraySync());
    tf.dispose(trained);
    closeTo(w2, w1, 1e-6);
    assert.throws(() => closeTo(out2, out1, 1e-3), 'dropout changes the output while training');
  });

  test('parameter counts equal PyTorch nn.MultiheadAttention (4E² + 4E when kdim = vdim = E)', () => {
    const count = (s: Setup) => nodeParams(build(s, 28));
    assert.equal(count(self({ heads: 2 }, 3, 8)), 4 * 64 + 4 * 8);
    assert.equal(count(self({ heads: 2 }, 3, 8)), torchMultiHeadParams(8));
    assert.equal(count(self({ heads: 4, useBias: false }, 3, 8)), torchMultiHeadParams(8, 8, 8, false));
    assert.equal(count(cross({ heads: 3 })), torchMultiHeadParams(6, 5, 3));
    assert.equal(count(cross({ heads: 2, useBias: false })), torchMultiHeadParams(6, 5, 3, false));
    // Per-head sizes (no PyTorch equivalent; Keras MultiHeadAttention's key_dim/value_dim): h·dk for q and k, h·dv for v.
    const [e, kdim, vdim, h, dk, dv] = [6, 5, 3, 3, 2, 4];
    assert.equal(count(cross({ heads: h, keyDim: dk, valueDim: dv })), e * h * dk + kdim * h * dk + vdim * h * dv + h * dv * e + 2 * h * dk + h * dv + e);
  });

  test('bad wiring is reported on the node', () => {
    assertDiagnostic(self({ heads: 4 }, 3, 6), 'query', /"heads" \(4\) must divide the query size .*\(6\)/);
    assertDiagnostic({ ...cross({ heads: 2 }), inputs: { query: [2, 6], key: [4, 5], value: [3, 3] } }, 'value', /same number of steps: 4 vs 3/);
    assertDiagnostic({ ...cross({ heads: 2 }), inputs: { query: [2, 6], key: [5] } }, 'key', /rank 3/);
    assertDiagnostic({ ...self({ heads: 2 }, 3, 4), inputs: { query: [3, 4], mask: [4] } }, 'mask', /one entry per key step/);
    assert.deepEqual(blockErrors(self({ heads: 3, keyDim: 5, valueDim: 2 }, 3, 7)), [], 'explicit per-head sizes need no divisor');
  });
});

// ------------------------------------------------------------------ 3. Transformer encoder and decoder layers

type Norm = 'post' | 'pre';
const ln = (b: Built, i: number, a: M) => {
  const [g, beta] = b.weights(`norm${i}`) as [number[], number[]];
  return layerNorm(a, g, beta);
};
const feedForward = (b: Built, a: M) => dense(b, 'ff2')(each(dense(b, 'ff1')(a), relu));
/** post: LN(x + f(x)); pre: x + f(LN(x)). */
const sublayer = (b: Built, i: number, norm: Norm, x: M, f: (h: M) => M) => (norm === 'post' ? ln(b, i, plus(x, f(x))) : plus(x, f(ln(b, i, x))));

/** PyTorch nn.TransformerEncoderLayer(d, h, ff): self_attn + linear1 + linear2 + norm1, norm2. */
const torchEncoderParams = (d: number, ff: number) => torchMultiHeadParams(d) + (d * ff + ff) + (ff * d + d) + 2 * 2 * d;
/** PyTorch nn.TransformerDecoderLayer(d, h, ff): self_attn + multihead_attn + linear1 + linear2 + norm1..3. */
const torchDecoderParams = (d: number, ff: number) => 2 * torchMultiHeadParams(d) + (d * ff + ff) + (ff * d + d) + 3 * 2 * d;

describe('attention.transformerEncoder (Vaswani et al. 2017, §3.1)', () => {
  const setup = (params: Record<string, unknown>, t = 3, d = 4, withMask = false): Setup => ({
    type: 'attention.transformerEncoder',
    params: { heads: 2, ffDim: 6, dropout: 0, ...params },
    inputs: { in: [t, d], ...(withMask ? { mask: [t] } : {}) },
    outputs: ['out', 'attention'],
  });

  for (const norm of ['post', 'pre'] as const)
    test(`${norm}-norm layer matches the formula`, () => {
      const keep = [1, 1, 0];
      const causal = norm === 'pre';
      const b = build(setup({ norm, causal }, 3, 4, true), 31, { mask: mask(keep) });
      assert.deepEqual(attentionKinds(b), { attention: 'matrix' });
      const [out, w] = predict(b.model, b.feeds) as [M[], M[][]];
      for (let i = 0; i < BATCH; i++) {
        let weights: M[] = [];
        const h = sublayer(b, 1, norm, seq(b, 'in', i), (x) => {
          const a = multiHead(b, 'self_', x, x, x, 2, { keep, causal });
          weights = a.weights;
          return a.out;
        });
        closeTo(
          out[i],
          sublayer(b, 2, norm, h, (x) => feedForward(b, x)),
        );
        closeTo(w[i], weights);
      }
    });

  test('parameter count equals PyTorch nn.TransformerEncoderLayer', () => {
    assert.equal(nodeParams(build(setup({ heads: 2, ffDim: 16 }, 3, 8), 35)), torchEncoderParams(8, 16));
    assert.equal(torchEncoderParams(8, 16), 600);
    assert.equal(nodeParams(build(setup({ heads: 3, ffDim: 5, norm: 'pre' }, 2, 6), 36)), torchEncoderParams(6, 5));
  });
  test('bad wiring is reported on the node', () => {
    assertDiagnostic(setup({ heads: 4 }, 3, 6), 'in', /"heads" \(4\) must divide/);
    assertDiagnostic({ ...setup({}), inputs: { in: [3, 4], mask: [5] } }, 'mask', /one entry per in step: 5 vs 3/);
    assertDiagnostic({ ...setup({}), inputs: { in: [4, 4, 2] } }, 'in', /rank 3/);
  });
});

describe('attention.transformerDecoder (Vaswani et al. 2017, §3.1)', () => {
  const setup = (params: Record<string, unknown>, d = 4, masks = false): Setup => ({
    type: 'attention.transformerDecoder',
    params: { heads: 2, ffDim: 6, dropout: 0, ...params },
    inputs: { in: [3, d], memory: [4, d], ...(masks ? { memoryMask: [4] } : {}) },
    outputs: ['out', 'selfAttention', 'crossAttention'],
  });

  for (const norm of ['post', 'pre'] as const)
    test(`${norm}-norm layer (causal self-attention, masked memory) matches the formula`, () => {
      const keep = [1, 0, 1, 1];
      const b = build(setup({ norm }, 4, true), 41, { memoryMask: mask(keep) });
      assert.deepEqual(attentionKinds(b), { selfAttention: 'matrix', crossAttention: 'matrix' });
      const [out, ws, wc] = predict(b.model, b.feeds) as [M[], M[][], M[][]];
      for (let i = 0; i < BATCH; i++) {
        const memory = seq(b, 'memory', i);
        let selfW: M[] = [];
        let crossW: M[] = [];
        const h1 = sublayer(b, 1, norm, seq(b, 'in', i), (x) => {
          const a = multiHead(b, 'self_', x, x, x, 2, { causal: true });
          selfW = a.weights;
          return a.out;
        });
        const h2 = sublayer(b, 2, norm, h1, (x) => {
          const a = multiHead(b, 'cross_', x, memory, memory, 2, { keep });
          crossW = a.weights;
          return a.out;
        });
        closeTo(
          out[i],
          sublayer(b, 3, norm, h2, (x) => feedForward(b, x)),
        );
        closeTo(ws[i], selfW);
        closeTo(wc[i], crossW);
      }
    });

  test('parameter count equals PyTorch nn.TransformerDecoderLayer', () => {
    assert.equal(nodeParams(build(setup({ heads: 2, ffDim: 16 }, 8), 44)), torchDecoderParams(8, 16));
    assert.equal(torchDecoderParams(8, 16), 904);
  });
  test('bad wiring is reported on the node', () => {
    assertDiagnostic({ ...setup({}), inputs: { in: [3, 4], memory: [4, 6] } }, 'memory', /same feature size as the target.*6 vs 4/);
    assertDiagnostic({ ...setup({}), inputs: { in: [3, 4], memory: [4, 4], memoryMask: [3] } }, 'memoryMask', /one entry per memory step: 3 vs 4/);
    assertDiagnostic(setup({ heads: 3 }), 'in', /"heads" \(3\) must divide/);
  });
});

// ------------------------------------------------------------------ 4. additive (Bahdanau) and Luong attention

/** e_ij = vᵀ tanh(W₁q_i + W₂k_j), from the block's `wq`, `wk` and `v` weights. */
function additiveScores(b: Built, q: M, k: M): M {
  const a = dense(b, 'wq')(q);
  const c = dense(b, 'wk')(k);
  const [v] = b.weights('v') as [M];
  return a.map((ai) => c.map((cj) => ai.reduce((s, x, u) => s + v[u][0] * Math.tanh(x + cj[u]), 0)));
}

const alignment = (type: string, params: Record<string, unknown>, inputs: Setup['inputs']): Setup => ({ type, params, inputs, outputs: ['out', 'weights'] });

describe('attention.additive (Bahdanau et al. 2014)', () => {
  const withValues = (params: Record<string, unknown>) => alignment('attention.additive', params, { query: [2, 3], keys: [4, 5], values: [4, 2], mask: [4] });
  const plain = (params: Record<string, unknown>) => alignment('attention.additive', params, { query: [1, 3], keys: [4, 5] });

  test('softmax(vᵀ tanh(W₁s + W₂h_j)) and the context, with biases and a padding mask', () => {
    const keep = [1, 1, 0, 1];
    const b = build(withValues({ units: 3, useBias: true }), 51, { mask: mask(keep) });
    assert.deepEqual(attentionKinds(b), { weights: 'matrix' });
    const [out, w] = predict(b.model, b.feeds) as [M[], M[]];
    for (let i = 0; i < BATCH; i++) {
      const e = additiveScores(b, seq(b, 'query', i), seq(b, 'keys', i));
      const alpha = e.map((r) => softmax(r.map((x, j) => (keep[j] ? x : -Infinity))));
      closeTo(w[i], alpha);
      closeTo(out[i], mm(alpha, seq(b, 'values', i)));
    }
  });
  test('without biases the annotations are the values (the paper)', () => {
    const b = build(plain({ units: 4 }), 52);
    const [out, w] = predict(b.model, b.feeds) as [M[], M[]];
    for (let i = 0; i < BATCH; i++) {
      const alpha = additiveScores(b, seq(b, 'query', i), seq(b, 'keys', i)).map(softmax);
      closeTo(w[i], alpha);
      closeTo(out[i], mm(alpha, seq(b, 'keys', i)));
    }
  });
  test('parameter count: Dq·u + Dk·u + u (+ 2u with biases; PyTorch tutorial Linear layers less the v bias)', () => {
    assert.equal(nodeParams(build(plain({ units: 4 }), 55)), 3 * 4 + 5 * 4 + 4);
    assert.equal(nodeParams(build(plain({ units: 4, useBias: true }), 55)), 3 * 4 + 4 + (5 * 4 + 4) + 4);
  });
  test('bad wiring is reported on the node', () => {
    assertDiagnostic(alignment('attention.additive', {}, { query: [2, 3], keys: [4, 5], values: [3, 2] }), 'values', /same number of steps: 4 vs 3/);
    assertDiagnostic(alignment('attention.additive', {}, { query: [2, 3], keys: [4, 5], mask: [5] }), 'mask', /one entry per keys step: 5 vs 4/);
    assertDiagnostic(alignment('attention.additive', {}, { query: [3], keys: [4, 5] }), 'query', /rank 3/);
  });
});

describe('attention.luong (Luong et al. 2015)', () => {
  const setup = (score: string, dq = 4, extra: Record<string, unknown> = {}) =>
    alignment('attention.luong', { score, ...extra }, { query: [2, dq], keys: [5, 4], values: [5, 3], mask: [5] });
  const keep = [1, 0, 1, 1, 1];
  const scores: Record<string, (b: Built, q: M, k: M) => M> = {
    dot: (_b, q, k) => mm(q, tr(k)),
    general: (b, q, k) => {
      const [W] = b.weights('wa') as [M]; // h_tᵀ W_a h̄_s with W_a = this kernel, transposed
      return mm(mm(q, W), tr(k));
    },
    concat: (b, q, k) => additiveScores(b, q, k),
  };

  for (const [score, dq] of [
    ['dot', 4],
    ['general', 3],
    ['concat', 3],
  ] as const)
    test(`${score} score: softmax over the source and the context`, () => {
      const b = build(setup(score, dq, { units: 3 }), 61, { mask: mask(keep) });
      assert.deepEqual(attentionKinds(b), { weights: 'matrix' });
      const [out, w] = predict(b.model, b.feeds) as [M[], M[]];
      for (let i = 0; i < BATCH; i++) {
        const e = scores[score](b, seq(b, 'query', i), seq(b, 'keys', i));
        const alpha = e.map((r) => softmax(r.map((x, j) => (keep[j] ? x : -Infinity))));
        closeTo(w[i], alpha);
        closeTo(out[i], mm(alpha, seq(b, 'values', i)));
      }
    });

  test('a training step moves every weight (dot: the query projection before it)', async () => {
    await assertAllWeightsTrain(build(setup('general', 3), 62));
    await assertAllWeightsTrain(build(setup('concat', 3, { units: 2 }), 63));
    const dot: Setup = {
      ...setup('dot'),
      sources: { i_x: [2, 3] },
      extra: { proj: ['core.dense', { units: 4 }, 'i_x'] },
      inputs: { query: ['node', 'proj'], keys: [5, 4], values: [5, 3] },
    };
    await assertAllWeightsTrain(build(dot, 64));
  });
  test('parameter counts: dot 0, general Dq·Dk, concat (Dq + Dk)·u + u', () => {
    assert.equal(nodeParams(build(setup('dot'), 66)), 0);
    assert.equal(nodeParams(build(setup('general', 3), 66)), 3 * 4);
    assert.equal(nodeParams(build(setup('concat', 3, { units: 5 }), 66)), (3 + 4) * 5 + 5);
  });
  test('bad wiring is reported on the node', () => {
    assertDiagnostic(setup('dot', 3), 'keys', /dot score needs queries and keys of the same size: 3 vs 4/);
    assert.deepEqual(blockErrors(setup('general', 3)), []);
    assertDiagnostic(alignment('attention.luong', {}, { query: [2, 3], keys: [5, 4], values: [4, 3] }), 'values', /same number of steps/);
  });
});

// ------------------------------------------------------------------ 13. memory network hops

describe('attention.memoryHop (Sukhbaatar et al. 2015)', () => {
  const setup = (params: Record<string, unknown>, fq = 5, withMask = false): Setup => ({
    type: 'attention.memoryHop',
    params: { dim: 3, ...params },
    inputs: { memory: [4, 5], query: [fq], ...(withMask ? { mask: [4] } : {}) },
    outputs: ['out', 'attention'],
  });
  const kernel = (b: Built, suffix: string) => (b.weights(suffix) as [M])[0];

  test('adjacent tying: u ← u + Σ p_i c_i, p = softmax(uᵀ A^k x_i), A^{k+1} = C^k, B = A¹', () => {
    const keep = [1, 1, 1, 0];
    const b = build(setup({ hops: 3 }, 5, true), 71, { mask: mask(keep) });
    assert.deepEqual(attentionKinds(b), { attention: 'matrix' });
    const [out, att] = predict(b.model, b.feeds) as [M, M[]];
    const E = [0, 1, 2, 3].map((i) => kernel(b, `embed${i}`));
    for (let i = 0; i < BATCH; i++) {
      const x = seq(b, 'memory', i);
      let u = mm([b.data.query[i] as number[]], E[0]);
      const ps: number[][] = [];
      for (let k = 1; k <= 3; k++) {
        const { w, ctx } = attend(u, mm(x, E[k - 1]), mm(x, E[k]), { keep });
        ps.push(w[0]);
        u = plus(u, ctx);
      }
      closeTo(out[i], u[0]);
      closeTo(att[i], ps);
    }
  });
  test('layer-wise tying: one A and C, u ← Hu + o', () => {
    const b = build(setup({ hops: 2, tying: 'layerwise' }, 2), 72);
    const [out, att] = predict(b.model, b.feeds) as [M, M[]];
    const [A, C, B, H] = ['a', 'c', 'b', 'h'].map((s) => kernel(b, s));
    for (let i = 0; i < BATCH; i++) {
      const x = seq(b, 'memory', i);
      let u = mm([b.data.query[i] as number[]], B);
      const ps: number[][] = [];
      for (let k = 1; k <= 2; k++) {
        const { w, ctx } = attend(u, mm(x, A), mm(x, C));
        ps.push(w[0]);
        u = plus(mm(u, H), ctx);
      }
      closeTo(out[i], u[0]);
      closeTo(att[i], ps);
    }
  });
  test('parameter counts: adjacent (K + 1)·F·d, layer-wise 2·F·d + Fq·d + d²', () => {
    assert.equal(nodeParams(build(setup({ hops: 3, dim: 6 }), 77)), 4 * 5 * 6);
    assert.equal(nodeParams(build(setup({ hops: 3, dim: 6, tying: 'layerwise' }, 2), 77)), 2 * 5 * 6 + 2 * 6 + 6 * 6);
  });
  test('bad wiring is reported on the node', () => {
    assertDiagnostic(setup({}, 2), 'query', /adjacent tying .* feature size: 2 vs 5/);
    assert.deepEqual(blockErrors(setup({ tying: 'layerwise' }, 2)), []);
    assertDiagnostic({ ...setup({}), inputs: { memory: [4, 5], query: [1, 5] } }, 'query', /rank 2/);
    assertDiagnostic({ ...setup({}), inputs: { memory: [4, 5], query: [5], mask: [3] } }, 'mask', /one entry per memory step: 3 vs 4/);
  });
});

// ------------------------------------------------------------------ 14. patch embedding (ViT)

describe('attention.patchEmbedding (Dosovitskiy et al. 2021)', () => {
  const setup = (params: Record<string, unknown>, image: InputSpec = [4, 6, 2]): Setup => ({
    type: 'attention.patchEmbedding',
    params: { patch: 2, dim: 3, ...params },
    inputs: { in: image },
    outputs: ['out'],
  });

  for (const [classToken, positions] of [
    [true, true],
    [false, true],
    [true, false],
  ])
    test(`z₀ = [x_class; x_p¹E; …; x_pᴺE] + E_pos (class token ${classToken}, positions ${positions})`, () => {
      const b = build(setup({ classToken, positions }), 81);
      const [out] = predict(b.model, b.feeds) as [M[]];
      const [K, bias] = b.weights('proj') as [number[][][][], number[]];
      const p = 2;
      for (let i = 0; i < BATCH; i++) {
        const img = b.data.in[i] as number[][][];
        const tokens: M = [];
        for (let r = 0; r < 4 / p; r++)
          for (let c = 0; c < 6 / p; c++)
            tokens.push(
              bias.map((b0, d) => {
                let s = b0;
                for (let dy = 0; dy < p; dy++)
                  for (let dx = 0; dx < p; dx++) for (let ch = 0; ch < 2; ch++) s += img[r * p + dy][c * p + dx][ch] * K[dy][dx][ch][d];
                return s;
              }),
            );
        let z = classToken ? [(b.weights('cls') as number[][][][])[0][0][0], ...tokens] : tokens;
        if (positions) z = plus(z, (b.weights('pos') as M[])[0]);
        closeTo(out[i], z);
      }
    });
  test('parameter count equals torchvision VisionTransformer stem: p²·C·D + D + D + (N + 1)·D', () => {
    const [p, c, d, n] = [2, 2, 3, 6];
    assert.equal(nodeParams(build(setup({}), 84)), p * p * c * d + d + d + (n + 1) * d);
    assert.equal(nodeParams(build(setup({ classToken: false }), 84)), p * p * c * d + d + n * d);
  });
  test('bad wiring is reported on the node', () => {
    assertDiagnostic(setup({ patch: 4 }), 'in', /width 6 is not a multiple of the patch size 4/);
    assertDiagnostic(setup({}, [4, 6]), 'in', /rank 4/);
  });
});
