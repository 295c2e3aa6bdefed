// Explanations on small models, checked as the papers check them: Grad-CAM
// against a direct computation with finite-difference gradients, attention
// rollout against the product formula, and clear messages where a model has
// nothing to explain with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor } from '../engine/blocks/contract.js';
import { compileGraph } from '../engine/compile/compile.js';
import { camFromGradients, gradCam } from '../engine/explain/gradcam.js';
import { attentionFlow } from '../engine/explain/flow.js';
import { attentionGrid, chooseTarget, ExplainError, explain, targetLayers } from '../engine/explain/index.js';
import { attentionRollout, headMatrices, rollout, selfAttentionLayers, type HeadMatrices } from '../engine/explain/rollout.js';
import { inspectExplanations } from '../engine/explain/inspection.js';
import { graphOf, tinyMlp } from './train-fixtures.js';
import { loadTemplate } from './helpers/graphs.js';
import { tfReady } from './helpers/tf.js';

/** 6×6×1 → conv 3 → tanh → conv 4 → tanh (the explained layer) → conv 2 → tanh → flatten → 3-way softmax: smooth, so finite differences are exact to rounding. */
const smooth = () =>
  graphOf(
    'smooth-cnn',
    [
      ['in', 'io.input', { kind: 'image', height: 6, width: 6, channels: 1 }],
      ['c1', 'core.conv2d', { filters: 3, kernel: 3, padding: 'same' }],
      ['t1', 'core.activation', { fn: 'tanh' }],
      ['c2', 'core.conv2d', { filters: 4, kernel: 3, padding: 'same' }],
      ['t2', 'core.activation', { fn: 'tanh' }],
      ['c3', 'core.conv2d', { filters: 2, kernel: 3, padding: 'same' }],
      ['t3', 'core.activation', { fn: 'tanh' }],
      ['flat', 'core.flatten'],
      ['head', 'core.classificationHead', { classes: 3 }],
      ['out', 'io.output'],
    ],
    [
      ['in.out', 'c1.in'],
      ['c1.out', 't1.in'],
      ['t1.out', 'c2.in'],
      ['c2.out', 't2.in'],
      ['t2.out', 'c3.in'],
      ['c3.out', 't3.in'],
      ['t3.out', 'flat.in'],
      ['flat.out', 'head.in'],
      ['head.probs', 'out.in'],
    ],
  );

/** What follows t2 in `smooth`, as its own model ending in the head's logits (a linear Dense). */
const tail = () =>
  graphOf(
    'smooth-tail',
    [
      ['in', 'io.input', { kind: 'image', height: 6, width: 6, channels: 4 }],
      ['c3', 'core.conv2d', { filters: 2, kernel: 3, padding: 'same' }],
      ['t3', 'core.activation', { fn: 'tanh' }],
      ['flat', 'core.flatten'],
      ['logits', 'core.dense', { units: 3, activation: 'linear' }],
      ['out', 'io.output'],
    ],
    [
      ['in.out', 'c3.in'],
      ['c3.out', 't3.in'],
      ['t3.out', 'flat.in'],
      ['flat.out', 'logits.in'],
      ['logits.out', 'out.in'],
    ],
  );

