// Most of Grad-CAM's mass on the digit's pixels (issue #17), on the template
// made for it: templates/cbam-gap-mnist.attn.json, a CBAM CNN that keeps the
// 28×28 resolution to its last feature map and ends in the CBAM paper's global
// average pooling head (Woo et al. 2018), trained on MNIST by `attn train` with
// the template's own settings, explained by explain() (the code `attn explain`
// runs) at the default layer. Behind a global average pool Grad-CAM is CAM
// (Zhou et al. 2016) and HiResCAM: each channel's gradient is the head's weight
// over the positions, the same everywhere. Each share is reported beside a
// uniform map's (test/explain-digit.ts says why there are three regions).
// The randomisation check (Adebayo et al., NeurIPS 2018) is run three ways:
// all weights random, the head alone random, and cascading from the top layer
// down. Grad-CAM++'s figure is recorded beside Grad-CAM's: its channel weights
// are ≥ 0 by its formula, so its map depends less on the weights above the layer.
import { before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TF } from '../engine/blocks/contract.js';
import { compileGraph, type CompiledGraph } from '../engine/compile/compile.js';
import { prepareData, type PreparedData } from '../engine/data/index.js';
import { explain, upsample, type ExplainRequest } from '../engine/explain/index.js';
import { inputHint } from '../engine/train/setup.js';
import { loadTrainedModel } from '../engine/worker/run-model.js';
import { digitRegions, inkAtResolution, mean, REGIONS, sharesOnDigit, spearman, uniformShares, type Region } from './explain-digit.js';
import { attn } from './helpers/cli.js';
import { loadTemplate, templatesDir } from './helpers/graphs.js';
import { tfReady } from './helpers/tf.js';

const TEMPLATE = 'cbam-gap-mnist.attn.json';
const file = path.join(templatesDir, TEMPLATE);
const graph = loadTemplate(TEMPLATE);
const SAMPLES = 30;
const tmp = mkdtempSync(path.join(tmpdir(), 'attn-digit-mass-'));
const run = path.join(tmp, 'run');
let tf: TF;
let data: PreparedData;
let trained: CompiledGraph;
let accuracy: number;

before(async () => {
  // The template's own dataset section and training settings: what a user who trains it gets.
  const r = await attn('train', file, '--out', run, '--json');
  assert.equal(r.code, 0, r.stderr);
  accuracy = JSON.parse(r.stdout.trim().split('\n').pop()!).metrics.val_accuracy;
  tf = await tfReady;
  data = await prepareData(JSON.parse(readFileSync(path.join(run, 'config.json'), 'utf8')).dataset, inputHint(graph));
  trained = (await loadTrainedModel(tf, graph, run)).compiled;
});

test('the map is scaled up with pixel centres aligned: a cell lands on the centre of the pixels it pooled', () => {
  // A 2×2 max-pool twice: cell (1, 5) of 7×7 pools pixels 4…7 × 20…23 of 28×28, centred at (5.5, 21.5).
  // align_corners=True would put it at (4.5, 22.5), a pixel off in each direction.
  const map = new Float32Array(49);
  map[1 * 7 + 5] = 1;
  const up = upsample(map, 7, 7, 28, 28);
  let [mass, y, x] = [0, 0, 0];
  up.forEach((v, i) => {
    mass += v;
    y += v * Math.floor(i / 28);
    x += v * (i % 28);
  });
  assert.deepEqual([y / mass, x / mass], [5.5, 21.5]);
});

/** A copy of the trained model whose layers of the given nodes (a node's tfjs layers are NODE and NODE_*) have a random model's weights. */
function withRandom(random: CompiledGraph, nodes: readonly string[]): CompiledGraph {
  const copy = compileGraph(tf, graph, { seed: 7 });
  copy.model.setWeights(trained.model.getWeights());
  for (const layer of copy.model.layers)
    if (nodes.some((n) => layer.name === n || layer.name.startsWith(`${n}_`))) layer.setWeights(random.model.getLayer(layer.name).getWeights());
  return copy;
}

