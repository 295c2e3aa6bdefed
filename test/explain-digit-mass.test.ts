// Most of Grad-CAM's mass on the digit (issue #17), on a CBAM CNN with the
// CBAM paper's head (global average pooling, Woo et al. 2018), trained on MNIST
// by `attn train` and explained by explain(), the code `attn explain` runs.
// Behind a global-average-pooling head Grad-CAM is CAM (Zhou et al. 2016): each
// channel's weight is the head's, the same at every position, so the map is
// never empty as it is behind cbam-mnist-small's flatten + dense head. Each
// share is reported beside a uniform map's (test/explain-digit.ts says why there
// are three regions); the bounding box, the literature's measure, is held to.
// On the ink pixels themselves the default layer's map gets 0.43, below half:
// its 20-pixel receptive field spreads it around the strokes. The first
// convolution's map follows the strokes (0.76 on the ink) but is nearly as much
// the input's as the model's (Spearman 0.53 with all weights random).
import { before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TF } from '../engine/blocks/contract.js';
import { compileGraph, type CompiledGraph } from '../engine/compile/compile.js';
import { prepareData, type PreparedData } from '../engine/data/index.js';
import { explain, upsample } from '../engine/explain/index.js';
import type { GraphFile } from '../engine/graph/types.js';
import { inputHint } from '../engine/train/setup.js';
import { loadTrainedModel } from '../engine/worker/run-model.js';
import { digitRegions, inkAtResolution, mean, REGIONS, sharesOnDigit, spearman, uniformShares, type Region } from './explain-digit.js';
import { attn } from './helpers/cli.js';
import { tfReady } from './helpers/tf.js';
import { chain } from './helpers/graphs.js';
import { graphOf } from './train-fixtures.js';

/**
 * 28×28×1 → conv 3×3×16 → 2×2 max-pool → two conv 5×5×32 (a 19-pixel receptive field, enough for a head that
 * sees no positions) → CBAM → global average pool → 10-way softmax: 39k parameters. With 8 and 16 channels it
 * learns MNIST as well (0.90) but its maps are vaguer (0.64 of the mass in the box, 0.32 on the ink).
 */
function cbamGapCnn(): GraphFile {
  const conv = (filters: number, kernel: number) => ({ filters, kernel, padding: 'same', activation: 'relu' });
  return graphOf(
    'cbam-gap-cnn',
    [
      ['image', 'io.input', { kind: 'image', height: 28, width: 28, channels: 1 }],
      ['conv1', 'core.conv2d', conv(16, 3)],
      ['pool1', 'core.pool2d', { mode: 'max', size: 2, stride: 2 }],
      ['conv2', 'core.conv2d', conv(32, 5)],
      ['conv3', 'core.conv2d', conv(32, 5)],
      ['cbam', 'attention.cbam', { reduction: 4, kernel: 7 }],
      ['gap', 'core.globalPool2d', { mode: 'avg' }],
      ['head', 'core.classificationHead', { classes: 10 }],
      ['label', 'io.output'],
    ],
    chain('image', 'conv1', 'pool1', 'conv2', 'conv3', 'cbam', 'gap', 'head.probs', 'label'),
  );
}

const SAMPLES = 30;
const tmp = mkdtempSync(path.join(tmpdir(), 'attn-digit-mass-'));
const graph = cbamGapCnn();
let tf: TF;
let data: PreparedData;
let trained: CompiledGraph;
let accuracy: number;

