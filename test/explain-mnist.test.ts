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
  for (const req of [{ method: 'hirescam', layer: 'cbam' }, { method: 'hirescam' }, { method: 'gradcam++', layer: 'cbam' }] as ExplainRequest[]) {
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

test('plain Grad-CAM behind the flatten + dense head: the class score is the logit, and its position-averaged gradient leaves the map empty', async (t) => {
  // At pool2 (the flatten's input) the logit is linear: its gradient is the head kernel's class column for
  // every sample. A softmax probability's gradient would change from sample to sample.
  const target = chooseTarget(graph, trained);
  assert.equal(target.node, 'pool2');
  const [kernel] = trained.model.getLayer('head').getWeights();
  const w = kernel.arraySync() as number[][];
  const channels = target.shape[3]!;
  const positions = target.rows * target.cols;
  let empty = 0;
  const negative: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const { x } = sample(i);
    const e = await explain(tf, graph, trained, x, { method: 'gradcam' });
    const c = e.classIndex!;
    const g = tf.tidy(() => {
      const a = runFrom(target.tensor, new Map([[trained.model.inputs[0], x]]));
      return tf
        .grad(classScore(tf, trained, target, x, c))(a)
        .dataSync() as Float32Array;
    });
    x.dispose();
    g.forEach((v, j) => assert.ok(Math.abs(v - w[j][c]) < 1e-6, `the gradient at ${j} is the kernel's entry`));
    // Grad-CAM's channel weights: the class column averaged over the 7 × 7 positions of each channel.
    const alpha = Array.from({ length: channels }, (_, k) => {
      let s = 0;
      for (let p = 0; p < positions; p++) s += w[p * channels + k][c];
      return s / positions;
    });
    negative.push(alpha.filter((v) => v <= 0).length / channels);
    if (e.map.every((v) => v === 0)) empty++;
  }
  const share = mean(negative);
  t.diagnostic(`gradcam on pool2: ${empty} of ${SAMPLES} maps empty; ${(100 * share).toFixed(0)}% of the channel weights ≤ 0 on average`);
  // Non-negative activations weighed mostly by non-positive weights: little or nothing is left after the ReLU.
  assert.ok(share > 0.75, `${(100 * share).toFixed(0)}% of the channel weights ≤ 0`);
  assert.ok(empty > SAMPLES / 2, `${empty} of ${SAMPLES} Grad-CAM maps empty`);
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
  assert.match(r.stdout, /hirescam-sample4\.json: hirescam of class \d \(predicted \d\) on pool2\.out, 7×7 \(Grad-CAM's map is empty here/);
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
  assert.match(asked.stdout, /gradcam-sample4\.json: gradcam of class \d \(predicted \d\) on pool2\.out, 7×7 \(the map is empty: .*--method hirescam/);
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