/** Mean Spearman ρ between the trained model's map and each model's, for the predicted class, over the samples. */
async function rankCorrelations(req: ExplainRequest, models: readonly CompiledGraph[]): Promise<number[]> {
  const rho = models.map(() => [] as number[]);
  for (let i = 0; i < SAMPLES; i++) {
    const { x } = data.validation.batch(tf, [i]);
    try {
      const e = await explain(tf, graph, trained, x, req);
      for (const [j, m] of models.entries()) rho[j].push(spearman(e.map, (await explain(tf, graph, m, x, { ...req, classIndex: e.classIndex })).map));
    } finally {
      x.dispose();
    }
  }
  // A map that is all zeros has no ranks (ρ is NaN): left out.
  return rho.map((list) => mean(list.filter(Number.isFinite)));
}

interface Shares {
  layer: string;
  empty: number;
  shares: Record<Region, number>;
  uniform: Record<Region, number>;
  atResolution: number;
}

/** Grad-CAM of the predicted class at the default layer: its shares of mass on the digit, averaged over the samples. */
async function sharesOfGradCam(): Promise<Shares> {
  const lists = { shares: { ink: [], near: [], box: [] } as Record<Region, number[]>, uniform: { ink: [], near: [], box: [] } as Record<Region, number[]> };
  const atResolution: number[] = [];
  let [layer, empty] = ['', 0];
  for (let i = 0; i < SAMPLES; i++) {
    const { x } = data.validation.batch(tf, [i]);
    const e = await explain(tf, graph, trained, x, { method: 'gradcam' });
    const regions = digitRegions(x.dataSync(), 28, 28, e.rows);
    x.dispose();
    layer = `${e.layers[0].nodeId} ${e.rows}×${e.cols}`;
    if (!e.map.some((v) => v > 0)) {
      empty++;
      continue;
    }
    const [s, u] = [sharesOnDigit(e.map, e.rows, e.cols, regions), uniformShares(regions)];
    for (const k of REGIONS) [lists.shares[k], lists.uniform[k]].forEach((list, j) => list.push([s, u][j][k]));
    atResolution.push(inkAtResolution(regions, e.rows, e.cols));
  }
  const byRegion = (l: Record<Region, number[]>) => Object.fromEntries(REGIONS.map((k) => [k, mean(l[k])])) as Record<Region, number>;
  return { layer, empty, shares: byRegion(lists.shares), uniform: byRegion(lists.uniform), atResolution: mean(atResolution) };
}

const f3 = (v: number) => v.toFixed(3);

test('Grad-CAM at the default layer puts most of its mass on the digit’s pixels', async (t) => {
  const m = await sharesOfGradCam();
  const { shares: s, uniform: u } = m;
  t.diagnostic(`validation accuracy ${f3(accuracy)}; Grad-CAM on ${m.layer}, mean over ${SAMPLES - m.empty} validation samples (${m.empty} empty):`);
  t.diagnostic(`  ink ${f3(s.ink)} (uniform ${f3(u.ink)}, the ink itself averaged over the cells ${f3(m.atResolution)})`);
  t.diagnostic(`  ink dilated by one cell ${f3(s.near)} (uniform ${f3(u.near)}); bounding box ${f3(s.box)} (uniform ${f3(u.box)})`);
  assert.ok(accuracy > 0.8, `the model learnt MNIST (validation accuracy ${accuracy})`);
  assert.equal(m.layer, 'cbam 28×28', 'the default layer is the last spatial one, the CBAM output before the pooling head');
  assert.equal(m.empty, 0, 'behind a global average pool no map is empty');
  assert.ok(s.ink > 0.5, `on the ink: ${f3(s.ink)} (uniform ${f3(u.ink)})`);
  assert.ok(s.box > u.box + 0.2, `in the box: ${f3(s.box)} (uniform ${f3(u.box)})`);
});

