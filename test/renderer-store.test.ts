// The editor's document store: edits, undo history, connection checks,
// clipboard, file opening and the summary, run in Node on the real engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createEditorStore } from '../renderer/src/store/editor.js';
import { createHistory, record, redo, seal, undo, HISTORY_LIMIT } from '../renderer/src/store/history.js';
import { copyFragment, fragmentText, parseFragment, pasteFragment } from '../renderer/src/store/clipboard.js';
import { openGraphText } from '../renderer/src/store/load.js';
import { summarize } from '../renderer/src/store/summary.js';
import { emptyGraph } from '../renderer/src/store/document.js';
import { serializeGraph } from '../engine/graph/schema.js';
import { registry } from '../engine/blocks/registry.js';
import { groupByCategory, searchBlocks } from '../renderer/src/store/catalogue.js';
import { denseChainInStore } from './helpers/editor-store.js';

/** Input(vector 20) -> Dense(8) -> Output, built through the store like a user would. */
function smallModel() {
  const {
    store,
    nodes: [x, d, y],
  } = denseChainInStore(1);
  return { store, x, d, y };
}

test('history: record, undo, redo, coalesce and seal', () => {
  let h = createHistory(0);
  h = record(h, 1);
  h = record(h, 2, 'drag');
  h = record(h, 3, 'drag');
  h = record(h, 4, 'drag');
  assert.deepEqual(h.past, [0, 1], 'a run of coalesced edits is one step');
  h = seal(h);
  h = record(h, 5, 'drag');
  assert.deepEqual(h.past, [0, 1, 4], 'after seal the same key starts a new step');
  h = undo(undo(h));
  assert.equal(h.present, 1);
  h = redo(h);
  assert.equal(h.present, 4);
  h = record(h, 9);
  assert.deepEqual(h.future, [], 'a new edit drops the redo branch');
  assert.equal(record(h, 9), h, 'an unchanged value records nothing');
  let long = createHistory(0);
  for (let i = 1; i <= HISTORY_LIMIT + 50; i++) long = record(long, i);
  assert.equal(long.past.length, HISTORY_LIMIT);
  assert.equal(long.past[0], 50);
});

test('edits build a valid graph with shapes on the edges, and undo/redo walk it back', () => {
  const { store, d } = smallModel();
  let s = store.getState();
  assert.deepEqual(s.analysis.diagnostics, []);
  assert.deepEqual(s.analysis.edgeShapes, [
    [null, 20],
    [null, 64],
  ]);
  assert.equal(s.isDirty(), true);
  s.setParam(d, 'units', 1);
  s.setParam(d, 'units', 12);
  s.setParam(d, 'units', 128);
  s = store.getState();
  assert.deepEqual(s.analysis.edgeShapes[1], [null, 128], 'shapes follow the parameter');
  s.undo();
  assert.deepEqual(store.getState().analysis.edgeShapes[1], [null, 64], 'typing into one field is one undo step');
  store.getState().redo();
  assert.deepEqual(store.getState().analysis.edgeShapes[1], [null, 128]);
  for (let i = 0; i < 6; i++) store.getState().undo();
  assert.equal(store.getState().graph.nodes.length, 0);
  assert.equal(store.getState().isDirty(), false, 'undoing every edit returns to the saved document');
  for (let i = 0; i < 6; i++) store.getState().redo();
  assert.equal(store.getState().graph.edges.length, 2);
  assert.equal(store.getState().graph.nodes.find((n) => n.id === d)?.params.units, 128);
});

test('a drag is one undo step and does not re-run the analysis', () => {
  const { store, d } = smallModel();
  const before = store.getState().analysis;
  for (let i = 1; i <= 30; i++) store.getState().moveNodes({ [d]: { x: 200 + i * 3, y: i } }, 'g1');
  store.getState().seal();
  const s = store.getState();
  assert.deepEqual(s.graph.nodes.find((n) => n.id === d)?.position, { x: 290, y: 30 });
  assert.equal(s.analysis, before, 'moves keep the analysis');
  s.undo();
  assert.deepEqual(store.getState().graph.nodes.find((n) => n.id === d)?.position, { x: 200, y: 0 });
  store.getState().undo();
  assert.equal(store.getState().graph.edges.length, 1, 'the step before the drag was the last connection');
});

