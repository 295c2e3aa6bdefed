// Explanations of a real trained model, as the literature checks them: the
// CBAM CNN template trained on MNIST (3 epochs of 4,096 samples, by `attn
// train`), its maps' mass on the digit's pixels, the model-parameter
// randomisation test (Adebayo et al., NeurIPS 2018), and `attn explain`.
import { execFile } from 'node:child_process';
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Tensor, TF } from '../engine/blocks/contract.js';
import { compileGraph, type CompiledGraph } from '../engine/compile/compile.js';
import { prepareData, type PreparedData } from '../engine/data/index.js';
import { decodePng, encodePng } from '../engine/data/png.js';
import { explain, type ExplainRequest } from '../engine/explain/index.js';
import { runFrom } from '../engine/explain/execute.js';
import { classScore } from '../engine/explain/gradcam.js';
import { chooseTarget } from '../engine/explain/target.js';
import { inputHint } from '../engine/train/setup.js';
import { loadTrainedModel } from '../engine/worker/run-model.js';
import { attn } from './helpers/cli.js';
import { PYTHON, torchAvailable } from './helpers/torch.js';
import { loadTemplate, templatesDir } from './helpers/graphs.js';
import { tfReady } from './helpers/tf.js';
import { digitRegions, mean, REGIONS, sharesOnDigit, spearman, uniformShares, type DigitRegions } from './explain-digit.js';

const file = path.join(templatesDir, 'cbam-mnist-small.attn.json');
const graph = loadTemplate('cbam-mnist-small.attn.json');
const tmp = mkdtempSync(path.join(tmpdir(), 'attn-explain-'));
const run = path.join(tmp, 'run');
const SAMPLES = 50;
let tf: TF;
let data: PreparedData;
let trained: CompiledGraph;

before(async () => {
  const r = await attn('train', file, '--dataset', 'mnist', '--limit', '4096', '--epochs', '3', '--out', run);
  assert.equal(r.code, 0, r.stderr);
  tf = await tfReady;
  data = await prepareData(JSON.parse(readFileSync(path.join(run, 'config.json'), 'utf8')).dataset, inputHint(graph));
  trained = (await loadTrainedModel(tf, graph, run)).compiled;
});

/** The validation sample and the regions of its digit, for a map of `rows` rows (7×7, the default layer's, unless told). */
function sample(i: number, rows = 7): { x: Tensor; digit: DigitRegions } {
  const { x } = data.validation.batch(tf, [i]);
  return { x, digit: digitRegions(x.dataSync(), 28, 28, rows) };
}

test('most of the map lies on the digit (CBAM CNN on MNIST)', async (t) => {
  // The least share on the ink; `auto` is what `attn explain` gives by default (HiResCAM here: Grad-CAM is empty).
  const cases: [ExplainRequest, number][] = [
    [{ method: 'hirescam', layer: 'cbam' }, 0.6],
    [{ method: 'gradcam++', layer: 'cbam' }, 0.55],
    [{ method: 'auto' }, 0.5],
  ];
  for (const [req, least] of cases) {
    const shares: Record<string, number[]> = { ink: [], near: [], box: [], u_ink: [], u_near: [], u_box: [] };
    let empty = 0;
    let shown = '';
    for (let i = 0; i < SAMPLES; i++) {
      const { x } = data.validation.batch(tf, [i]);
      const e = await explain(tf, graph, trained, x, req);
      const digit = digitRegions(x.dataSync(), 28, 28, e.rows);
      x.dispose();
      shown = `${e.method} on ${e.layers[0].nodeId} ${e.rows}×${e.cols}`;
      if (e.map.every((v) => v === 0)) empty++;
      const [s, u] = [sharesOnDigit(e.map, e.rows, e.cols, digit), uniformShares(digit)];
      for (const k of REGIONS) [shares[k], shares[`u_${k}`]].forEach((list, j) => list.push([s, u][j][k]));
    }
    const m = Object.fromEntries(Object.entries(shares).map(([k, v]) => [k, mean(v).toFixed(3)]));
    t.diagnostic(`${req.method}: ${shown}: share on the ink ${m.ink} (uniform ${m.u_ink}), near it ${m.near} (${m.u_near}), in its box ${m.box} (${m.u_box})`);
    assert.equal(empty, 0, `${shown}: ${empty} empty maps`);
    assert.ok(Number(m.ink) > least, `${shown}: only ${m.ink} of the mass on the digit`);
  }
});

