// Composite blocks in the editor's store: opening v2 files, grouping a
// selection, editing a composite's inside (every instance follows), problems
// inside shown on the inner nodes, the breadcrumb, undo/redo, and saving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createEditorStore } from '../renderer/src/store/editor.js';
import { openGraphText } from '../renderer/src/store/load.js';
import { compositeUses, placeableComposites } from '../renderer/src/store/composites.js';
import { parseGraphText, serializeGraph, GRAPH_VERSION } from '../engine/graph/schema.js';
import { analyzeGraph } from '../engine/shapes/analyze.js';
import { compileGraph } from '../engine/compile/compile.js';
import type { GraphFile } from '../engine/graph/types.js';
import { tfReady } from './helpers/tf.js';
import { countBlockParams, countParts } from '../renderer/src/params/count.js';
import { registry } from '../engine/blocks/registry.js';
import { cin, composite, cout, graphWith, resnet50Composite } from './helpers/composites.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const open = (file: string): GraphFile => {
  const r = openGraphText(readFileSync(join(root, file), 'utf8'));
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.diagnostics));
  return r.graph;
};
const mnistCnn = () => open('templates/mnist-cnn.attn.json');
const shapeInto = (g: GraphFile, node: string) => {
  const a = analyzeGraph(g);
  const i = g.edges.findIndex((e) => e.to.node === node);
  return a.edgeShapes[i];
};

test('a v2 file with composites opens: instances get their ports, label and shapes from the definition', () => {
  const g = open('test/fixtures/composites/residual.attn.json');
  const store = createEditorStore(g);
  const s = store.getState();
  assert.deepEqual(s.analysis.diagnostics, []);
  const st = s.view.analysis.nodes.get('st')!;
  assert.equal(st.block.label, 'Residual unit');
  assert.deepEqual(
    st.inputs.map((p) => p.name),
    ['in'],
  );
  assert.deepEqual(
    st.outputs.map((p) => p.name),
    ['out'],
  );
  assert.deepEqual(st.outputShapes, { out: [null, 6, 6, 4] });
  assert.equal(st.params.repeat, 2);
  assert.ok(g.edges.every((e) => e.id) && g.composites!.every((c) => c.edges.every((e) => e.id)), 'edges inside composites get ids too');
});