test('connections are refused with the reason when ranks or shapes cannot match', () => {
  const store = createEditorStore();
  const s = store.getState();
  const vec = s.addBlock('io.input', { x: 0, y: 0 }, { kind: 'vector', features: 20 });
  const img = s.addBlock('io.input', { x: 0, y: 100 }, { kind: 'image', height: 8, width: 8, channels: 3 });
  const conv = s.addBlock('core.conv2d', { x: 200, y: 0 }, { filters: 3 });
  const add = s.addBlock('core.add', { x: 400, y: 0 });
  const edgesBefore = store.getState().graph.edges.length;

  const rank = s.connect({ node: vec, port: 'out' }, { node: conv, port: 'in' });
  assert.equal(rank.ok, false);
  assert.match(rank.ok ? '' : rank.reason, /rank 4.*\[\?, 20\]/);
  assert.equal(store.getState().graph.edges.length, edgesBefore, 'a refused connection changes nothing');

  assert.equal(s.connect({ node: img, port: 'out' }, { node: conv, port: 'in' }).ok, true);
  const addPorts = store
    .getState()
    .analysis.nodes.get(add)!
    .inputs.map((p) => p.name);
  assert.equal(s.connect({ node: conv, port: 'out' }, { node: add, port: addPorts[0] }).ok, true);
  const mismatch = s.checkConnection({ node: vec, port: 'out' }, { node: add, port: addPorts[1] });
  assert.equal(mismatch.ok, false, 'broadcasting [?, 8, 8, 3] with [?, 20] fails at the Add');
  assert.match(mismatch.ok ? '' : mismatch.reason, /broadcast/);

  const loop = s.checkConnection({ node: add, port: 'out' }, { node: conv, port: 'in' });
  assert.deepEqual(loop.ok ? '' : loop.reason, 'this would make a loop: a model graph must be acyclic');
  const self = s.checkConnection({ node: conv, port: 'out' }, { node: conv, port: 'in' });
  assert.equal(self.ok, false);
  const ok = s.checkConnection({ node: img, port: 'out' }, { node: add, port: addPorts[1] });
  assert.deepEqual(ok, { ok: true, shape: [null, 8, 8, 3], replaces: undefined });
});

test('connecting into a used input replaces its edge', () => {
  const { store, d } = smallModel();
  const s = store.getState();
  const other = s.addBlock('io.input', { x: 0, y: 200 }, { kind: 'vector', features: 5 });
  const v = s.checkConnection({ node: other, port: 'out' }, { node: d, port: 'in' });
  assert.equal(v.ok && v.replaces, 'e1');
  s.connect({ node: other, port: 'out' }, { node: d, port: 'in' });
  const g = store.getState().graph;
  assert.equal(g.edges.filter((e) => e.to.node === d && e.to.port === 'in').length, 1);
  assert.deepEqual(store.getState().analysis.edgeShapes[g.edges.findIndex((e) => e.to.node === d)], [null, 5]);
});

test('copy, paste, cut, duplicate and delete, each one undo step', () => {
  const { store, x, d, y } = smallModel();
  store.getState().select([x, d]);
  const fragment = store.getState().copy()!;
  assert.equal(fragment.nodes.length, 2);
  assert.equal(fragment.edges.length, 1, 'only edges inside the selection travel');
  const round = parseFragment(fragmentText(fragment));
  assert.deepEqual(round, fragment);
  assert.equal(
    parseFragment('{"kind":"attention-studio.fragment","nodes":[{"id":"a","type":"nope","params":{},"position":{"x":0,"y":0}}],"edges":[]}'),
    undefined,
  );
  assert.equal(parseFragment('not json'), undefined);

  const pasted = store.getState().paste(round, { x: 1000, y: 500 });
  let s = store.getState();
  assert.equal(pasted.length, 2);
  assert.ok(
    pasted.every((id) => ![x, d, y].includes(id)),
    'fresh ids',
  );
  assert.deepEqual([...s.selection.nodes], pasted, 'the pasted nodes are selected');
  const placed = s.graph.nodes.filter((n) => pasted.includes(n.id)).map((n) => n.position);
  assert.deepEqual(placed, [
    { x: 1000, y: 500 },
    { x: 1200, y: 500 },
  ]);
  const inner = s.graph.edges.filter((e) => pasted.includes(e.from.node));
  assert.equal(inner.length, 1);
  assert.ok(pasted.includes(inner[0].to.node));
  assert.equal(new Set(s.graph.edges.map((e) => e.id)).size, s.graph.edges.length, 'edge ids stay unique');

  s.select([d]);
  const dup = store.getState().duplicate();
  s = store.getState();
  assert.equal(s.graph.nodes.length, 6);
  assert.deepEqual(s.graph.nodes.find((n) => n.id === dup[0])?.position, { x: 240, y: 40 }, 'duplicate lands offset from the original');

  s.select([d]);
  store.getState().cut();
  s = store.getState();
  assert.equal(
    s.graph.nodes.some((n) => n.id === d),
    false,
  );
  assert.equal(
    s.graph.edges.some((e) => e.from.node === d || e.to.node === d),
    false,
    'edges of a removed node go with it',
  );
  s.undo();
  assert.equal(
    store.getState().graph.nodes.some((n) => n.id === d),
    true,
  );
  assert.equal(store.getState().graph.edges.filter((e) => e.from.node === d || e.to.node === d).length, 2);

  const e = store.getState().graph.edges[0].id!;
  store.getState().select([], [e]);
  store.getState().deleteSelection();
  assert.equal(
    store.getState().graph.edges.some((x) => x.id === e),
    false,
  );
  assert.equal(pasteFragment(emptyGraph(), copyFragment(emptyGraph(), [])).nodeIds.length, 0);
});

