// The live explanation of a PyTorch run: train_worker.py computes it at each
// probe (Grad-CAM through the export's grad_cam(), rollout from the probed
// attention matrices) and sends it in the attention event, which the run
// stores as a tfjs run's. On the final weights it must be what engine/explain
// computes with tfjs.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TrainEventOf } from '../engine/schemas/train-events.js';
import { RunFolder } from '../engine/runs/index.js';
import type { GraphFile } from '../engine/graph/types.js';
import { loadTemplate } from './helpers/graphs.js';
import { relativeGap } from './helpers/numeric.js';
import { skipWithoutTorch } from './helpers/torch.js';
import { explainOnFinalWeights, probeEvents } from './helpers/train-run.js';

/** float32 in two frameworks: the maps agree to this share of their peak. */
const TOLERANCE = 1e-4;

/** Trains `template` under PyTorch (through the training process, as the app and the CLI do) and returns its probe events. */
async function trainOnTorch(graph: GraphFile, dir: string, explainOn = true): Promise<TrainEventOf<'attention'>[]> {
  return probeEvents({
    graph,
    dataset: { name: 'mnist', limit: 128 },
    config: { epochs: 1, batchSize: 16, probe: { samples: 2, everyBatches: 3, minIntervalMs: 0, explain: explainOn } },
    backend: 'pytorch',
    pytorch: { device: 'cpu' },
    out: { dir },
  });
}

/** A template trained under PyTorch into a fresh folder: its graph, the folder and its probe events (two or more). */
async function probedOnTorch(template: string) {
  const graph = loadTemplate(template);
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-torch-live-'));
  const probes = await trainOnTorch(graph, dir);
  assert.ok(probes.length >= 2, `probes at steps ${probes.map((p) => p.step)}`);
  return { graph, dir, probes };
}

/** The stored explanations equal the sent ones; the last equals engine/explain's on the final checkpoint. */
async function checkAgainstTfjs(t: TestContext, graph: GraphFile, dir: string, probes: TrainEventOf<'attention'>[]): Promise<void> {
  const folder = RunFolder.open(dir);
  for (const p of probes) {
    const e = p.explanation!;
    assert.ok(e, `an explanation at step ${p.step}`);
    assert.equal(e.data.length, e.rows * e.cols);
    assert.ok(
      e.data.every((v) => Number.isFinite(v) && v >= 0),
      `a finite, non-negative map at step ${p.step}`,
    );
    const stored = (await folder.readExplanation(p.step))!;
    assert.deepEqual({ ...stored, ms: 0 }, { ...e, ms: 0 });
  }
  const [first, last] = [probes[0].explanation!, probes[probes.length - 1].explanation!];
  assert.ok(relativeGap(first.data, last.data) > 0.01, 'training changes the map');

  const direct = await explainOnFinalWeights(graph, dir, last.method);
  assert.equal(direct.classIndex, last.classIndex);
  assert.deepEqual(
    direct.layers.map((l) => `${l.nodeId}.${l.port}`),
    last.layers.map((l) => `${l.nodeId}.${l.port}`),
  );
  assert.deepEqual([direct.rows, direct.cols], [last.rows, last.cols]);
  assert.ok(Math.max(...direct.map) > 0, 'a map with something on it');
  const gap = relativeGap(direct.map, last.data);
  t.diagnostic(`${graph.name}: ${probes.length} probes, ${last.method}; PyTorch vs tfjs on the final weights: ${gap.toExponential(2)} of the peak`);
  assert.ok(gap < TOLERANCE, `PyTorch's ${last.method} differs from tfjs' by ${gap} of its peak`);
}

test("a PyTorch run of a CNN sends Grad-CAM (HiResCAM where it is empty) with each probe, stored like a tfjs run's and equal to engine/explain's", async (t) => {
  if (skipWithoutTorch(t, 'the PyTorch live explanation')) return;
  const { graph, dir, probes } = await probedOnTorch('mnist-cnn.attn.json');
  // The CNN has no attention output: the probes run for the explanation alone.
  for (const p of probes) {
    assert.deepEqual(p.maps, []);
    assert.ok(['gradcam', 'hirescam'].includes(p.explanation!.method), p.explanation!.method);
    assert.deepEqual(p.explanation!.layers, [{ nodeId: 'conv2', port: 'out' }]);
  }
  await checkAgainstTfjs(t, graph, dir, probes);
});

test('a PyTorch run of a CBAM CNN sends its attention maps and Grad-CAM on the cbam layer: forward_features() keeps the probes', async (t) => {
  if (skipWithoutTorch(t, 'the PyTorch live explanation')) return;
  const { graph, dir, probes } = await probedOnTorch('cbam-mnist-small.attn.json');
  for (const p of probes) {
    assert.ok(p.maps.length > 0, 'the CBAM attention maps are probed');
    assert.ok(p.explanation, `an explanation at step ${p.step}`);
    assert.deepEqual(p.explanation.layers, [{ nodeId: 'cbam', port: 'out' }]);
  }
  await checkAgainstTfjs(t, graph, dir, probes);
});

test("a PyTorch run of a ViT sends attention rollout equal to engine/explain's; probe.explain: false sends none", async (t) => {
  if (skipWithoutTorch(t, 'the PyTorch live explanation')) return;
  const { graph, dir, probes } = await probedOnTorch('vit-tiny-mnist.attn.json');
  const last = probes[probes.length - 1].explanation!;
  assert.equal(last.method, 'rollout');
  assert.deepEqual([last.rows, last.cols], [4, 4]);
  await checkAgainstTfjs(t, graph, dir, probes);

  const off = await trainOnTorch(graph, mkdtempSync(path.join(tmpdir(), 'attn-torch-live-off-')), false);
  assert.ok(off.length >= 2, 'the attention maps still come');
  assert.ok(
    off.every((p) => p.explanation === undefined && p.maps.length > 0),
    'no explanation when turned off',
  );
});