test('model-parameter randomisation: random weights change the map (Adebayo et al.)', async (t) => {
  // All layers re-drawn, and the head alone (the first step of the cascading test).
  const random = compileGraph(tf, graph, { seed: 7 });
  const randomHead = compileGraph(tf, graph, { seed: 7 });
  randomHead.model.setWeights(trained.model.getWeights());
  randomHead.model.getLayer('head').setWeights(random.model.getLayer('head').getWeights());
  for (const req of [{ method: 'hirescam' }, { method: 'hirescam', layer: 'pool2' }, { method: 'gradcam++' }] as ExplainRequest[]) {
    const rho = { self: [] as number[], random: [] as number[], head: [] as number[] };
    for (let i = 0; i < SAMPLES; i++) {
      const { x } = sample(i);
      const e = await explain(tf, graph, trained, x, req);
      const again = await explain(tf, graph, trained, x, req);
      const byClass = { ...req, classIndex: e.classIndex };
      rho.self.push(spearman(e.map, again.map));
      rho.random.push(spearman(e.map, (await explain(tf, graph, random, x, byClass)).map));
      rho.head.push(spearman(e.map, (await explain(tf, graph, randomHead, x, byClass)).map));
      x.dispose();
    }
    const [self, all, head] = [mean(rho.self), mean(rho.random), mean(rho.head)];
    t.diagnostic(
      `${req.method} on ${req.layer ?? 'the default layer'}: mean Spearman ρ with itself ${self.toFixed(3)}, with all weights random ${all.toFixed(3)}, with the head random ${head.toFixed(3)}`,
    );
    assert.equal(self, 1);
    // HiResCAM passes; Grad-CAM++ does not on this model, for the reason the Grad-CAM++ test below shows (reported, not held to it).
    if (req.method === 'hirescam') {
      assert.ok(all < 0.5, `ρ with random weights ${all.toFixed(3)}`);
      assert.ok(head < 0.5, `ρ with a random head ${head.toFixed(3)}`);
    }
  }
  random.model.dispose();
  randomHead.model.dispose();
});

/** The activation A and the class score's gradient g at `layer`, both [positions × channels]. */
function activationAndGradient(layer: string, x: Tensor, classIndex: number) {
  const target = chooseTarget(graph, trained, layer);
  const [a, g] = tf.tidy(() => {
    const a = runFrom(target.tensor, new Map([[trained.model.inputs[0], x]]));
    return [
      a.dataSync() as Float32Array,
      tf
        .grad(classScore(tf, trained, target, x, classIndex))(a)
        .dataSync() as Float32Array,
    ];
  });
  return { a, g, channels: target.shape[3]!, positions: target.rows * target.cols, rows: target.rows };
}

/** Σ_p over one channel k of [positions × channels] values. */
const channelSum = (v: Float32Array, k: number, channels: number) => v.reduce((s, x, j) => (j % channels === k ? s + x : s), 0);