test('model-parameter randomisation: Grad-CAM changes with random weights, all at once, the head alone and cascading down; Grad-CAM++ less', async (t: TestContext) => {
  const random = compileGraph(tf, graph, { seed: 7 });
  // Adebayo et al.'s cascade: the layers re-drawn from the top (the head) down, one more at each step.
  const top = graph.nodes
    .filter((n) => !n.type.startsWith('io.'))
    .map((n) => n.id)
    .reverse();
  const cascade = top.map((_, i) => withRandom(random, top.slice(0, i + 1)));
  try {
    const [self, ...steps] = await rankCorrelations({ method: 'gradcam' }, [trained, ...cascade]);
    const [allRandom, headRandom] = [steps.at(-1)!, steps[0]];
    const [ppAll, ppHead] = await rankCorrelations({ method: 'gradcam++' }, [random, cascade[0]]);
    t.diagnostic(
      `Grad-CAM, mean Spearman ρ with the trained model's map: itself ${f3(self)}, all weights random ${f3(allRandom)}, the head random ${f3(headRandom)}`,
    );
    t.diagnostic(`  cascading from the top: ${top.map((n, i) => `+${n} ${f3(steps[i])}`).join(', ')}`);
    t.diagnostic(`Grad-CAM++: all weights random ${f3(ppAll)}, the head random ${f3(ppHead)}`);
    assert.equal(self, 1);
    assert.ok(allRandom < 0.5, `all weights random: ρ ${f3(allRandom)}`);
    assert.ok(headRandom < 0.5, `the head random: ρ ${f3(headRandom)}`);
    steps.forEach((rho, i) => assert.ok(rho < 0.5, `cascade down to ${top[i]}: ρ ${f3(rho)}`));
    // Grad-CAM++ keeps only the channels with a positive gradient, each weighed by a saturating function of it.
    assert.ok(
      ppAll > allRandom && ppHead > headRandom,
      `Grad-CAM++ ρ ${f3(ppAll)} and ${f3(ppHead)} against Grad-CAM's ${f3(allRandom)} and ${f3(headRandom)}`,
    );
  } finally {
    for (const m of [random, ...cascade]) m.model.dispose();
  }
});

test('attn explain --method gradcam writes the map measured above, over the digit', async (t) => {
  // Each written map is explain()'s for the sample, so the 30 samples' figure above is the CLI's. Six samples are
  // too few to hold to 0.5 (0.46 on samples 0–5, 0.52 over 30): here the ink must get twice its uniform share.
  const out = path.join(tmp, 'explain');
  const samples = [0, 1, 2, 3, 4, 5];
  const runs = await Promise.all(samples.map((i) => attn('explain', file, '--run', run, '--sample', String(i), '--method', 'gradcam', '--out', out, '--json')));
  const ink: number[] = [];
  const uniform: number[] = [];
  for (const [j, r] of runs.entries()) {
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(readFileSync(JSON.parse(r.stdout).json, 'utf8'));
    assert.deepEqual([json.method, json.layers[0].nodeId, json.rows, json.cols], ['gradcam', 'cbam', 28, 28]);
    const { x } = data.validation.batch(tf, [samples[j]]);
    const regions = digitRegions(x.dataSync(), 28, 28, json.rows);
    const direct = await explain(tf, graph, trained, x, { method: 'gradcam' });
    x.dispose();
    assert.deepEqual(json.map, Array.from(direct.map), `sample ${samples[j]}: the written map is explain()'s`);
    ink.push(sharesOnDigit(Float32Array.from(json.map), json.rows, json.cols, regions).ink);
    uniform.push(uniformShares(regions).ink);
  }
  t.diagnostic(`attn explain --method gradcam on samples ${samples.join(', ')}: ${f3(mean(ink))} of the mass on the ink (uniform ${f3(mean(uniform))})`);
  assert.ok(mean(ink) > 2 * mean(uniform), `${f3(mean(ink))} of the written maps' mass on the ink, uniform ${f3(mean(uniform))}`);
});
