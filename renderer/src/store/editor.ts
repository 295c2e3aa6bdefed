// The editor's state: the graph document with its undo history, the selection,
// the clipboard and the file it belongs to. A zustand store without React so
// that it runs (and is tested) in Node; the UI subscribes through `useEditor`.
import { createStore, type StoreApi } from 'zustand/vanilla';
import { analyzeGraph, type GraphAnalysis } from '../../../engine/graph/analyze.js';
import type { Endpoint, GraphFile } from '../../../engine/graph/types.js';
import { checkConnection, type ConnectionVerdict } from './connection.js';
import { copyFragment, pasteFragment, type Fragment } from './clipboard.js';
import { indexDiagnostics, type DiagnosticIndex } from './diagnostics.js';
import * as doc from './document.js';
import { canRedo, canUndo, createHistory, record, redo, seal, undo, type History } from './history.js';

export interface Selection {
  nodes: ReadonlySet<string>;
  edges: ReadonlySet<string>;
}

export interface EditorState {
  history: History<GraphFile>;
  /** The current graph (history.present). */
  graph: GraphFile;
  analysis: GraphAnalysis;
  diagnostics: DiagnosticIndex;
  selection: Selection;
  /** The graph as last opened or saved: the document is dirty while `graph` differs. */
  saved: GraphFile;
  /** The file the document lives in; null until first saved. */
  filePath: string | null;
  clipboard: Fragment | null;
  /** Counts documents loaded (new, open, restore): the canvas fits the view on a change. */
  loadCount: number;
}

export interface EditorActions {
  addBlock(type: string, position: doc.XY, params?: Record<string, unknown>): string;
  connect(from: Endpoint, to: Endpoint): ConnectionVerdict;
  checkConnection(from: Endpoint, to: Endpoint): ConnectionVerdict;
  /** Moves nodes; calls with the same gesture key (one drag) make one undo step. */
  moveNodes(positions: Record<string, doc.XY>, gesture?: string): void;
  setParam(nodeId: string, name: string, value: unknown): void;
  setLabel(nodeId: string, label: string): void;
  rename(name: string): void;
  deleteSelection(): void;
  deleteElements(nodeIds: Iterable<string>, edgeIds?: Iterable<string>): void;
  select(nodes: Iterable<string>, edges?: Iterable<string>): void;
  selectAll(): void;
  copy(): Fragment | null;
  cut(): Fragment | null;
  paste(fragment?: Fragment, at?: doc.XY): string[];
  duplicate(): string[];
  undo(): void;
  redo(): void;
  /** Ends a run of coalesced edits (a field lost focus, a drag ended). */
  seal(): void;
  canUndo(): boolean;
  canRedo(): boolean;
  isDirty(): boolean;
  /** Replaces the document (new, open, restore); clears history and selection. */
  load(graph: GraphFile, filePath: string | null, opts?: { dirty?: boolean }): void;
  markSaved(graph: GraphFile, filePath: string): void;
}

export type Editor = EditorState & EditorActions;
export type EditorStore = StoreApi<Editor>;

const none: Selection = { nodes: new Set(), edges: new Set() };

/** Analysis only depends on ids, types, params and edges: a move reuses the last one. */
function sameModel(a: GraphFile, b: GraphFile): boolean {
  return (
    a.edges === b.edges &&
    a.nodes.length === b.nodes.length &&
    a.nodes.every((n, i) => {
      const m = b.nodes[i];
      return n.id === m.id && n.type === m.type && n.params === m.params;
    })
  );
}

function derive(graph: GraphFile, prev?: { graph: GraphFile; analysis: GraphAnalysis; diagnostics: DiagnosticIndex }) {
  if (prev && (prev.graph === graph || sameModel(prev.graph, graph))) return { graph, analysis: prev.analysis, diagnostics: prev.diagnostics };
  const analysis = analyzeGraph(graph);
  return { graph, analysis, diagnostics: indexDiagnostics(graph, analysis.diagnostics) };
}