test('files whose composites cannot be drawn are refused with the reason', () => {
  const base = JSON.parse(readFileSync(join(root, 'test/fixtures/composites/residual.attn.json'), 'utf8')) as GraphFile;
  const unknownUse = structuredClone(base);
  unknownUse.nodes[1].type = 'composite:nope';
  const r1 = openGraphText(JSON.stringify(unknownUse));
  assert.equal(r1.ok, false);
  assert.match(r1.ok ? '' : r1.diagnostics[0].message, /unknown composite "nope" \(this file defines "res", "down"\)/);
  const badInside = structuredClone(base);
  badInside.composites![0].nodes[1].type = 'core.conv2dd';
  const r2 = openGraphText(JSON.stringify(badInside));
  assert.equal(r2.ok, false);
  assert.match(r2.ok ? '' : r2.diagnostics[0].message, /^in composite "res": node "c1": unknown block type "core.conv2dd" \(did you mean "core.conv2d"\?\)/);
  const badPort = structuredClone(base);
  badPort.edges[0].to.port = 'input';
  const r3 = openGraphText(JSON.stringify(badPort));
  assert.match(r3.ok ? '' : r3.diagnostics[0].message, /"st" \(.*\) has no input port "input" \(inputs: /);
});

test('opening a file and analysing it name a bad edge in the same words (one edge check)', () => {
  const base = JSON.parse(readFileSync(join(root, 'test/fixtures/composites/residual.attn.json'), 'utf8')) as GraphFile;
  const cases: [string, (g: GraphFile) => void][] = [
    ['no such input port', (g) => (g.edges[0].to.port = 'input')],
    ['no such output port', (g) => (g.edges[0].from.port = 'nope')],
    ['missing node', (g) => (g.edges[0].to.node = 'ghost')],
  ];
  for (const [what, spoil] of cases) {
    const g = structuredClone(base);
    spoil(g);
    const opened = openGraphText(JSON.stringify(g));
    assert.equal(opened.ok, false, what);
    const analysed = analyzeGraph(g).diagnostics.filter((d) => d.edge === 0);
    assert.deepEqual(opened.ok ? [] : opened.diagnostics, analysed, what);
  }
});

test('grouping two nodes: one instance in their place, the boundary edges become ports, the model is unchanged', async () => {
  const g = mnistCnn();
  const store = createEditorStore(g);
  store.getState().select(['conv2', 'pool2']);
  const r = store.getState().groupSelection();
  assert.ok(r.ok);
  const s = store.getState();
  assert.deepEqual(s.analysis.diagnostics, []);
  assert.equal(s.graph.version, GRAPH_VERSION);
  assert.deepEqual([...s.selection.nodes], [r.nodeId], 'the new instance is selected');
  assert.deepEqual(
    s.graph.nodes.map((n) => n.id),
    ['image', 'conv1', 'pool1', r.nodeId, 'flatten', 'fc', 'dropout', 'head', 'label'],
  );
  const def = s.graph.composites!.find((c) => c.id === r.composite)!;
  assert.deepEqual(
    def.nodes.map((n) => [n.id, n.type]),
    [
      ['conv2', 'core.conv2d'],
      ['pool2', 'core.pool2d'],
      ['in', 'io.compositeInput'],
      ['out', 'io.compositeOutput'],
    ],
  );
  assert.deepEqual(
    def.edges.map((e) => `${e.from.node}.${e.from.port}>${e.to.node}.${e.to.port}`),
    ['conv2.out>pool2.in', 'in.out>conv2.in', 'pool2.out>out.in'],
  );
  assert.deepEqual(
    s.graph.edges.filter((e) => e.from.node === r.nodeId || e.to.node === r.nodeId).map((e) => `${e.from.node}.${e.from.port}>${e.to.node}.${e.to.port}`),
    [`pool1.out>${r.nodeId}.in`, `${r.nodeId}.out>flatten.in`],
  );
  assert.deepEqual(s.analysis.nodes.get(r.nodeId)!.outputShapes, { out: [null, 7, 7, 32] });
  assert.deepEqual(shapeInto(s.graph, 'fc'), shapeInto(g, 'fc'));
  // The same trainable model: the compiled parameter counts agree.
  const tf = await tfReady;
  const [flat, grouped] = [compileGraph(tf, g), compileGraph(tf, s.graph)];
  try {
    assert.equal(grouped.params, flat.params);
    assert.ok(flat.params > 100_000);
  } finally {
    flat.model.dispose();
    grouped.model.dispose();
  }
  // Undo puts the very same document back, redo the group.
  s.undo();
  assert.equal(store.getState().graph, g);
  assert.deepEqual(store.getState().analysis.diagnostics, []);
  store.getState().redo();
  assert.equal(store.getState().graph.composites?.length, 1);
  // Saved as a v2 file that reads back to the same graph.
  const text = serializeGraph(store.getState().graph);
  const back = parseGraphText(text);
  assert.ok(back.graph);
  assert.equal(JSON.parse(text).version, 2);
  assert.deepEqual(back.graph, JSON.parse(JSON.stringify(store.getState().graph)));
});

test('grouping with several boundary wires makes one port per distinct source, top to bottom', () => {
  // x feeds a and b; a and b are added; add feeds the output and a second head reads a.
  const g: GraphFile = {
    format: 'attention-studio.graph',
    version: 2,
    name: 't',
    nodes: [
      { id: 'x', type: 'io.input', params: { kind: 'vector', features: 6 }, position: { x: 0, y: 0 } },
      { id: 'a', type: 'core.dense', params: { units: 6 }, position: { x: 200, y: -50 } },
      { id: 'b', type: 'core.dense', params: { units: 6 }, position: { x: 200, y: 50 } },
      { id: 'add', type: 'core.add', params: {}, position: { x: 400, y: 0 } },
      { id: 'y', type: 'io.output', params: {}, position: { x: 600, y: 0 } },
      { id: 'z', type: 'io.output', params: {}, position: { x: 600, y: -100 } },
    ],
    edges: [
      { id: 'e1', from: { node: 'x', port: 'out' }, to: { node: 'a', port: 'in' } },
      { id: 'e2', from: { node: 'x', port: 'out' }, to: { node: 'b', port: 'in' } },
      { id: 'e3', from: { node: 'a', port: 'out' }, to: { node: 'add', port: 'in1' } },
      { id: 'e4', from: { node: 'b', port: 'out' }, to: { node: 'add', port: 'in2' } },
      { id: 'e5', from: { node: 'add', port: 'out' }, to: { node: 'y', port: 'in' } },
      { id: 'e6', from: { node: 'a', port: 'out' }, to: { node: 'z', port: 'in' } },
    ],
  };
  assert.deepEqual(analyzeGraph(g).diagnostics, []);
  const store = createEditorStore(g);
  store.getState().select(['a', 'b', 'add']);
  const r = store.getState().groupSelection('Pair');
  assert.ok(r.ok);
  const s = store.getState();
  assert.deepEqual(s.analysis.diagnostics, []);
  const info = s.analysis.nodes.get(r.nodeId)!;
  assert.equal(info.block.label, 'Pair');
  assert.deepEqual(
    info.inputs.map((p) => p.name),
    ['in'],
    'x feeds two nodes inside through one port',
  );
  assert.deepEqual(
    info.outputs.map((p) => p.name),
    ['out1', 'out2'],
    'a (higher up) and add leave through two ports',
  );
  assert.deepEqual(info.outputShapes, { out1: [null, 6], out2: [null, 6] });
  const inner = s.graph.composites![0];
  const outs = inner.nodes.filter((n) => n.type === 'io.compositeOutput').map((n) => [n.params.name, inner.edges.find((e) => e.to.node === n.id)!.from.node]);
  assert.deepEqual(outs, [
    ['out1', 'a'],
    ['out2', 'add'],
  ]);
  assert.deepEqual(
    s.graph.edges
      .filter((e) => e.from.node === r.nodeId)
      .map((e) => `${e.from.port}>${e.to.node}`)
      .sort(),
    ['out1>z', 'out2>y'],
  );
});

test('grouping is refused with the reason: Input/Output nodes, or a node between selected ones', () => {
  const store = createEditorStore(mnistCnn());
  store.getState().select(['image', 'conv1']);
  const io = store.getState().groupSelection();
  assert.equal(io.ok, false);
  assert.match(io.ok ? '' : io.reason, /an Input node \("image"\) cannot go inside a composite/);
  store.getState().select(['conv1', 'conv2']);
  const gap = store.getState().groupSelection();
  assert.match(gap.ok ? '' : gap.reason, /"pool1" lies between selected nodes/);
  store.getState().select([]);
  assert.equal(store.getState().groupSelection().ok, false);
  assert.equal(store.getState().canUndo(), false, 'a refused group changes nothing');
});

test('editing inside a composite: the breadcrumb, shapes of its use, edits reach every instance, undo, problems on the inner node', () => {
  const g = open('test/fixtures/composites/residual.attn.json');
  const store = createEditorStore(g);
  assert.equal(store.getState().enterComposite({ node: 'd' }), true);
  let s = store.getState();
  assert.deepEqual(s.scope, ['down']);
  assert.deepEqual(
    s.view.graph.nodes.map((n) => n.id),
    ['in', 'conv', 'out'],
  );
  assert.deepEqual(s.view.shapesFrom, ['d']);
  assert.deepEqual(s.view.analysis.nodes.get('conv')!.outputShapes, { out: [null, 3, 3, 8] });
  assert.deepEqual(s.selection.nodes.size, 0);

  // An edit inside changes the composite, so the top-level shapes after it.
  s.setParam('conv', 'filters', 12);
  s = store.getState();
  assert.equal(s.graph.composites!.find((c) => c.id === 'down')!.nodes[1].params.filters, 12);
  assert.deepEqual(s.analysis.nodes.get('d')!.outputShapes, { out: [null, 3, 3, 12] });
  assert.deepEqual(s.view.analysis.nodes.get('conv')!.outputShapes, { out: [null, 3, 3, 12] });

  // A move inside is one undo step and keeps the analysis.
  const analysis = s.analysis;
  s.seal();
  for (let i = 1; i <= 5; i++) store.getState().moveNodes({ conv: { x: 200 + i, y: 10 } }, 'drag');
  store.getState().seal();
  assert.equal(store.getState().analysis, analysis);
  store.getState().undo();
  assert.deepEqual(store.getState().view.graph.nodes[1].position, { x: 200, y: 0 });

  // A mistake inside: an error on the inner node here, and on the instance (with the path) at the top.
  store.getState().setParam('conv', 'padding', 'valid');
  store.getState().setParam('conv', 'kernel', 9);
  s = store.getState();
  const inside = s.view.diagnostics.byNode.get('conv') ?? [];
  assert.equal(inside.length, 1);
  assert.doesNotMatch(inside[0].message, /^in composite/, 'inside, the message drops the composite prefix');
  const outside = s.diagnostics.byNode.get('d') ?? [];
  assert.equal(outside.length, 1);
  assert.deepEqual(outside[0].path, ['d', 'conv']);
  assert.match(outside[0].message, /^in composite "down", node "conv" port "in": output height would be -1/);
  assert.equal(inside[0].port, 'in', 'the inner port is ringed');

  // Port blocks are placed with a fresh port name; composites the file defines may be placed too.
  const port = s.addBlock('io.compositeInput', { x: 0, y: 200 });
  assert.equal(store.getState().view.graph.nodes.find((n) => n.id === port)!.params.name, 'in2');
  assert.deepEqual(
    store
      .getState()
      .analysis.nodes.get('d')!
      .inputs.map((p) => p.name),
    ['in', 'in2'],
    'the instance grows the new port',
  );
  assert.deepEqual(
    placeableComposites(store.getState().graph, 'down').map((c) => c.id),
    ['res'],
    'not itself',
  );

  // Undo walks back every edit made inside; the breadcrumb goes back out with the instance selected.
  for (let i = 0; i < 4; i++) store.getState().undo();
  assert.deepEqual(store.getState().graph, g);
  store.getState().exitScope(0);
  s = store.getState();
  assert.deepEqual(s.scope, []);
  assert.equal(s.view.graph, s.graph);
  assert.deepEqual([...s.selection.nodes], ['d']);
});

test('group, open the new composite, wire inside it; undoing the group leaves its inside', () => {
  const store = createEditorStore(mnistCnn());
  store.getState().select(['fc', 'dropout']);
  const r = store.getState().groupSelection();
  assert.ok(r.ok);
  store.getState().enterComposite({ node: r.nodeId });
  let s = store.getState();
  assert.deepEqual(s.scope, [r.composite]);
  assert.deepEqual(s.view.analysis.nodes.get('fc')!.inputShapes, { in: [null, 1568] });
  // Connections inside are checked against the composite's uses.
  const act = s.addBlock('core.activation', { x: 400, y: 100 });
  const refused = store.getState().connect({ node: 'out', port: 'in' }, { node: act, port: 'in' });
  assert.equal(refused.ok, false);
  const ok = store.getState().connect({ node: 'fc', port: 'out' }, { node: act, port: 'in' });
  assert.equal(ok.ok, true);
  assert.deepEqual(ok.ok && ok.shape, [null, 64]);
  const loop = store.getState().connect({ node: 'dropout', port: 'out' }, { node: 'fc', port: 'in' });
  assert.equal(loop.ok, false);
  s = store.getState();
  assert.equal(s.graph.composites![0].edges.length, 4);
  // Undo the two edits inside and the group: the composite is gone, so the canvas is back at the top.
  for (let i = 0; i < 3; i++) store.getState().undo();
  s = store.getState();
  assert.deepEqual(s.scope, []);
  assert.equal(s.graph.composites?.length ?? 0, 0);
  assert.equal(s.view.graph, s.graph);
  store.getState().redo();
  assert.deepEqual(store.getState().scope, [], 'redo does not move the canvas');
  assert.equal(compositeUses(store.getState().graph, r.composite), 1);
});

test('nested composites: open one inside another, group inside a composite, and problems through two levels', () => {
  const store = createEditorStore(resnet50Composite());
  assert.deepEqual(store.getState().analysis.diagnostics, []);
  assert.ok(store.getState().enterComposite({ node: 'stage2' }));
  assert.ok(store.getState().enterComposite({ node: 'rest' }));
  let s = store.getState();
  assert.deepEqual(s.scope, ['stage2', 'identity2']);
  assert.deepEqual(s.view.analysis.nodes.get('conv2')!.outputShapes, { out: [null, 28, 28, 128] });
  // Group two nodes inside the inner composite: the new composite lives in the file, its instance in identity2.
  s.select(['bn1', 'relu1']);
  const r = store.getState().groupSelection();
  assert.ok(r.ok);
  s = store.getState();
  assert.deepEqual(s.analysis.diagnostics, []);
  assert.ok(s.view.graph.nodes.some((n) => n.id === r.nodeId));
  assert.equal(compositeUses(s.graph, r.composite), 1);
  // A mistake two levels down shows on the stage at the top and on the inner node here.
  s.setParam('conv3', 'filters', 7);
  s = store.getState();
  assert.ok((s.view.diagnostics.byNode.get('add') ?? []).length > 0, JSON.stringify([...s.view.diagnostics.byNode.keys()]));
  const top = s.diagnostics.byNode.get('stage2') ?? [];
  assert.ok(top.length > 0);
  assert.deepEqual(top[0].path, ['stage2', 'rest', 'add']);
  // Opening a composite from the palette while inside it goes back to its level.
  store.getState().enterComposite({ composite: 'stage2' });
  assert.deepEqual(store.getState().scope, ['stage2']);
});

test('a composite nothing uses still opens: its ports are drawn, without shapes', () => {
  const g = graphWith(
    [
      composite(
        'lonely',
        [cin('in'), ['d', 'core.dense', { units: 3 }], cout('out')],
        [
          ['in.out', 'd.in'],
          ['d.out', 'out.in'],
        ],
      ),
    ],
    [
      ['x', 'io.input', { kind: 'vector', features: 4 }],
      ['y', 'io.output'],
    ],
    [['x.out', 'y.in']],
  );
  const store = createEditorStore(g);
  assert.ok(store.getState().enterComposite({ composite: 'lonely' }));
  const s = store.getState();
  assert.equal(s.view.shapesFrom, undefined);
  assert.deepEqual(
    s.view.analysis.nodes.get('d')!.outputs.map((p) => p.name),
    ['out'],
  );
  assert.equal(s.view.analysis.nodes.get('d')!.outputShapes, undefined);
  assert.deepEqual(placeableComposites(s.graph, 'lonely'), [], 'the palette does not offer a composite inside itself');
  assert.deepEqual(
    placeableComposites(s.graph).map((c) => c.id),
    ['lonely'],
  );
});

test("the summary counts a composite node as the blocks inside all its copies, equal to the compiler's count", async () => {
  const tf = await tfReady;
  const g = open('test/fixtures/composites/residual.attn.json');
  const analysis = analyzeGraph(g);
  const parts = countParts(analysis);
  assert.equal(parts.get('st')!.length, 8, 'repeat 2 × (two convolutions, a ReLU and an Add)');
  assert.equal(new Set(parts.get('st')!.map((r) => r.key)).size, 3, 'the copies (and the two equal convolutions) share their keys');
  const count = (id: string) => parts.get(id)!.reduce((sum, r) => sum + countBlockParams(tf, registry.get(r.type)!, r), 0);
  const compiled = compileGraph(tf, g);
  try {
    assert.equal(count('st'), 2 * 2 * (3 * 3 * 4 * 4 + 4));
    assert.equal(
      [...parts.keys()].reduce((sum, id) => sum + count(id), 0),
      compiled.params,
    );
  } finally {
    compiled.model.dispose();
  }
});