for (const classIndex of [0, 2])
  test(`Grad-CAM, Grad-CAM++ and HiResCAM equal a direct computation with finite-difference gradients (class ${classIndex})`, async () => {
    const tf = await tfReady;
    const full = compileGraph(tf, smooth(), { seed: 3 });
    const rest = compileGraph(tf, tail(), { seed: 4 });
    rest.model.getLayer('c3').setWeights(full.model.getLayer('c3').getWeights());
    rest.model.getLayer('logits').setWeights(full.model.getLayer('head').getWeights());
    const x = tf.randomNormal([1, 6, 6, 1], 0, 1, 'float32', 11);
    // The activation of t2, by tfjs's own predict.
    const front = tf.model({ inputs: full.model.inputs, outputs: full.nodeOutputs.get('t2')!.out });
    const a = front.predict(x) as Tensor;
    const av = Float32Array.from(a.dataSync());
    // Central differences of the class logit, every entry of A perturbed in one batch.
    const eps = 1e-2;
    const n = av.length;
    const batch = new Float32Array(2 * n * n);
    for (let i = 0; i < n; i++) {
      batch.set(av, 2 * i * n);
      batch.set(av, (2 * i + 1) * n);
      batch[2 * i * n + i] += eps;
      batch[(2 * i + 1) * n + i] -= eps;
    }
    const xs = tf.tensor(batch, [2 * n, 6, 6, 4]);
    const logits = (rest.model.predict(xs) as Tensor).arraySync() as number[][];
    const g = Float32Array.from({ length: n }, (_, i) => (logits[2 * i][classIndex] - logits[2 * i + 1][classIndex]) / (2 * eps));
    // Grad-CAM written out: α_k = mean of the gradient over positions; L = ReLU(Σ_k α_k A_k).
    const alpha = [0, 1, 2, 3].map((k) => g.filter((_, i) => i % 4 === k).reduce((s, v) => s + v, 0) / 36);
    const direct = Float32Array.from({ length: 36 }, (_, p) =>
      Math.max(
        0,
        alpha.reduce((s, w, k) => s + w * av[p * 4 + k], 0),
      ),
    );

    const target = chooseTarget(smooth(), full, 't2');
    const cam = await gradCam(tf, full, target, x, { classIndex });
    assert.equal(cam.classIndex, classIndex);
    assert.deepEqual([cam.rows, cam.cols], [6, 6]);
    const scale = Math.max(...direct, 1e-3);
    direct.forEach((v, i) => assert.ok(Math.abs(cam.map[i] - v) < 2e-3 * scale, `Grad-CAM at ${i}: ${cam.map[i]} vs ${v} by finite differences`));
    const camPP = await gradCam(tf, full, target, x, { classIndex, method: 'gradcam++' });
    const directPP = camFromGradients('gradcam++', av, g, 36, 4);
    const scalePP = Math.max(...directPP, 1e-3);
    directPP.forEach((v, i) => assert.ok(Math.abs(camPP.map[i] - v) < 5e-3 * scalePP, `Grad-CAM++ at ${i}: ${camPP.map[i]} vs ${v} by finite differences`));
    // HiResCAM: L = ReLU(Σ_k ∂y/∂A_k ⊙ A_k), the gradient not averaged.
    const hires = await gradCam(tf, full, target, x, { classIndex, method: 'hirescam' });
    const directHires = Float32Array.from({ length: 36 }, (_, p) =>
      Math.max(
        0,
        [0, 1, 2, 3].reduce((s, k) => s + g[p * 4 + k] * av[p * 4 + k], 0),
      ),
    );
    const scaleHires = Math.max(...directHires, 1e-3);
    directHires.forEach((v, i) => assert.ok(Math.abs(hires.map[i] - v) < 2e-3 * scaleHires, `HiResCAM at ${i}: ${hires.map[i]} vs ${v} by finite differences`));
    tf.dispose([x, a, xs]);
    full.model.dispose();
    rest.model.dispose();
  });

test('Grad-CAM leaves no tensors behind', async () => {
  const tf = await tfReady;
  const c = compileGraph(tf, smooth());
  const x = tf.zeros([1, 6, 6, 1]);
  await explain(tf, smooth(), c, x, { method: 'gradcam' });
  const before = tf.memory().numTensors;
  await explain(tf, smooth(), c, x, { method: 'gradcam++' });
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
  c.model.dispose();
});

