// Comments inside a composite: drawn on its inside, saved in its definition
// (not on the graph), undone like any edit, carried out by ungroup; files
// without them still open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createEditorStore } from '../renderer/src/store/editor.js';
import { openGraphText } from '../renderer/src/store/load.js';
import { parseGraphText, serializeGraph } from '../engine/graph/schema.js';
import type { GraphFile } from '../engine/graph/types.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixture = readFileSync(join(root, 'test/fixtures/composites/residual.attn.json'), 'utf8');
const open = (text: string): GraphFile => {
  const r = openGraphText(text);
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.diagnostics));
  return r.graph;
};

test('a comment added inside a composite lives in its definition, and round-trips through the file', () => {
  const store = createEditorStore(open(fixture));
  assert.ok(store.getState().enterComposite({ node: 'd' }));
  const id = store.getState().addComment({ x: 150, y: -80 }, 'strided');
  store.getState().updateComment(id, { position: { x: 170, y: -60 } });
  const g = store.getState().graph;
  assert.equal(g.comments, undefined, 'nothing on the graph itself');
  assert.deepEqual(
    g.composites!.find((c) => c.id === 'down')!.comments!.map((c) => [c.id, c.text, c.position]),
    [[id, 'strided', { x: 170, y: -60 }]],
  );
  assert.equal(store.getState().view.graph.comments?.[0].id, id, 'the scope shown has it');

  const reopened = parseGraphText(serializeGraph(g));
  assert.ok(reopened.graph, JSON.stringify(reopened.diagnostics));
  assert.deepEqual(reopened.graph.composites!.find((c) => c.id === 'down')!.comments, g.composites!.find((c) => c.id === 'down')!.comments);

  store.getState().exitScope();
  assert.equal(store.getState().view.graph.comments, undefined, "the top level does not show the composite's comments");
  store.getState().undo();
  store.getState().undo();
  assert.equal(store.getState().graph.composites!.find((c) => c.id === 'down')!.comments, undefined, 'two undos take it away');
});

test("a composite's comment that is not a comment is refused with where it is", () => {
  const doc = JSON.parse(fixture) as GraphFile;
  doc.composites![1].comments = [{ id: 'c', text: 'x', position: { x: 0, y: 0 }, size: { width: -1, height: 5 } }];
  const r = parseGraphText(JSON.stringify(doc));
  assert.equal(r.graph, undefined);
  assert.match(r.diagnostics.map((d) => d.message).join('\n'), /composites\[1\] \("down"\)\.comments\[0\]/);
});

test("ungrouping a composite brings its comments out with its nodes, at the instance's place", () => {
  const store = createEditorStore(open(fixture));
  store.getState().enterComposite({ node: 'd' });
  // At the composite's leftmost inner node (conv at x 200), 40 above.
  store.getState().addComment({ x: 200, y: -40 }, 'inside');
  store.getState().exitScope();
  const r = store.getState().ungroup('d');
  assert.ok(r.ok);
  const g = store.getState().graph;
  assert.equal(
    g.composites!.some((c) => c.id === 'down'),
    false,
  );
  const d = open(fixture).nodes.find((n) => n.id === 'd')!;
  assert.deepEqual(
    g.comments?.map((c) => [c.text, c.position]),
    [['inside', { x: d.position.x, y: d.position.y - 40 }]],
  );
});