before(async () => {
  const file = path.join(tmp, 'cbam-gap-cnn.attn.json');
  const run = path.join(tmp, 'run');
  writeFileSync(file, JSON.stringify(graph));
  const r = await attn('train', file, '--dataset', 'mnist', '--limit', '4096', '--epochs', '3', '--lr', '0.005', '--out', run, '--json');
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

interface Measured {
  layer: string;
  /** Samples whose Grad-CAM map is empty (left out of the shares). */
  empty: number;
  shares: Record<Region, number>;
  uniform: Record<Region, number>;
  atResolution: number;
  /** Mean Spearman ρ of the map with itself, with all weights random, and Grad-CAM++'s with all weights random. */
  rho: { self: number; random: number; randomPP: number };
}

/** Grad-CAM of the predicted class on `layer` (default: the default layer) over SAMPLES validation samples, with the randomisation check. */
async function measure(layer?: string): Promise<Measured> {
  const shares: Record<Region, number[]> = { ink: [], near: [], box: [] };
  const uniform: Record<Region, number[]> = { ink: [], near: [], box: [] };
  const atResolution: number[] = [];
  const rho = { self: [] as number[], random: [] as number[], randomPP: [] as number[] };
  const random = compileGraph(tf, graph, { seed: 7 });
  let shown = '';
  let empty = 0;
  try {
    for (let i = 0; i < SAMPLES; i++) {
      const { x } = data.validation.batch(tf, [i]);
      try {
        const e = await explain(tf, graph, trained, x, { method: 'gradcam', layer });
        shown = `${e.layers[0].nodeId} ${e.rows}×${e.cols}`;
        if (!e.map.some((v) => v > 0)) {
          empty++;
          continue;
        }
        const regions = digitRegions(x.dataSync(), 28, 28, e.rows);
        const s = sharesOnDigit(e.map, e.rows, e.cols, regions);
        const u = uniformShares(regions);
        for (const k of REGIONS) [shares[k], uniform[k]].forEach((list, j) => list.push([s, u][j][k]));
        atResolution.push(inkAtResolution(regions, e.rows, e.cols));
        const byClass = { layer, classIndex: e.classIndex };
        rho.self.push(spearman(e.map, (await explain(tf, graph, trained, x, { method: 'gradcam', ...byClass })).map));
        rho.random.push(spearman(e.map, (await explain(tf, graph, random, x, { method: 'gradcam', ...byClass })).map));
        const pp = await explain(tf, graph, trained, x, { method: 'gradcam++', ...byClass });
        rho.randomPP.push(spearman(pp.map, (await explain(tf, graph, random, x, { method: 'gradcam++', ...byClass })).map));
      } finally {
        x.dispose();
      }
    }
  } finally {
    random.model.dispose();
  }
  const byRegion = (lists: Record<Region, number[]>) => Object.fromEntries(REGIONS.map((k) => [k, mean(lists[k])])) as Record<Region, number>;
  const finite = (xs: number[]) => mean(xs.filter(Number.isFinite));
  return {
    layer: shown,
    empty,
    shares: byRegion(shares),
    uniform: byRegion(uniform),
    atResolution: mean(atResolution),
    rho: { self: mean(rho.self), random: finite(rho.random), randomPP: finite(rho.randomPP) },
  };
}

/** The default layer's figures, which the conv1 test compares with. */
let atDefault: Measured | undefined;

function report(t: TestContext, m: Measured): void {
  const { shares: s, uniform: u } = m;
  t.diagnostic(
    `validation accuracy ${accuracy.toFixed(3)}; Grad-CAM on ${m.layer}, mean over ${SAMPLES - m.empty} validation samples (${m.empty} empty maps left out):`,
  );
  t.diagnostic(`  ink ${s.ink.toFixed(3)} (uniform ${u.ink.toFixed(3)}, the ink itself averaged over the cells ${m.atResolution.toFixed(3)})`);
  t.diagnostic(`  ink dilated by one cell ${s.near.toFixed(3)} (uniform ${u.near.toFixed(3)}); bounding box ${s.box.toFixed(3)} (uniform ${u.box.toFixed(3)})`);
  t.diagnostic(
    `  Spearman ρ with itself ${m.rho.self.toFixed(3)}, with all weights random ${m.rho.random.toFixed(3)} (Grad-CAM++: ${m.rho.randomPP.toFixed(3)})`,
  );
}

test('Grad-CAM of a CBAM CNN with a global-average-pooling head puts most of its mass on the digit', async (t) => {
  const m = await measure();
  atDefault = m;
  report(t, m);
  const { shares: s, uniform: u } = m;
  assert.equal(m.layer, 'cbam 14×14', 'the default layer is the last spatial one, the CBAM output before the pooling head');
  assert.equal(m.empty, 0, 'behind a global average pool no map is empty');
  assert.ok(accuracy > 0.8, `the model learnt MNIST (validation accuracy ${accuracy})`);
  assert.ok(s.box > 0.5 && u.box < 0.45, `Grad-CAM: ${s.box.toFixed(3)} of its mass in the digit's box, which holds ${u.box.toFixed(3)} of the image`);
  assert.ok(s.near > u.near + 0.2, `near the ink: ${s.near.toFixed(3)}, uniform ${u.near.toFixed(3)}`);
  assert.ok(s.ink > 1.5 * u.ink, `on the ink: ${s.ink.toFixed(3)}, uniform ${u.ink.toFixed(3)}`);
  assert.equal(m.rho.self, 1);
  assert.ok(m.rho.random < 0.5, `Grad-CAM with all weights random: ρ ${m.rho.random.toFixed(3)}`);
});

test('Grad-CAM on the first convolution (28×28, a 3-pixel receptive field) follows the ink, but depends less on the model', async (t) => {
  // The default layer sees 20 pixels around each position (enough for a head that sees no positions), so its map
  // spreads around the strokes; conv1's map follows them. But conv1's channels fire on strokes whatever their
  // weights, so its map stays closer to a random model's (ρ 0.40–0.53 in runs so far, against 0.20 on the default
  // layer): at best a borderline pass of the randomisation check (ρ < 0.5).
  assert.ok(atDefault, 'the default layer was measured first');
  const m = await measure('conv1');
  report(t, m);
  assert.equal(m.layer, 'conv1 28×28');
  // Below the CBAM block the gradient is no longer the head's weight alone: a few maps average to nothing.
  assert.ok(m.empty <= SAMPLES / 5, `${m.empty} of ${SAMPLES} maps empty`);
  assert.ok(m.shares.ink > 0.5, `on the ink: ${m.shares.ink.toFixed(3)}, uniform ${m.uniform.ink.toFixed(3)}`);
  assert.ok(
    m.rho.random > atDefault.rho.random + 0.1,
    `ρ with all weights random: ${m.rho.random.toFixed(3)} on conv1, ${atDefault.rho.random.toFixed(3)} on ${atDefault.layer}`,
  );
});