test('the default layer is the last spatial one before its pooling; a ViT explains through its patch grid', async () => {
  const tf = await tfReady;
  const cbam = loadTemplate('cbam-mnist-small.attn.json');
  const c = compileGraph(tf, cbam);
  assert.deepEqual(
    targetLayers(cbam, c).map((t) => `${t.node} ${t.rows}×${t.cols}`),
    ['conv1 28×28', 'pool1 14×14', 'cbam 14×14', 'pool2 7×7'],
  );
  // pool2 only max-pools the CBAM output: the default is the finer map before it.
  assert.equal(chooseTarget(cbam, c).node, 'cbam');
  c.model.dispose();

  const vit = loadTemplate('vit-tiny-mnist.attn.json');
  const v = compileGraph(tf, vit);
  const t = chooseTarget(vit, v);
  // The tokens entering the last encoder layer: 17 = class token + 4×4 patches of 7×7.
  assert.deepEqual([t.node, t.port, t.rows, t.cols, t.tokens?.skip], ['encoders#1/layer', 'out', 4, 4, 1]);
  const x = tf.randomUniform([1, 28, 28, 1], 0, 1, 'float32', 5);
  const e = await explain(tf, vit, v, x, { method: 'gradcam', classIndex: 3 });
  assert.equal(e.map.length, 16);
  assert.ok(
    e.map.some((m) => m > 0),
    'the patches get some weight',
  );
  // The last layer's tokens only reach the head through the class token: their map is 0 everywhere.
  const last = await explain(tf, vit, v, x, { method: 'gradcam', layer: 'encoders#2/layer' });
  assert.ok(last.map.every((m) => m === 0));
  x.dispose();
  v.model.dispose();
});

test('a layer with no spatial map, or a model without one, is named in the message', async () => {
  const tf = await tfReady;
  const cbam = loadTemplate('cbam-mnist-small.attn.json');
  const c = compileGraph(tf, cbam);
  assert.throws(
    () => chooseTarget(cbam, c, 'flatten'),
    (e: Error) => e instanceof ExplainError && e.nodeId === 'flatten' && /node "flatten" \(core\.flatten\) outputs \[\?, 392\].*no spatial map/.test(e.message),
  );
  assert.throws(() => chooseTarget(cbam, c, 'image'), /node "image" is the model's input/);
  assert.throws(() => chooseTarget(cbam, c, 'nope'), /there is no node "nope"/);
  c.model.dispose();
  const mlp = compileGraph(tf, tinyMlp());
  assert.throws(() => chooseTarget(tinyMlp(), mlp), /no layer of the model outputs a spatial map/);
  mlp.model.dispose();
});

test('rollout on a model without self-attention names the attention outputs it has', async () => {
  const tf = await tfReady;
  const cbam = loadTemplate('cbam-mnist-small.attn.json');
  const c = compileGraph(tf, cbam);
  assert.throws(
    () => selfAttentionLayers(c),
    (e: Error) =>
      e instanceof ExplainError &&
      e.nodeId === 'cbam' &&
      /no self-attention layers for rollout: its attention outputs are cbam\.channelWeights \(channel\), cbam\.spatialMap \(spatial\)/.test(e.message),
  );
  c.model.dispose();
  const mlp = compileGraph(tf, tinyMlp());
  assert.throws(() => selfAttentionLayers(mlp), /no self-attention layers for rollout: it has no attention outputs at all/);
  mlp.model.dispose();
});

/** Plain matrix algebra for the product formula. */
const matmul = (a: number[][], b: number[][]) => a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
const withResidual = (a: number[][]) =>
  a.map((row, i) => {
    const r = row.map((v, j) => 0.5 * v + 0.5 * (i === j ? 1 : 0));
    const s = r.reduce((x, y) => x + y, 0);
    return r.map((v) => v / s);
  });
const heads = (m: HeadMatrices, h: number) =>
  Array.from({ length: m.queries }, (_, i) => Array.from(m.data.subarray((h * m.queries + i) * m.keys, (h * m.queries + i + 1) * m.keys)));

test('rollout equals the product formula on a 2-layer example', () => {
  // Two layers, two heads, three tokens; rows sum to 1.
  const layer = (values: number[]): HeadMatrices => ({ nodeId: 'l', port: 'attention', heads: 2, queries: 3, keys: 3, data: Float32Array.from(values) });
  const l1 = layer([0.7, 0.2, 0.1, 0.3, 0.3, 0.4, 0.1, 0.1, 0.8, /* head 2 */ 0.5, 0.25, 0.25, 0.1, 0.8, 0.1, 0.6, 0.2, 0.2]);
  const l2 = layer([0.2, 0.6, 0.2, 0.4, 0.4, 0.2, 0.3, 0.3, 0.4, /* head 2 */ 0.9, 0.05, 0.05, 0.2, 0.2, 0.6, 0.1, 0.7, 0.2]);
  const mean = (m: HeadMatrices) => heads(m, 0).map((row, i) => row.map((v, j) => (v + heads(m, 1)[i][j]) / 2));
  const want = matmul(withResidual(mean(l2)), withResidual(mean(l1)));
  const got = rollout([l1, l2], { fusion: 'mean' });
  want.flat().forEach((v, i) => assert.ok(Math.abs(got[i] - v) < 1e-6, `R[${i}] = ${got[i]}, the formula gives ${v}`));
  // Every row of R is a distribution.
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(got[3 * i] + got[3 * i + 1] + got[3 * i + 2] - 1) < 1e-9);
  // Max fusion, and discarding the smallest fused weights.
  const max = (m: HeadMatrices) => heads(m, 0).map((row, i) => row.map((v, j) => Math.max(v, heads(m, 1)[i][j])));
  const wantMax = matmul(withResidual(max(l2)), withResidual(max(l1)));
  const gotMax = rollout([l1, l2], { fusion: 'max' });
  wantMax.flat().forEach((v, i) => assert.ok(Math.abs(gotMax[i] - v) < 1e-6));
  const discarded = rollout([l1], { fusion: 'mean', discardRatio: 0.5 });
  const meanFused = mean(l1);
  // The 4 smallest of the 9 mean weights: 0.15 at (2, 1), 0.175 at (0, 2), 0.2 at (1, 0), 0.225 at (0, 1).
  for (const [i, j] of [
    [2, 1],
    [0, 2],
    [1, 0],
    [0, 1],
  ])
    meanFused[i][j] = 0;
  withResidual(meanFused)
    .flat()
    .forEach((v, i) => assert.ok(Math.abs(discarded[i] - v) < 1e-6, `discarded R[${i}]`));
  assert.throws(() => rollout([l1], { discardRatio: 1 }), /discard ratio is 1; it must be at least 0 and below 1/);
});

