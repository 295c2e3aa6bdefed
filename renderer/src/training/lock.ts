// While a run is live the graph on the canvas is the one training: it is locked
// (read-only), so that the attention panels keep naming the nodes that produce
// their maps. Locking swaps the editor store's editing actions for ones that
// refuse with a message; unlocking puts the originals back.
import type { Editor, EditorActions } from '../store/editor.js';
import type { StoreApi } from 'zustand/vanilla';

const LOCKED_REASON = 'the graph is locked while a run trains';

/** Every action that changes the document. */
export const LOCKED_ACTIONS = [
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
  'groupSelection',
  'setCompositeLabel',
  'ungroup',
  'toggleBypass',
  'addComment',
  'updateComment',
  'removeComment',
  'addReroute',
  'moveReroute',
] as const satisfies readonly (keyof EditorActions)[];

/** The actions that leave the document alone: selection, copy, looking inside composites, saving. */
export const OPEN_ACTIONS = [
  'checkConnection',
  'select',
  'selectAll',
  'copy',
  'seal',
  'canUndo',
  'canRedo',
  'isDirty',
  'markSaved',
  'enterComposite',
  'exitScope',
] as const satisfies readonly (keyof EditorActions)[];

// A new store action must be put in one list or the other: this fails to compile otherwise.
type Unlisted = Exclude<keyof EditorActions, (typeof LOCKED_ACTIONS)[number] | (typeof OPEN_ACTIONS)[number]>;
const everyActionListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyActionListed;

type Locked = (typeof LOCKED_ACTIONS)[number];

/** What the refused actions answer, so that callers see no change. */
const REFUSED: Partial<Record<Locked, unknown>> = {
  addBlock: '',
  connect: { ok: false, reason: LOCKED_REASON },
  cut: null,
  paste: [],
  duplicate: [],
  groupSelection: { ok: false, reason: LOCKED_REASON },
  ungroup: { ok: false, reason: LOCKED_REASON },
  toggleBypass: { ok: false, reason: LOCKED_REASON },
  addComment: '',
};

export function lockGraph(store: StoreApi<Editor>, onRefused: () => void): () => void {
  const originals = Object.fromEntries(LOCKED_ACTIONS.map((k) => [k, store.getState()[k]])) as Pick<Editor, Locked>;
  const refused = Object.fromEntries(
    LOCKED_ACTIONS.map((k) => [
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
