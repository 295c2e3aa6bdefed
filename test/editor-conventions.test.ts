// The editor's node conventions below the page: bypass (the analysis and the
// compiler pass a bypassed node's input through), ungroup as the inverse of
// group, align and distribute, and the graph file keeping comments, reroute
// points and bypass while older files still load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { compileGraph } from '../engine/compile/compile.js';
import { planExport } from '../engine/export/plan.js';
import { analyzeGraph } from '../engine/shapes/analyze.js';
import { parseGraphText, serializeGraph } from '../engine/graph/schema.js';
import { createEditorStore } from '../renderer/src/store/editor.js';
import { align, distribute } from '../renderer/src/store/arrange.js';
import { tfReady } from './helpers/tf.js';
import { graph, loadTemplate, templatesDir } from './helpers/graphs.js';

const bypassed = (on: boolean) => {
  const g = graph(
    [
      ['x', 'io.input', { kind: 'vector', features: 4 }],
      ['d', 'core.dense', { units: 4 }],
      ['y', 'io.output'],
    ],
    [
      ['x.out', 'd.in'],
      ['d.out', 'y.in'],
    ],
  );
  if (on) g.nodes[1].bypass = true;
  return g;
};

test('a bypassed node compiles as identity: no weights, the output is the input', async () => {
  const tf = await tfReady;
  const normal = compileGraph(tf, bypassed(false));
  const c = compileGraph(tf, bypassed(true));
  try {
    assert.equal(normal.params, 4 * 4 + 4, 'the dense layer has weights when not bypassed');
    assert.equal(c.params, 0, 'bypassed, it has none');
    const x = tf.tensor2d([
      [1, -2, 3.5, 0],
      [0.25, 7, -1, 2],
    ]);
    const y = c.model.predict(x) as ReturnType<typeof tf.zeros>;
    assert.deepEqual(y.arraySync(), x.arraySync());
    tf.dispose([x, y]);
  } finally {
    normal.model.dispose();
    c.model.dispose();
  }
});

test('export leaves a bypassed node out and wires its input straight on', () => {
  const plan = planExport(bypassed(true), 'pytorch');
  assert.deepEqual(
    plan.nodes.map((n) => n.id),
    ['x', 'y'],
  );
  assert.deepEqual(plan.outputs[0].inputs, { in: plan.inputs[0].outputs.out });
  assert.deepEqual(
    planExport(bypassed(false), 'pytorch').nodes.map((n) => n.id),
    ['x', 'd', 'y'],
  );
});

test('a bypassed node passes its input shape on; one with two inputs is an error naming it', () => {
  const g = bypassed(true);
  g.nodes[1].params.units = 9;
  const a = analyzeGraph(g);
  assert.deepEqual(a.nodes.get('d')!.outputShapes, { out: [null, 4] }, 'the input shape, not 9 units');
  const add = graph(
    [
      ['x', 'io.input', { kind: 'vector', features: 4 }],
      ['s', 'core.add'],
      ['y', 'io.output'],
    ],
    [
      ['x.out', 's.a'],
      ['x.out', 's.b'],
      ['s.out', 'y.in'],
    ],
  );
  add.nodes[1].bypass = true;
  const problems = analyzeGraph(add).diagnostics.filter((d) => d.nodeId === 's' && /bypass/.test(d.message));
  assert.equal(problems.length, 1);
  assert.match(problems[0].message, /^node "s" \(Add\) cannot be bypassed: it has 2 inputs and 1 output/);
});

test('the editor refuses to bypass a node that changes the shape, naming it, and bypasses one that keeps it', () => {
  const store = createEditorStore(loadTemplate('mnist-cnn.attn.json'));
  const r = store.getState().toggleBypass(['fc']);
  assert.deepEqual(r, {
    ok: false,
    reason: 'node "fc" cannot be bypassed: it turns [?, 1568] into [?, 64], so passing its input through would change the shapes after it',
  });
  assert.deepEqual(store.getState().toggleBypass(['dropout']), { ok: true, on: true });
  assert.equal(store.getState().graph.nodes.find((n) => n.id === 'dropout')!.bypass, true);
  assert.deepEqual(store.getState().toggleBypass(['dropout']), { ok: true, on: false });
  assert.equal('bypass' in store.getState().graph.nodes.find((n) => n.id === 'dropout')!, false);
});

