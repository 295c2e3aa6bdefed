// The graph lock while a run trains: every store action that changes the
// document is refused (and answers as if nothing happened), every other one
// stays available, and a new action cannot slip through unlisted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEditorStore, type Editor } from '../renderer/src/store/editor.js';
import { emptyGraph } from '../renderer/src/store/document.js';
import { LOCKED_ACTIONS, OPEN_ACTIONS, lockGraph } from '../renderer/src/training/lock.js';
import { denseChainInStore } from './helpers/editor-store.js';

type Locked = (typeof LOCKED_ACTIONS)[number];

/** Input(vector 20) -> Dense -> Dense -> Output, built through the store. */
function model() {
  const {
    store,
    nodes: [x, d1, d2],
  } = denseChainInStore(2);
  store.getState().seal();
  return { store, x, d1, d2 };
}

type Fixture = ReturnType<typeof model>;
const st = (f: Fixture) => f.store.getState();

/** For each locked action: a state in which it changes the document, and the call. */
const EDITS: Record<Locked, { prepare?(f: Fixture): void; call(f: Fixture): unknown }> = {
  addBlock: { call: (f) => st(f).addBlock('core.dense', { x: 0, y: 300 }) },
  connect: {
    prepare: (f) => void st(f).addBlock('core.dense', { x: 0, y: 300 }),
    call: (f) => st(f).connect({ node: f.x, port: 'out' }, { node: st(f).graph.nodes.at(-1)!.id, port: 'in' }),
  },
  moveNodes: { call: (f) => st(f).moveNodes({ [f.d1]: { x: 5, y: 5 } }) },
  setParam: { call: (f) => st(f).setParam(f.d1, 'units', 7) },
  setLabel: { call: (f) => st(f).setLabel(f.d1, 'hidden') },
  rename: { call: (f) => st(f).rename('renamed') },
  deleteSelection: { prepare: (f) => st(f).select([f.d1]), call: (f) => st(f).deleteSelection() },
  deleteElements: { call: (f) => st(f).deleteElements([f.d1]) },
  cut: { prepare: (f) => st(f).select([f.d1]), call: (f) => st(f).cut() },
  paste: { prepare: (f) => (st(f).select([f.d1]), void st(f).copy()), call: (f) => st(f).paste() },
  duplicate: { prepare: (f) => st(f).select([f.d1]), call: (f) => st(f).duplicate() },
  undo: { prepare: (f) => st(f).rename('renamed'), call: (f) => st(f).undo() },
  redo: { prepare: (f) => (st(f).rename('renamed'), st(f).undo()), call: (f) => st(f).redo() },
  load: { call: (f) => st(f).load(emptyGraph(), null) },
  groupSelection: { prepare: (f) => st(f).select([f.d1, f.d2]), call: (f) => st(f).groupSelection('Block') },
  setCompositeLabel: {
    prepare: (f) => (st(f).select([f.d1, f.d2]), assert.equal(st(f).groupSelection('Block').ok, true)),
    call: (f) => st(f).setCompositeLabel(st(f).graph.composites![0].id, 'Renamed block'),
  },
  ungroup: {
    prepare: (f) => (st(f).select([f.d1, f.d2]), assert.equal(st(f).groupSelection('Block').ok, true)),
    call: (f) => st(f).ungroup([...st(f).selection.nodes][0]),
  },
  toggleBypass: { call: (f) => st(f).toggleBypass([f.d2]) },
  addComment: { call: (f) => st(f).addComment({ x: 0, y: 0 }) },
  updateComment: { prepare: (f) => void st(f).addComment({ x: 0, y: 0 }), call: (f) => st(f).updateComment('comment1', { text: 'note' }) },
  removeComment: { prepare: (f) => void st(f).addComment({ x: 0, y: 0 }), call: (f) => st(f).removeComment('comment1') },
  addReroute: { call: (f) => st(f).addReroute(st(f).graph.edges[0].id!, { x: 100, y: 50 }) },
  moveReroute: {
    prepare: (f) => st(f).addReroute(st(f).graph.edges[0].id!, { x: 100, y: 50 }),
    call: (f) => st(f).moveReroute(st(f).graph.edges[0].id!, 0, { x: 120, y: 60 }),
  },
};

test('every store action is either locked during a run or known to leave the document alone', () => {
  const actions = Object.entries(createEditorStore().getState())
    .filter(([, v]) => typeof v === 'function')
    .map(([k]) => k)
    .sort();
  const listed = [...LOCKED_ACTIONS, ...OPEN_ACTIONS];
  assert.equal(new Set(listed).size, listed.length, 'no action is in both lists');
  assert.deepEqual(actions, [...listed].sort(), 'a store action missing here must be added to LOCKED_ACTIONS or OPEN_ACTIONS in renderer/src/training/lock.ts');
  assert.deepEqual(Object.keys(EDITS).sort(), [...LOCKED_ACTIONS].sort(), 'this test exercises every locked action');
});

for (const action of LOCKED_ACTIONS) {
  test(`locked: ${action} is refused while a run trains and works again after`, () => {
    const f = model();
    const { prepare, call } = EDITS[action];
    prepare?.(f);
    const before: Pick<Editor, 'graph' | 'history'> = { graph: st(f).graph, history: st(f).history };
    let refusals = 0;
    const unlock = lockGraph(f.store, () => refusals++);
    const answer = call(f);
    assert.equal(st(f).graph, before.graph, 'the document is unchanged');
    assert.equal(st(f).history, before.history, 'no undo step was recorded');
    assert.equal(refusals, 1, 'the refusal is reported');
    if (answer && typeof answer === 'object' && 'ok' in answer) assert.equal(answer.ok, false);
    unlock();
    call(f);
    assert.notEqual(st(f).graph, before.graph, `unlocked, ${action} changes the document (so the locked call was a real edit)`);
  });
}

test('open actions work while locked: selection, copy, looking inside a composite', () => {
  const f = model();
  st(f).select([f.d1, f.d2]);
  assert.equal(st(f).groupSelection('Block').ok, true);
  const instance = [...st(f).selection.nodes][0];
  const graph = st(f).graph;
  let refusals = 0;
  lockGraph(f.store, () => refusals++);
  st(f).selectAll();
  assert.equal(st(f).selection.nodes.size, graph.nodes.length);
  st(f).select([instance]);
  assert.ok(st(f).copy());
  assert.equal(st(f).enterComposite({ node: instance }), true);
  assert.equal(st(f).scope.length, 1);
  st(f).exitScope(0);
  assert.equal(st(f).scope.length, 0);
  assert.equal(st(f).graph, graph);
  assert.equal(refusals, 0);
});