test("the ViT's rollout multiplies its two encoder layers and reads the class token's row over the patch grid", async () => {
  const tf = await tfReady;
  const vit = loadTemplate('vit-tiny-mnist.attn.json');
  const v = compileGraph(tf, vit);
  const x = tf.randomUniform([1, 28, 28, 1], 0, 1, 'float32', 9);
  const r = await attentionRollout(tf, vit, v, x);
  assert.deepEqual(r.layers, [
    { nodeId: 'encoders#1/layer', port: 'attention' },
    { nodeId: 'encoders#2/layer', port: 'attention' },
  ]);
  assert.deepEqual([r.tokens, r.rows, r.cols], [17, 4, 4]);
  const [m1, m2] = await headMatrices(tf, v, selfAttentionLayers(v), x);
  const fused = (m: HeadMatrices) => heads(m, 0).map((row, i) => row.map((val, j) => (val + heads(m, 1)[i][j]) / 2));
  const want = matmul(withResidual(fused(m2)), withResidual(fused(m1)));
  want.flat().forEach((val, i) => assert.ok(Math.abs(r.joint[i] - val) < 1e-5, `R[${i}]`));
  want[0].slice(1).forEach((val, i) => assert.ok(Math.abs(r.map[i] - val) < 1e-5, `class token → patch ${i}`));
  x.dispose();
  v.model.dispose();
});

test("the ViT's attention flow is the maximum flow through the same two layers, read at the class token", async () => {
  const tf = await tfReady;
  const vit = loadTemplate('vit-tiny-mnist.attn.json');
  const v = compileGraph(tf, vit);
  const x = tf.randomUniform([1, 28, 28, 1], 0, 1, 'float32', 9);
  const e = await explain(tf, vit, v, x, { method: 'flow', fusion: 'max' });
  const matrices = await headMatrices(tf, v, selfAttentionLayers(v), x);
  const want = attentionFlow(matrices, { fusion: 'max' });
  assert.deepEqual([e.method, e.layers.length, e.tokens, e.rows, e.cols], ['flow', 2, 17, 4, 4]);
  assert.deepEqual(Array.from(e.joint!), Array.from(Float32Array.from(want)));
  assert.deepEqual(Array.from(e.map), Array.from(Float32Array.from(want.subarray(1, 17))), "the class token's row over the patches");
  // Not rollout's product: flow caps each path at its narrowest edge.
  const r = await explain(tf, vit, v, x, { method: 'rollout', fusion: 'max' });
  assert.ok(e.map.some((val, i) => Math.abs(val - r.map[i]) > 1e-3));
  x.dispose();
  v.model.dispose();
});