test('plain Grad-CAM behind the flatten + dense head is empty: its channel weights average away a gradient that follows the activation', async (t) => {
  // The class score (the logit) splits by channel as Σ_p g·A = α_k Σ_p A + Σ_p (g − α_k)·A, α_k = mean_p g:
  // Grad-CAM keeps only the first term. Behind a global average pool g is the same at every position and the
  // second term is 0; behind flatten + dense, g is the head's weight at each position, large where the class's
  // strokes are, below 0 over the rest of where the channel fires, and the first term turns negative.
  const [kernel] = trained.model.getLayer('head').getWeights();
  const w = kernel.arraySync() as number[][];
  const stats = { empty: { pool2: 0, cbam: 0 }, negative: [] as number[], kept: [] as number[], score: [] as number[], inverted: [] as number[] };
  for (let i = 0; i < SAMPLES; i++) {
    const { x } = sample(i);
    const e = await explain(tf, graph, trained, x, { method: 'gradcam', layer: 'pool2' });
    if (e.map.every((v) => v === 0)) stats.empty.pool2++;
    if ((await explain(tf, graph, trained, x, { method: 'gradcam' })).map.every((v) => v === 0)) stats.empty.cbam++;
    const c = e.classIndex!;
    const pool2 = activationAndGradient('pool2', x, c);
    const cbam = activationAndGradient('cbam', x, c);
    x.dispose();
    // At pool2 (the flatten's input) the logit is linear: its gradient is the head kernel's class column for every sample.
    pool2.g.forEach((v, j) => assert.ok(Math.abs(v - w[j][c]) < 1e-6, `the gradient at ${j} is the kernel's entry`));
    const { channels } = pool2;
    const alpha = (l: typeof pool2, k: number) => channelSum(l.g, k, channels) / l.positions;
    const firing = [...Array(channels).keys()].filter((k) => channelSum(pool2.a, k, channels) > 0);
    // The max-pool is not the cause: it hands each output's gradient to one input, so at cbam each α is pool2's × 49/196.
    for (let k = 0; k < channels; k++) assert.ok(Math.abs(alpha(cbam, k) * 4 - alpha(pool2, k)) < 1e-6, `α_${k} at cbam is a quarter of pool2's`);
    stats.negative.push(firing.filter((k) => alpha(pool2, k) <= 0).length / firing.length);
    const kept = firing.reduce((s, k) => s + alpha(pool2, k) * channelSum(pool2.a, k, channels), 0);
    const score = pool2.g.reduce((s, v, j) => s + v * pool2.a[j], 0);
    [stats.kept, stats.score].forEach((list, j) => list.push([kept, score][j]));
    // Before its ReLU the map is Σ_k α_k A_k: where it is ≤ 0, its negation is where the digit is.
    const pre = Float32Array.from({ length: cbam.positions }, (_, p) => firing.reduce((s, k) => s - alpha(cbam, k) * cbam.a[p * channels + k], 0));
    const { x: again, digit } = sample(i, cbam.rows);
    again.dispose();
    if (pre.some((v) => v > 0))
      stats.inverted.push(
        sharesOnDigit(
          pre.map((v) => Math.max(v, 0)),
          cbam.rows,
          cbam.rows,
          digit,
        ).ink,
      );
  }
  const [negative, kept, score, inverted] = [mean(stats.negative), mean(stats.kept), mean(stats.score), mean(stats.inverted)];
  t.diagnostic(
    `gradcam: ${stats.empty.cbam} of ${SAMPLES} maps empty on cbam (the default), ${stats.empty.pool2} on pool2; ${(100 * negative).toFixed(0)}% of the firing channels' weights ≤ 0`,
  );
  t.diagnostic(
    `the class score Σ g·A (bias left out) ${score.toFixed(3)} on average, of which Grad-CAM's Σ_k α_k Σ_p A_k keeps ${kept.toFixed(3)}; the negated map puts ${inverted.toFixed(3)} of its mass on the ink`,
  );
  assert.ok(negative > 0.75, `${(100 * negative).toFixed(0)}% of the channel weights ≤ 0`);
  assert.ok(
    stats.empty.pool2 > SAMPLES / 2 && stats.empty.cbam > SAMPLES / 2,
    `${stats.empty.pool2} and ${stats.empty.cbam} of ${SAMPLES} Grad-CAM maps empty`,
  );
  assert.ok(score > 0 && kept < 0, `the score ${score} is positive, the averaged part ${kept} negative`);
  assert.ok(inverted > 0.5, `the negated map: ${inverted} on the ink`);
});

test('Grad-CAM++ fails the randomisation check on this model because its map is the head-free Σ_k A_k / Σ A_k', async (t) => {
  // For a positive gradient g, α·ReLU(g) = g / (2 + S_k g) ≤ 1/S_k (S_k = Σ_ij A_k): the weights saturate, no
  // channel gets a negative one, and the 8 channels fire on the same strokes: the ranking follows the activations alone.
  const random = compileGraph(tf, graph, { seed: 7 });
  const randomHead = compileGraph(tf, graph, { seed: 7 });
  randomHead.model.setWeights(trained.model.getWeights());
  randomHead.model.getLayer('head').setWeights(random.model.getLayer('head').getWeights());
  const target = chooseTarget(graph, trained, 'cbam');
  const headFree = (x: Tensor): Float32Array => {
    const a = tf.tidy(() => runFrom(target.tensor, new Map([[trained.model.inputs[0], x]])).dataSync() as Float32Array);
    const c = target.shape[3]!;
    const sums = Array.from({ length: c }, (_, k) => a.reduce((s, v, j) => (j % c === k ? s + v : s), 0));
    return Float32Array.from({ length: target.rows * target.cols }, (_, p) => sums.reduce((s, sk, k) => s + (sk > 0 ? a[p * c + k] / sk : 0), 0));
  };
  const rho = { trained: [] as number[], head: [] as number[] };
  for (let i = 0; i < SAMPLES; i++) {
    const { x } = sample(i);
    const e = await explain(tf, graph, trained, x, { method: 'gradcam++', layer: 'cbam' });
    const h = await explain(tf, graph, randomHead, x, { method: 'gradcam++', layer: 'cbam', classIndex: e.classIndex });
    const free = headFree(x);
    x.dispose();
    rho.trained.push(spearman(e.map, free));
    rho.head.push(spearman(h.map, free));
  }
  const [trainedRho, headRho] = [mean(rho.trained), mean(rho.head)];
  t.diagnostic(`Grad-CAM++ on cbam vs Σ_k A_k / Σ A_k: mean Spearman ρ ${trainedRho.toFixed(4)} (trained head), ${headRho.toFixed(4)} (random head)`);
  assert.ok(trainedRho > 0.99 && headRho > 0.99, `ρ ${trainedRho}, ${headRho}`);
  random.model.dispose();
  randomHead.model.dispose();
});

