// While a run is live the graph on the canvas is the one training: it is locked
// (read-only), so that the attention panels keep naming the nodes that produce
// their maps. Locking swaps the editor store's editing actions for ones that
// refuse with a message; unlocking puts the originals back.
import type { Editor, EditorActions } from '../store/editor.js';
import type { StoreApi } from 'zustand/vanilla';

/** Every action that changes the document. Selection, copy and saving stay available. */
const EDITS = [
  'addBlock',
  'connect',
  'moveNodes',
  'setParam',
  'setLabel',
  'rename',
  'deleteSelection',
  'deleteElements',
  'cut',
  'paste',
  'duplicate',
  'undo',
  'redo',
  'load',
] as const satisfies readonly (keyof EditorActions)[];

/** What the refused actions answer, so that callers see no change. */
const REFUSED: Partial<Record<(typeof EDITS)[number], unknown>> = {
  addBlock: '',
  connect: { ok: false, reason: 'the graph is locked while a run trains' },
  cut: null,
  paste: [],
  duplicate: [],
};

export function lockGraph(store: StoreApi<Editor>, onRefused: () => void): () => void {
  const originals = Object.fromEntries(EDITS.map((k) => [k, store.getState()[k]])) as Pick<Editor, (typeof EDITS)[number]>;
  const refused = Object.fromEntries(
    EDITS.map((k) => [
      k,
      () => {
        onRefused();
        return REFUSED[k];
      },
    ]),
  ) as unknown as Partial<Editor>;
  store.setState(refused);
  return () => store.setState(originals);
}
