// The explanation the probes send while a model trains: the training process
// computes it on the first probe sample at each probe, sends it with the
// attention maps and stores it with the run's snapshots. What it sends must be
// what engine/explain computes directly on the same weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ProbeExplanation, TrainEvent, TrainEventOf } from '../engine/schemas/train-events.js';
import { prepareData } from '../engine/data/index.js';
import { inputHint } from '../engine/train/setup.js';
import { Trainer } from '../engine/train/trainer.js';
import { explain } from '../engine/explain/index.js';
import { liveMethod, probeExplainer } from '../engine/explain/live.js';
import { RunFolder } from '../engine/runs/index.js';
import { compileGraph } from '../engine/compile/compile.js';
import { loadTemplate } from './helpers/graphs.js';
import { tfReady } from './helpers/tf.js';
import { relativeGap } from './helpers/numeric.js';
import { explainOnFinalWeights, probeEvents } from './helpers/train-run.js';

const PROBE = { samples: 2, everyBatches: 4, minIntervalMs: 0 };

const attentionEvents = (events: TrainEvent[]) => events.filter((e): e is TrainEventOf<'attention'> => e.type === 'attention');

test("the training process sends Grad-CAM (HiResCAM where its map is empty) with each probe, stores it with the snapshot, and it equals engine/explain's on the same weights", async () => {
  const graph = loadTemplate('mnist-cnn.attn.json');
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-live-explain-'));
  const dataset = { name: 'mnist', limit: 128 } as const;
  const probes = await probeEvents({
    graph,
    dataset,
    config: { epochs: 1, batchSize: 16, probe: PROBE },
    backend: 'cpu',
    out: { dir },
  });
  // The CNN has no attention output: the probes run for the explanation alone.
  assert.ok(probes.length >= 2, `probes at steps ${probes.map((p) => p.step)}`);
  for (const p of probes) {
    assert.deepEqual(p.maps, []);
    const e = p.explanation!;
    assert.ok(e.method === 'gradcam' || e.method === 'hirescam', e.method);
    assert.deepEqual(e.layers, [{ nodeId: 'conv2', port: 'out' }]);
    assert.equal(e.sample, 0);
    assert.equal(e.data.length, e.rows * e.cols);
    assert.ok(e.ms >= 0 && e.classIndex !== undefined);
  }

  // Stored with each snapshot, as sent.
  const folder = RunFolder.open(dir);
  assert.deepEqual(await folder.snapshots(), [...new Set(probes.map((p) => p.step))]);
  for (const p of probes) {
    const stored = (await folder.readExplanation(p.step))!;
    assert.deepEqual({ ...stored, ms: 0 }, { ...p.explanation!, ms: 0 });
  }

  // The last probe ran on the final weights, which the last checkpoint holds.
  const last = probes[probes.length - 1].explanation!;
  const direct = await explainOnFinalWeights(graph, dir, last.method);
  assert.equal(direct.classIndex, last.classIndex);
  assert.deepEqual([direct.rows, direct.cols], [last.rows, last.cols]);
  assert.ok(Math.max(...direct.map) > 0, 'a map with something on it');
  const gap = relativeGap(direct.map, last.data);
  assert.ok(gap < 1e-4, `the probe's map differs from the direct one by ${gap} of its peak`);
});

test("a ViT's probes send attention rollout equal to engine/explain's; probe.explain: false sends none; the cost stays a small share", async (t) => {
  const tf = await tfReady;
  const graph = loadTemplate('vit-tiny-mnist.attn.json');
  const data = await prepareData({ name: 'mnist', limit: 256 }, inputHint(graph));
  const train = async (explainOn: boolean) => {
    const events: TrainEvent[] = [];
    const trainer = new Trainer({
      tf,
      graph,
      data,
      config: { epochs: 1, batchSize: 32, probe: { ...PROBE, explain: explainOn } },
      runDir: null,
      explainer: probeExplainer,
      onEvent: (e) => events.push(e),
    });
    const t0 = performance.now();
    await trainer.run();
    return { trainer, events, ms: performance.now() - t0 };
  };

  const on = await train(true);
  try {
    const probes = attentionEvents(on.events);
    assert.ok(probes.length >= 2);
    const last = probes[probes.length - 1].explanation as ProbeExplanation;
    assert.equal(last.method, 'rollout');
    assert.deepEqual(
      last.layers.map((l) => l.port),
      ['attention', 'attention'],
    );
    // The class token's row over the 4 × 4 grid of 7 × 7 patches.
    assert.deepEqual([last.rows, last.cols], [4, 4]);
    const { x } = data.validation.batch(tf, [0]);
    const direct = await explain(tf, on.trainer.graph, on.trainer.compiled, x, { method: 'rollout' });
    x.dispose();
    const gap = relativeGap(direct.map, last.data);
    assert.ok(gap < 1e-5, `the probe's rollout differs from the direct one by ${gap} of its peak`);

    const { runs, explainMs } = on.trainer.probeStats;
    const share = explainMs / on.ms;
    t.diagnostic(
      `ViT-tiny: ${runs} probes, ${(explainMs / runs).toFixed(1)} ms per explanation, ${(100 * share).toFixed(1)}% of the run (probe every 4 batches)`,
    );
    assert.ok(share < 0.5, `explaining took ${(100 * share).toFixed(0)}% of the run`);
  } finally {
    on.trainer.dispose();
  }

  const off = await train(false);
  try {
    const probes = attentionEvents(off.events);
    assert.ok(probes.length >= 2, 'the attention maps still come');
    assert.ok(
      probes.every((p) => p.explanation === undefined),
      'no explanation when turned off',
    );
  } finally {
    off.trainer.dispose();
  }
});

test('the method follows the model: rollout through a patch grid, Grad-CAM on a spatial map, none for an MLP or a tagger', async () => {
  const tf = await tfReady;
  const method = (name: string) => {
    const graph = loadTemplate(name);
    const compiled = compileGraph(tf, graph);
    try {
      return liveMethod(graph, compiled);
    } finally {
      compiled.model.dispose();
    }
  };
  assert.equal(method('vit-tiny-mnist.attn.json'), 'rollout');
  assert.equal(method('cbam-mnist-small.attn.json'), 'gradcam');
  assert.equal(method('mlp.attn.json'), undefined);
  // A class per position has no one class score for Grad-CAM.
  assert.equal(method('gru-tagger.attn.json'), undefined);
  assert.equal(method('transformer-spam.attn.json'), 'rollout');
});