test('attn explain writes the overlay and the raw map for a sample or an image', async () => {
  const out = path.join(tmp, 'explain');
  const r = await attn('explain', file, '--run', run, '--sample', '3', '--method', 'hirescam', '--layer', 'cbam', '--out', out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /wrote .*hirescam-sample3\.png and .*hirescam-sample3\.json: hirescam of class \d \(predicted \d\) on cbam\.out, 14×14/);
  const png = decodePng(readFileSync(path.join(out, 'hirescam-sample3.png')));
  assert.deepEqual([png.width, png.height, png.channels], [28, 28, 3]);
  const json = JSON.parse(readFileSync(path.join(out, 'hirescam-sample3.json'), 'utf8'));
  assert.deepEqual([json.sample, json.rows, json.cols, json.map.length, json.probs.length], [3, 14, 14, 196, 10]);
  const { x, digit } = sample(3, 14);
  assert.ok(sharesOnDigit(Float32Array.from(json.map), 14, 14, digit).ink > 0.5, 'the written map lies mostly on the digit');

  // The same digit as a PNG: fitted back to the input, it gives nearly the same map.
  const v = x.dataSync();
  const [lo, hi] = [Math.min(...v), Math.max(...v)];
  x.dispose();
  const image = path.join(tmp, 'digit.png');
  writeFileSync(image, encodePng({ width: 28, height: 28, channels: 1, data: Uint8Array.from(v, (p) => Math.round(((p - lo) / (hi - lo)) * 255)) }));
  const fromImage = await attn(
    'explain',
    file,
    '--run',
    run,
    '--image',
    image,
    '--method',
    'hirescam',
    '--layer',
    'cbam',
    '--class',
    String(json.class),
    '--out',
    out,
    '--json',
  );
  assert.equal(fromImage.code, 0, fromImage.stderr);
  const again = JSON.parse(fromImage.stdout);
  assert.equal(again.image, image);
  assert.ok(spearman(Float32Array.from(json.map), Float32Array.from(again.map)) > 0.95);
});