test('ungroup undoes group: the same nodes, wires and shapes', () => {
  const store = createEditorStore(loadTemplate('mnist-cnn.attn.json'));
  const before = store.getState().graph;
  const wires = (g: typeof before) => g.edges.map((e) => `${e.from.node}.${e.from.port}->${e.to.node}.${e.to.port}`).sort();
  store.getState().select(['pool1', 'conv2', 'pool2']);
  const grouped = store.getState().groupSelection();
  assert.ok(grouped.ok);
  const r = store.getState().ungroup(grouped.nodeId);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  const after = store.getState().graph;
  assert.deepEqual(after.nodes.map((n) => n.id).sort(), before.nodes.map((n) => n.id).sort());
  assert.deepEqual(wires(after), wires(before));
  assert.deepEqual(after.composites ?? [], [], 'the composite nobody uses any more is gone');
  assert.deepEqual(store.getState().analysis.nodes.get('head')!.outputShapes, analyzeGraph(before).nodes.get('head')!.outputShapes);
  assert.deepEqual([...store.getState().selection.nodes].sort(), ['conv2', 'pool1', 'pool2']);
  const notComposite = store.getState().ungroup('fc');
  assert.deepEqual(notComposite, { ok: false, reason: '"fc" is not a composite node' });
});

test('align and distribute', () => {
  const g = graph(
    [
      ['a', 'core.dense'],
      ['b', 'core.dense'],
      ['c', 'core.dense'],
    ],
    [],
  );
  g.nodes[0].position = { x: 0, y: 30 };
  g.nodes[1].position = { x: 100, y: 0 };
  g.nodes[2].position = { x: 500, y: 80 };
  const ids = new Set(['a', 'b', 'c']);
  const sizes = new Map(['a', 'b', 'c'].map((id) => [id, { width: 50, height: 20 }]));
  assert.deepEqual(align(g, ids, 'top', sizes), { a: { x: 0, y: 0 }, b: { x: 100, y: 0 }, c: { x: 500, y: 0 } });
  assert.deepEqual(align(g, ids, 'left', sizes), { a: { x: 0, y: 30 }, b: { x: 0, y: 0 }, c: { x: 0, y: 80 } });
  assert.deepEqual(align(g, ids, 'centerY', sizes), { a: { x: 0, y: 110 / 3 }, b: { x: 100, y: 110 / 3 }, c: { x: 500, y: 110 / 3 } });
  // Centres 40, 10 and 90: their mean is 140 / 3, each top 10 above it.
  // Span 0..550, boxes 150 wide in all: gaps of 200.
  assert.deepEqual(distribute(g, ids, 'horizontal', sizes), { a: { x: 0, y: 30 }, b: { x: 250, y: 0 }, c: { x: 500, y: 80 } });
  assert.deepEqual(distribute(g, new Set(['a', 'b']), 'horizontal', sizes), {}, 'two nodes have nothing to distribute');
});

test('an older file without comments, reroutes or bypass still loads; one with them round-trips', () => {
  const old = parseGraphText(readFileSync(`${templatesDir}mnist-cnn.attn.json`, 'utf8'));
  assert.deepEqual(old.diagnostics, []);
  assert.equal(old.graph!.comments, undefined);

  const store = createEditorStore(old.graph!);
  const s = store.getState();
  s.addComment({ x: 10, y: -40 }, 'Feature extractor');
  s.addReroute(s.graph.edges[5].id!, { x: 1200, y: 120 });
  s.toggleBypass(['dropout']);
  const text = serializeGraph(store.getState().graph);
  const back = parseGraphText(text);
  assert.deepEqual(back.diagnostics, []);
  assert.deepEqual(back.graph, JSON.parse(text));
  assert.deepEqual(back.graph!.comments, [{ id: 'comment1', text: 'Feature extractor', position: { x: 10, y: -40 }, size: { width: 360, height: 220 } }]);
  assert.deepEqual(back.graph!.edges[5].via, [{ x: 1200, y: 120 }]);
  assert.equal(back.graph!.nodes.find((n) => n.id === 'dropout')!.bypass, true);

  const bad = JSON.parse(text) as { comments: unknown[]; nodes: { bypass?: unknown }[] };
  bad.comments = [{ id: 'c', text: 'no size', position: { x: 0, y: 0 } }];
  bad.nodes[0].bypass = 'yes';
  const problems = parseGraphText(JSON.stringify(bad)).diagnostics.map((d) => d.message);
  assert.ok(
    problems.some((m) => /comments\[0\].*size/.test(m)),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((m) => /bypass.*true or false/.test(m)),
    problems.join('\n'),
  );
});