test('the layer × head grid holds every attention matrix of the sample, head by head', async () => {
  const tf = await tfReady;
  const vit = loadTemplate('vit-tiny-mnist.attn.json');
  const v = compileGraph(tf, vit);
  const x = tf.randomUniform([1, 28, 28, 1], 0, 1, 'float32', 13);
  const grid = await attentionGrid(tf, v, x);
  assert.deepEqual(
    grid.map((m) => [m.nodeId, m.path, m.copy, m.heads, m.queries, m.keys]),
    [
      ['encoders#1/layer', ['encoders', 'layer'], [1], 2, 17, 17],
      ['encoders#2/layer', ['encoders', 'layer'], [2], 2, 17, 17],
    ],
  );
  // Softmax rows: each head's every query row sums to 1.
  for (const m of grid)
    for (let h = 0; h < m.heads; h++)
      heads(m, h).forEach((row, i) => assert.ok(Math.abs(row.reduce((s, w) => s + w, 0) - 1) < 1e-5, `${m.nodeId} head ${h} row ${i}`));
  // A CNN without attention matrices has an empty grid.
  const cbam = compileGraph(tf, loadTemplate('cbam-mnist-small.attn.json'));
  assert.deepEqual(await attentionGrid(tf, cbam, x), []);
  x.dispose();
  v.model.dispose();
  cbam.model.dispose();
});

test("Inspect's explanations: the predicted class on the default layer, or the class and layer asked for, with the layers to choose from and the head grid", async () => {
  const tf = await tfReady;
  const cbam = loadTemplate('cbam-mnist-small.attn.json');
  const c = compileGraph(tf, cbam);
  const x = tf.randomUniform([1, 28, 28, 1], 0, 1, 'float32', 21);
  const byDefault = await inspectExplanations(tf, cbam, c, x);
  assert.ok(byDefault.cam);
  assert.equal(byDefault.cam.classIndex, byDefault.cam.predicted);
  assert.deepEqual([byDefault.cam.nodeId, byDefault.cam.rows], ['cbam', 14]);
  assert.deepEqual(
    byDefault.cam.layers.map((l) => `${l.nodeId}:${l.port}`),
    ['conv1:out', 'pool1:out', 'cbam:out', 'pool2:out'],
  );
  assert.equal(byDefault.grid, undefined, 'a CNN has no attention matrices');
  const other = (byDefault.cam.predicted + 1) % 10;
  const asked = await inspectExplanations(tf, cbam, c, x, { classIndex: other, layer: 'pool2:out' });
  assert.deepEqual([asked.cam?.classIndex, asked.cam?.predicted, asked.cam?.nodeId, asked.cam?.rows], [other, byDefault.cam.predicted, 'pool2', 7]);
  const direct = await gradCam(tf, c, chooseTarget(cbam, c, 'pool2'), x, { classIndex: other });
  assert.deepEqual(Array.from(asked.cam!.maps.gradcam), Array.from(direct.map));
  const noClass = await inspectExplanations(tf, cbam, c, x, { classIndex: 10 });
  assert.equal(noClass.cam, undefined);
  assert.match(noClass.notes.join('\n'), /class 10 does not exist: output "label" has 10 classes/);
  c.model.dispose();

  const vit = loadTemplate('vit-tiny-mnist.attn.json');
  const v = compileGraph(tf, vit);
  const e = await inspectExplanations(tf, vit, v, x);
  assert.deepEqual(
    e.grid?.map((m) => [m.nodeId, m.port, m.heads, m.queries, m.keys, m.data.length]),
    [
      ['encoders#1/layer', 'attention', 2, 17, 17, 2 * 17 * 17],
      ['encoders#2/layer', 'attention', 2, 17, 17, 2 * 17 * 17],
    ],
  );
  x.dispose();
  v.model.dispose();
});