test("attn explain by default shows what the app shows: Grad-CAM, or HiResCAM, named, where Grad-CAM's map is empty", async () => {
  const out = path.join(tmp, 'explain-auto');
  const r = await attn('explain', file, '--run', run, '--sample', '4', '--out', out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /hirescam-sample4\.json: hirescam of class \d \(predicted \d\) on cbam\.out, 14×14 \(Grad-CAM's map is empty here/);
  const json = JSON.parse(readFileSync(path.join(out, 'hirescam-sample4.json'), 'utf8'));
  assert.deepEqual([json.asked, json.method], ['auto', 'hirescam']);
  const direct = await explainAgain(4, { method: 'hirescam' });
  assert.deepEqual(json.map, Array.from(direct.map));
  const gradcam = await explainAgain(4, { method: 'gradcam' });
  assert.ok(
    gradcam.map.every((v) => v === 0),
    "Grad-CAM's map is empty, which is why HiResCAM was shown",
  );
  // Asked for by name, the empty map is written and said to be empty.
  const asked = await attn('explain', file, '--run', run, '--sample', '4', '--method', 'gradcam', '--out', out);
  assert.equal(asked.code, 0, asked.stderr);
  assert.match(asked.stdout, /gradcam-sample4\.json: gradcam of class \d \(predicted \d\) on cbam\.out, 14×14 \(the map is empty: .*--method hirescam/);
});

test('the overlays `attn explain` writes by default lie mostly on the digit', async (t) => {
  // Issue #17's "done when": the real CLI on the real run, its written maps measured as the overlay draws them.
  const out = path.join(tmp, 'explain-on-digit');
  const samples = [0, 1, 2, 3, 5, 6];
  const runs = await Promise.all(samples.map((i) => attn('explain', file, '--run', run, '--sample', String(i), '--out', out, '--json')));
  const shares: Record<string, number[]> = { ink: [], near: [], box: [], u_ink: [] };
  runs.forEach((r, j) => {
    assert.equal(r.code, 0, r.stderr);
    const written = JSON.parse(r.stdout) as { png: string; json: string; method: string };
    assert.ok(decodePng(readFileSync(written.png)).width === 28, 'an overlay over the 28×28 input');
    const json = JSON.parse(readFileSync(written.json, 'utf8'));
    const map = Float32Array.from(json.map as number[]);
    assert.ok(
      map.some((v) => v > 0),
      `sample ${samples[j]}: an empty ${json.method} map`,
    );
    const { x, digit } = sample(samples[j], json.rows);
    x.dispose();
    const s = sharesOnDigit(map, json.rows, json.cols, digit);
    for (const k of REGIONS) shares[k].push(s[k]);
    shares.u_ink.push(uniformShares(digit).ink);
  });
  const m = Object.fromEntries(Object.entries(shares).map(([k, v]) => [k, mean(v)]));
  t.diagnostic(
    `attn explain (auto) on ${samples.length} samples: ink ${m.ink.toFixed(3)} (uniform ${m.u_ink.toFixed(3)}), near ${m.near.toFixed(3)}, box ${m.box.toFixed(3)}`,
  );
  assert.ok(m.ink > 0.5, `only ${m.ink.toFixed(3)} of the written maps' mass on the ink pixels`);
});

test('attn explain names the node when there is nothing to explain with', async () => {
  const out = path.join(tmp, 'explain-bad');
  const flat = await attn('explain', file, '--run', run, '--layer', 'flatten', '--out', out);
  assert.equal(flat.code, 1);
  assert.match(flat.stderr, /node "flatten" \(core\.flatten\) outputs \[\?, 392\] on "out": no spatial map for Grad-CAM/);
  const rollout = await attn('explain', file, '--run', run, '--method', 'rollout', '--out', out);
  assert.equal(rollout.code, 1);
  assert.match(
    rollout.stderr,
    /no self-attention layers for rollout: its attention outputs are cbam\.channelWeights \(channel\), cbam\.spatialMap \(spatial\)/,
  );
  const method = await attn('explain', file, '--run', run, '--method', 'saliency', '--out', out);
  assert.equal(method.code, 1);
  assert.match(method.stderr, /--method saliency: one of auto, gradcam, gradcam\+\+, hirescam, rollout/);
});

test("the exported PyTorch file's grad_cam() gives the same maps as the app", { skip: torchAvailable() === true ? false : torchAvailable() }, async () => {
  const out = path.join(tmp, 'torch');
  const r = await attn('export', file, '--to', 'pytorch', '--weights', run, '--out', path.join(out, 'model.py'));
  assert.equal(r.code, 0, r.stderr);
  const { x } = sample(5);
  const req = { method: 'gradcam' as const };
  const e = await explain(tf, graph, trained, x, req);
  const input = path.join(out, 'input.json');
  writeFileSync(input, JSON.stringify({ x: Array.from(x.dataSync()), shape: x.shape, class: e.classIndex }));
  x.dispose();
  const { stdout } = await promisify(execFile)(PYTHON, [
    fileURLToPath(new URL('../../test/helpers/torch_grad_cam.py', import.meta.url)),
    path.join(out, 'model.py'),
    path.join(out, 'model.safetensors'),
    input,
  ]);
  const maps = JSON.parse(stdout) as Record<string, number[]>;
  for (const method of ['gradcam', 'gradcam++', 'hirescam'] as const) {
    const ours = (await explainAgain(5, { method, classIndex: e.classIndex })).map;
    const theirs = maps[method];
    assert.equal(theirs.length, ours.length, method);
    const scale = Math.max(...ours, ...theirs, 1e-6);
    ours.forEach((v, i) => assert.ok(Math.abs(v - theirs[i]) < 1e-3 * scale, `${method} at ${i}: ${v} here, ${theirs[i]} in PyTorch`));
  }
});

async function explainAgain(i: number, req: ExplainRequest) {
  const { x } = sample(i);
  try {
    return await explain(tf, graph, trained, x, req);
  } finally {
    x.dispose();
  }
}
