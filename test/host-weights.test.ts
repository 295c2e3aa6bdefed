// "Load weights…" through the host: a safetensors file of the graph's own
// PyTorch export names goes into a new run (every name matched), a graph with
// another head is refused strictly and loads partially (the head named as of
// another shape), and a run started from the loaded weights with the backbone
// frozen and a new head keeps the backbone as loaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TrainingEvent, WeightsImport } from '../common/host-api/api.js';
import { forkTraining, ProcessTrainingDriver } from '../electron/host/training.js';
import { compileGraph } from '../engine/compile/compile.js';
import { exportPytorch } from '../engine/export/pytorch.js';
import { torchWeightsFile } from '../engine/export/torch-weights.js';
import type { GraphFile } from '../engine/graph/types.js';
import { loadCheckpoint, resolveCheckpoint } from '../engine/train/checkpoint.js';
import { randomizeWeights } from './helpers/exports.js';
import { tfReady } from './helpers/tf.js';
import { sandbox, tinyMnistGraph } from './host-fixtures.js';

const withClasses = (g: GraphFile, classes: number): GraphFile => ({
  ...g,
  nodes: g.nodes.map((n) => (n.id === 'head' ? { ...n, params: { ...n.params, classes } } : n)),
});

/** The graph's weights, random, as a safetensors file of its PyTorch export's names; and the tfjs values by weight name. */
async function weightsFile(graph: GraphFile): Promise<{ bytes: Uint8Array; values: Map<string, Float32Array> }> {
  const tf = await tfReady;
  const compiled = compileGraph(tf, graph);
  randomizeWeights(tf, compiled.model, 7);
  const bytes = torchWeightsFile(compiled.model, exportPytorch(graph));
  const values = new Map(compiled.model.weights.map((w) => [w.originalName, w.read().dataSync() as Float32Array]));
  compiled.model.dispose();
  return { bytes, values };
}

test('Load weights: every name matched into a new run; another head refused strictly, loaded partially; a bad file named', async () => {
  const s = await sandbox('browser');
  try {
    const graph = tinyMnistGraph();
    await writeFile(path.join(s.workspace, 'w.safetensors'), (await weightsFile(graph)).bytes);
    const ok = (await s.service.dispatch('importWeights', { graph, path: 'w.safetensors' })) as WeightsImport;
    assert.ok(ok.ok, ok.error);
    assert.match(ok.runId!, /SE-probe-net-weights$/);
    assert.equal(ok.loaded.length, 8, 'conv, SE (2 dense), head: kernel and bias each');
    assert.deepEqual([ok.missing, ok.unexpected, ok.mismatched], [[], [], []]);

    const five = withClasses(graph, 5);
    const strict = (await s.service.dispatch('importWeights', { graph: five, path: 'w.safetensors' })) as WeightsImport;
    assert.equal(strict.ok, false);
    assert.match(strict.error!, /do not fit the graph/);
    assert.deepEqual(strict.mismatched.map((m) => m.name).sort(), ['head.bias', 'head.weight']);
    const partial = (await s.service.dispatch('importWeights', { graph: five, path: 'w.safetensors', partial: true })) as WeightsImport;
    assert.ok(partial.ok);
    assert.equal(partial.loaded.length, 6);

    await writeFile(path.join(s.workspace, 'bad.safetensors'), 'not weights');
    const bad = (await s.service.dispatch('importWeights', { graph, path: 'bad.safetensors' })) as WeightsImport;
    assert.equal(bad.ok, false);
    assert.match(bad.error!, /^bad\.safetensors: /);
    const outside = (await s.service.dispatch('importWeights', { graph, path: '../../etc/passwd.safetensors' })) as WeightsImport;
    assert.equal(outside.ok, false, 'browser mode keeps to the workspace');
  } finally {
    await s.cleanup();
  }
});

test('a run from loaded weights, backbone frozen, new 10-class head: the backbone stays as loaded', { timeout: 120_000 }, async () => {
  const s = await sandbox('browser', { training: new ProcessTrainingDriver(forkTraining) });
  const events: TrainingEvent[] = [];
  s.service.onEvent((e) => void (e.channel === 'training' && events.push(e.event)));
  try {
    // Pretrained on "another task": a 4-class head; MNIST needs 10.
    const pretrained = withClasses(tinyMnistGraph(), 4);
    const { bytes, values } = await weightsFile(pretrained);
    await writeFile(path.join(s.workspace, 'w.safetensors'), bytes);
    const loaded = (await s.service.dispatch('importWeights', { graph: pretrained, path: 'w.safetensors' })) as WeightsImport;
    assert.ok(loaded.ok, loaded.error);
    await assert.rejects(
      s.service.dispatch('startTraining', {
        graph: pretrained,
        dataset: { name: 'mnist', limit: 64 },
        config: { epochs: 1, initWeights: '../elsewhere' },
        backend: 'cpu',
      }),
      /initWeights: "\.\.\/elsewhere" is not a run id/,
    );
    const { runId } = (await s.service.dispatch('startTraining', {
      graph: pretrained,
      dataset: { name: 'mnist', limit: 64 },
      config: { epochs: 1, batchSize: 16, probe: { enabled: false }, initWeights: loaded.runId, freeze: ['conv', 'se'], head: {} },
      backend: 'cpu',
    })) as { runId: string };
    const t0 = Date.now();
    while (!events.some((e) => e.type === 'state' && ['done', 'failed'].includes(e.state)) && Date.now() - t0 < 100_000)
      await new Promise((r) => setTimeout(r, 100));
    const failed = events.find((e) => e.type === 'state' && e.state === 'failed');
    assert.equal(failed, undefined, JSON.stringify(failed));
    const tf = await tfReady;
    const ck = await loadCheckpoint(tf, await resolveCheckpoint(path.join(s.root, 'runs', runId)));
    const after = new Map(ck.weightNames.map((n, i) => [n, ck.weights[i].dataSync() as Float32Array]));
    tf.dispose([...ck.weights, ...ck.optimizer]);
    for (const [name, v] of after) {
      if (name.startsWith('head/')) assert.equal(v.length, name.endsWith('kernel') ? 4 * 7 * 7 * 10 : 10, `${name} is the new 10-class head`);
      else assert.deepEqual(v, values.get(name), `${name} moved while frozen, or was not loaded`);
    }
  } finally {
    await s.service.dispose();
    await s.cleanup();
  }
});