export function createEditorStore(initial: GraphFile = doc.emptyGraph()): EditorStore {
  const start = doc.withEdgeIds(initial);
  return createStore<Editor>()((set, get) => {
    /** Applies an edit to the graph as one undo step (or part of the open one). */
    const edit = (next: GraphFile, coalesce?: string, selection?: Selection) => {
      const s = get();
      const history = record(s.history, next, coalesce);
      if (history === s.history && !selection) return;
      set({ history, ...derive(history.present, s), ...(selection ? { selection } : {}) });
    };
    const travel = (history: History<GraphFile>) => {
      const s = get();
      const ids = new Set(history.present.nodes.map((n) => n.id));
      const edgeIds = new Set(history.present.edges.map((e) => e.id ?? ''));
      const selection = { nodes: new Set([...s.selection.nodes].filter((id) => ids.has(id))), edges: new Set([...s.selection.edges].filter((id) => edgeIds.has(id))) };
      set({ history, ...derive(history.present, s), selection });
    };

    return {
      history: createHistory(start),
      ...derive(start),
      selection: none,
      saved: start,
      filePath: null,
      clipboard: null,
      loadCount: 0,

      addBlock(type, position, params) {
        const r = doc.addNode(get().graph, type, position, params);
        edit(r.graph, undefined, { nodes: new Set([r.id]), edges: new Set() });
        return r.id;
      },
      checkConnection(from, to) {
        const s = get();
        return checkConnection(s.graph, from, to, s.analysis);
      },
      connect(from, to) {
        const verdict = get().checkConnection(from, to);
        if (verdict.ok) edit(doc.connect(get().graph, from, to).graph);
        return verdict;
      },
      moveNodes(positions, gesture) {
        edit(doc.moveNodes(get().graph, positions), gesture && `move:${gesture}`);
      },
      setParam(nodeId, name, value) {
        edit(doc.setParam(get().graph, nodeId, name, value), `param:${nodeId}:${name}`);
      },
      setLabel(nodeId, label) {
        edit(doc.setLabel(get().graph, nodeId, label), `label:${nodeId}`);
      },
      rename(name) {
        edit(doc.renameGraph(get().graph, name), 'rename');
      },
      deleteSelection() {
        const { nodes, edges } = get().selection;
        get().deleteElements(nodes, edges);
      },
      deleteElements(nodeIds, edgeIds = []) {
        edit(doc.removeElements(get().graph, nodeIds, edgeIds), undefined, none);
      },
      select(nodes, edges = []) {
        set({ selection: { nodes: new Set(nodes), edges: new Set(edges) } });
      },
      selectAll() {
        const g = get().graph;
        get().select(
          g.nodes.map((n) => n.id),
          g.edges.map((e) => e.id ?? ''),
        );
      },
      copy() {
        const s = get();
        if (s.selection.nodes.size === 0) return null;
        const fragment = copyFragment(s.graph, s.selection.nodes);
        set({ clipboard: fragment });
        return fragment;
      },
      cut() {
        const fragment = get().copy();
        if (fragment) get().deleteElements(fragment.nodes.map((n) => n.id));
        return fragment;
      },
      paste(fragment = get().clipboard ?? undefined, at) {
        if (!fragment) return [];
        const r = pasteFragment(get().graph, fragment, at ? { at } : {});
        edit(r.graph, undefined, { nodes: new Set(r.nodeIds), edges: new Set() });
        return r.nodeIds;
      },
      duplicate() {
        const s = get();
        if (s.selection.nodes.size === 0) return [];
        return get().paste(copyFragment(s.graph, s.selection.nodes));
      },
      undo: () => travel(undo(get().history)),
      redo: () => travel(redo(get().history)),
      seal() {
        const history = seal(get().history);
        if (history !== get().history) set({ history });
      },
      canUndo: () => canUndo(get().history),
      canRedo: () => canRedo(get().history),
      isDirty: () => get().graph !== get().saved,
      load(graph, filePath, opts = {}) {
        const g = doc.withEdgeIds(graph);
        set({ history: createHistory(g), ...derive(g), selection: none, saved: opts.dirty ? doc.emptyGraph() : g, filePath, loadCount: get().loadCount + 1 });
      },
      markSaved(graph, filePath) {
        // The graph that was written may be older than the present one (edits during the save).
        set({ saved: graph, filePath });
      },
    };
  });
}
