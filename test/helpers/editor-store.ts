// Graphs built in the editor's store as a user builds them: blocks added and wired one by one.
import assert from 'node:assert/strict';
import { createEditorStore } from '../../renderer/src/store/editor.js';

/** Input(vector 20) -> `dense` Dense blocks -> Output, laid out left to right: the store and the node ids in that order. */
export function denseChainInStore(dense: number) {
  const store = createEditorStore();
  const s = store.getState();
  const nodes = [
    s.addBlock('io.input', { x: 0, y: 0 }, { kind: 'vector', features: 20 }),
    ...Array.from({ length: dense }, (_, i) => s.addBlock('core.dense', { x: 200 * (i + 1), y: 0 })),
    s.addBlock('io.output', { x: 200 * (dense + 1), y: 0 }),
  ];
  for (let i = 1; i < nodes.length; i++) assert.equal(s.connect({ node: nodes[i - 1], port: 'out' }, { node: nodes[i], port: 'in' }).ok, true);
  return { store, nodes };
}
