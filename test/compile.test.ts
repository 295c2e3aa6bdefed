// The compiler: every template compiles and runs forward; parameter counts;
// seeded, deterministic initialisation; model outputs carry their losses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGraph, GraphError } from '../engine/compile/compile.js';
import { tfReady } from './helpers/tf.js';
import { chain, graph, loadTemplate, templateFiles } from './helpers/graphs.js';

for (const file of templateFiles()) {
  test(`template ${file} compiles and runs forward`, async () => {
    const tf = await tfReady;
    const g = loadTemplate(file);
    assert.ok(g.name.length > 0 && (g.description ?? '').length > 40, 'name and description');
    const c = compileGraph(tf, g);
    assert.equal(c.params, c.model.countParams());
    const perNode = [...c.nodeParams.values()].reduce((s, p) => s + p.params, 0);
    assert.equal(perNode, c.params, 'every weight is attributed to a node');
    const feeds = c.inputs.map((i) => {
      const shape = i.shape.map((d, k) => (k === 0 ? 2 : (d as number)));
      return i.dtype === 'int32' ? tf.zeros(shape, 'int32') : tf.randomUniform(shape, 0, 1, 'float32', 3);
    });
    const ys = c.model.predict(feeds) as ReturnType<typeof tf.zeros> | ReturnType<typeof tf.zeros>[];
    const list = Array.isArray(ys) ? ys : [ys];
    assert.equal(list.length, c.outputs.length);
    list.forEach((y, k) => {
      assert.deepEqual(
        y.shape,
        c.outputs[k].shape.map((d, i) => (i === 0 ? 2 : d)),
      );
      assert.ok(y.dataSync().every(Number.isFinite));
    });
    tf.dispose([...feeds, ...list]);
    c.model.dispose();
  });
}

test('the small CNN has the trainable parameter count of the same net in PyTorch', async () => {
  const tf = await tfReady;
  const c = compileGraph(tf, loadTemplate('mnist-cnn.attn.json'));
  // conv(1→16, 3×3)+b, conv(16→32, 3×3)+b, linear(1568→64), linear(64→10)
  const torch = 3 * 3 * 1 * 16 + 16 + (3 * 3 * 16 * 32 + 32) + (7 * 7 * 32 * 64 + 64) + (64 * 10 + 10);
  assert.equal(c.trainableParams, torch);
  c.model.dispose();
});

const small = () =>
  graph(
    [
      ['x', 'io.input', { kind: 'image', height: 6, width: 6, channels: 2 }],
      ['c', 'core.conv2d', { filters: 3 }],
      ['f', 'core.flatten'],
      ['d', 'core.dense', { units: 4 }],
      ['h', 'core.classificationHead', { classes: 3 }],
      ['y', 'io.output'],
    ],
    chain('x', 'c', 'f', 'd', 'h.probs', 'y'),
  );

const weightsOf = (m: { getWeights(): { dataSync(): Float32Array | Int32Array | Uint8Array }[] }) => m.getWeights().map((w) => Array.from(w.dataSync()));

test('the same seed gives the same weights, another seed different ones', async () => {
  const tf = await tfReady;
  const a = compileGraph(tf, small(), { seed: 7 });
  const b = compileGraph(tf, small(), { seed: 7 });
  const c = compileGraph(tf, small(), { seed: 8 });
  assert.deepEqual(weightsOf(a.model), weightsOf(b.model));
  assert.notDeepEqual(weightsOf(a.model), weightsOf(c.model));
  for (const m of [a, b, c]) m.model.dispose();
});

test("a node's initial weights do not depend on other nodes", async () => {
  const tf = await tfReady;
  const g1 = small();
  const g2 = small();
  (g2.nodes.find((n) => n.id === 'd')!.params as Record<string, unknown>).units = 5;
  const a = compileGraph(tf, g1, { seed: 3 });
  const b = compileGraph(tf, g2, { seed: 3 });
  const kernel = (m: typeof a.model) => Array.from(m.getLayer('c').getWeights()[0].dataSync());
  assert.deepEqual(kernel(a.model), kernel(b.model));
  a.model.dispose();
  b.model.dispose();
});

test('outputs carry the loss their source suggests, or the one chosen', async () => {
  const tf = await tfReady;
  const c = compileGraph(tf, small());
  assert.deepEqual(
    c.outputs.map(({ nodeId, loss, weight }) => ({ nodeId, loss, weight })),
    [{ nodeId: 'y', loss: 'categoricalCrossentropy', weight: 1 }],
  );
  c.model.dispose();
  const g = small();
  g.nodes.find((n) => n.id === 'y')!.params = { loss: 'meanSquaredError', weight: 0.5 };
  const d = compileGraph(tf, g);
  assert.deepEqual(
    d.outputs.map(({ loss, weight }) => ({ loss, weight })),
    [{ loss: 'meanSquaredError', weight: 0.5 }],
  );
  d.model.dispose();
});

test('a graph with errors is refused with its diagnostics', async () => {
  const tf = await tfReady;
  const g = small();
  g.edges.splice(1, 1); // c.out -> f.in
  assert.throws(
    () => compileGraph(tf, g),
    (err: unknown) => err instanceof GraphError && err.diagnostics.some((d) => d.nodeId === 'f' && d.port === 'in'),
  );
});

test('node ids that are not valid layer names still compile', async () => {
  const tf = await tfReady;
  const g = graph(
    [
      ['1 input', 'io.input', { kind: 'vector', features: 3 }],
      ['dense/ä', 'core.dense', { units: 2 }],
      ['dense_ä', 'core.dense', { units: 2 }],
      ['out', 'io.output'],
    ],
    chain('1 input', 'dense/ä', 'dense_ä', 'out'),
  );
  const c = compileGraph(tf, g);
  assert.equal(c.params, 3 * 2 + 2 + 2 * 2 + 2);
  assert.equal(c.nodeParams.get('dense/ä')!.params, 8);
  assert.equal(c.nodeParams.get('dense_ä')!.params, 6);
  c.model.dispose();
});