test('selection survives undo only for nodes that still exist', () => {
  const { store, d } = smallModel();
  store.getState().select([d]);
  store.getState().undo(); // the Dense -> Output edge
  assert.deepEqual([...store.getState().selection.nodes], [d]);
  store.getState().undo();
  store.getState().undo();
  store.getState().undo(); // the Output node, then the Dense node
  assert.deepEqual([...store.getState().selection.nodes], []);
});

test('diagnostics are filed on nodes, ports and edges', () => {
  const text = readFileSync(join(fixtures, 'rank-mismatch.attn.json'), 'utf8');
  const r = openGraphText(text);
  assert.equal(r.ok, true, 'a shape mistake opens, with the mistake shown');
  const store = createEditorStore();
  store.getState().load(r.ok ? r.graph : emptyGraph(), 'rank-mismatch.attn.json');
  const s = store.getState();
  const onConv = s.diagnostics.byNode.get('c') ?? [];
  assert.equal(onConv.length, 1);
  assert.match(onConv[0].message, /rank 4/);
  assert.equal(s.diagnostics.byPort.get('c:in')?.[0], onConv[0]);
  assert.equal(s.diagnostics.byEdge.get(s.graph.edges[0].id!)?.[0], onConv[0], 'the wire into the port is marked');
  assert.equal(s.isDirty(), false);
  assert.equal(s.filePath, 'rank-mismatch.attn.json');
});

const here = dirname(fileURLToPath(import.meta.url));
// Tests run from dist/test; the fixtures stay in the source tree.
const fixtures = join(here, '..', '..', 'test', 'fixtures', 'broken');

test('opening files: unreadable ones are refused with diagnostics, modelling mistakes open', () => {
  const refused = [
    'malformed-json',
    'wrong-format',
    'newer-version',
    'nodes-not-list',
    'node-missing-type',
    'unknown-type',
    'duplicate-id',
    'edge-missing-node',
    'edge-missing-port',
  ];
  const opened = [
    'broadcast-mismatch',
    'cycle',
    'no-input',
    'no-output',
    'param-bad-enum',
    'param-mistyped',
    'param-out-of-range',
    'param-unknown',
    'rank-mismatch',
    'too-small',
    'two-edges-one-port',
    'unconnected-input',
  ];
  const names = readdirSync(fixtures)
    .map((f) => f.replace('.attn.json', ''))
    .sort();
  assert.deepEqual(names, [...refused, ...opened].sort(), 'every fixture is classified');
  for (const name of refused) {
    const r = openGraphText(readFileSync(join(fixtures, `${name}.attn.json`), 'utf8'));
    assert.equal(r.ok, false, name);
    assert.ok(!r.ok && r.diagnostics.length > 0 && r.diagnostics.every((d) => d.message.length > 10), name);
  }
  for (const name of opened) {
    const r = openGraphText(readFileSync(join(fixtures, `${name}.attn.json`), 'utf8'));
    assert.equal(r.ok, true, name);
    const store = createEditorStore();
    store.getState().load(r.ok ? r.graph : emptyGraph(), null);
    assert.ok(store.getState().diagnostics.errorCount > 0, `${name} shows its errors`);
  }
});

test('a saved graph opens again unchanged', () => {
  const { store } = smallModel();
  const text = serializeGraph(store.getState().graph);
  const r = openGraphText(text);
  assert.ok(r.ok);
  assert.deepEqual(r.graph, store.getState().graph);
  store.getState().markSaved(store.getState().graph, '/tmp/a.attn.json');
  assert.equal(store.getState().isDirty(), false);
  store.getState().rename('mine');
  assert.equal(store.getState().isDirty(), true);
});

test('summary: output shapes per node in data-flow order, totals over counted nodes', () => {
  const { store, x, d, y } = smallModel();
  const s = store.getState();
  const counts: Record<string, number> = { [x]: 0, [d]: 20 * 64 + 64, [y]: 0 };
  const sum = summarize(s.graph, s.analysis, { all: (id) => counts[id], trainable: (id) => counts[id] });
  assert.deepEqual(
    sum.rows.map((r) => r.id),
    [x, d, y],
  );
  assert.deepEqual(sum.rows[1].outputs, [{ port: 'out', shape: [null, 64], attention: undefined }]);
  assert.equal(sum.totalParams, 1344);
  assert.equal(sum.uncounted, 0);
  const unknown = (id: string) => (id === d ? undefined : 0);
  const partial = summarize(s.graph, s.analysis, { all: unknown, trainable: unknown });
  assert.equal(partial.uncounted, 1);
});

test('palette: categories in registry order, search ranks label matches first', () => {
  const groups = groupByCategory();
  assert.equal(groups[0].category, 'Inputs & outputs');
  assert.equal(
    groups.reduce((n, g) => n + g.blocks.length, 0),
    registry.all().length,
  );
  const dense = searchBlocks('dense');
  assert.equal(dense[0].type, 'core.dense');
  assert.deepEqual(searchBlocks('zzzz-no-such-block'), []);
  assert.ok(
    searchBlocks('conv 2d').some((b) => b.type === 'core.conv2d'),
    'every word must match somewhere',
  );
});
