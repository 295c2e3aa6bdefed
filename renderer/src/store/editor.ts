// The editor's state: the graph document with its undo history, the selection,
// the clipboard and the file it belongs to. A zustand store without React so
// that it runs (and is tested) in Node; the UI subscribes through `useEditor`.
//
// The canvas edits one scope at a time: the graph, or the inside of a composite
// (`scope`, the breadcrumb). Node and edge edits, the selection and the
// clipboard work on the scope shown (`view`); `graph`, `analysis` and
// `diagnostics` always describe the whole file.
import { createStore, type StoreApi } from 'zustand/vanilla';
import { analyzeGraph, type GraphAnalysis } from '../../../engine/shapes/analyze.js';
import type { Endpoint, GraphFile } from '../../../engine/graph/types.js';
import { checkConnection, type ConnectionVerdict } from './connection.js';
import { copyFragment, pasteFragment, type Fragment } from './clipboard.js';
import { indexDiagnostics, type DiagnosticIndex } from './diagnostics.js';
import * as doc from './document.js';
import { groupNodes, setCompositeLabel, ungroupNode, type GroupResult, type UngroupResult } from './composites.js';
import { bypassProblem } from '../../../engine/shapes/analyze.js';
import { fmtShape } from '../../../engine/blocks/shape-rules.js';
import { compositeIdOf } from '../../../engine/shapes/composite.js';
import { compositeDef, putScope, scopeView, TOP, validScope, type Scope, type ScopeView } from './scope.js';
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
  /** The composites whose inside the canvas shows, outermost first; [] for the graph itself. */
  scope: Scope;
  /** The scope shown: its nodes and edges, their blocks, shapes and problems. */
  view: ScopeView;
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
  /** Moves the selected nodes into a new composite, with one instance in their place (selected). */
  groupSelection(label?: string): GroupResult;
  /** Shows the inside of a composite: by an instance node in the scope shown, or by the composite's id. */
  enterComposite(target: { node: string } | { composite: string }): boolean;
  /** Goes back out to `depth` levels of the breadcrumb (0: the graph itself). */
  exitScope(depth?: number): void;
  setCompositeLabel(id: string, label: string): void;
  /** Replaces a composite node by its inside (the inverse of grouping); the new nodes are selected. */
  ungroup(nodeId: string): UngroupResult;
  /**
   * Bypasses the nodes (or restores them when all already are). Refused, naming
   * the node, when one cannot pass its input through: it needs one input and
   * one output of the same shape.
   */
  toggleBypass(nodeIds: Iterable<string>): { ok: true; on: boolean } | { ok: false; reason: string };
  /** Comments of the scope shown: on the graph itself or inside the composite opened. */
  addComment(at: doc.XY, text?: string): string;
  updateComment(id: string, change: Parameters<typeof doc.updateComment>[2], gesture?: string): void;
  removeComment(id: string): void;
  /** Adds a reroute point to a wire of the scope shown, in left-to-right order with its others. */
  addReroute(edgeId: string, at: doc.XY): void;
  /** Moves reroute point `index` of a wire; `at` null removes it. */
  moveReroute(edgeId: string, index: number, at: doc.XY | null, gesture?: string): void;
}

export type Editor = EditorState & EditorActions;
export type EditorStore = StoreApi<Editor>;

const none: Selection = { nodes: new Set(), edges: new Set() };

/** Analysis only depends on ids, types, params, bypass and edges (and those of the composites): a move reuses the last one. */
function sameModel(a: GraphFile, b: GraphFile): boolean {
  const sameNodes = (x: GraphFile['nodes'], y: GraphFile['nodes']) =>
    x === y ||
    (x.length === y.length &&
      x.every((n, i) => {
        const m = y[i];
        return n.id === m.id && n.type === m.type && n.params === m.params && n.label === m.label && n.bypass === m.bypass;
      }));
  const ca = a.composites ?? [];
  const cb = b.composites ?? [];
  return (
    a.edges === b.edges &&
    sameNodes(a.nodes, b.nodes) &&
    (ca === cb ||
      (ca.length === cb.length &&
        ca.every((c, i) => {
          const d = cb[i];
          return c.id === d.id && c.label === d.label && c.doc === d.doc && c.edges === d.edges && sameNodes(c.nodes, d.nodes);
        })))
  );
}

interface Derived {
  graph: GraphFile;
  analysis: GraphAnalysis;
  diagnostics: DiagnosticIndex;
  scope: Scope;
  view: ScopeView;
}

function derive(graph: GraphFile, scope: Scope, prev?: Derived): Derived {
  scope = validScope(graph, scope);
  if (prev && prev.graph === graph && prev.scope === scope) return prev;
  let { analysis, diagnostics } = prev ?? {};
  if (!prev || !(prev.graph === graph || sameModel(prev.graph, graph))) {
    analysis = analyzeGraph(graph);
    diagnostics = indexDiagnostics(graph, analysis.diagnostics);
  }
  const view = scopeView(graph, analysis!, diagnostics!, scope);
  return { graph, analysis: analysis!, diagnostics: diagnostics!, scope, view };
}

const pick = ({ graph, analysis, diagnostics, scope, view }: Derived): Derived => ({ graph, analysis, diagnostics, scope, view });

export function createEditorStore(initial: GraphFile = doc.emptyGraph()): EditorStore {
  const start = doc.withEdgeIds(initial);
  return createStore<Editor>()((set, get) => {
    /** Applies an edit to the graph as one undo step (or part of the open one). */
    const edit = (next: GraphFile, coalesce?: string, selection?: Selection) => {
      const s = get();
      const history = record(s.history, next, coalesce);
      if (history === s.history && !selection) return;
      set({ history, ...derive(history.present, s.scope, pick(s)), ...(selection ? { selection } : {}) });
    };
    /** An edit of the scope shown, written back into the file. */
    const editView = (fn: (view: GraphFile) => GraphFile, coalesce?: string, selection?: Selection) => {
      const s = get();
      edit(putScope(s.graph, s.scope, fn(s.view.graph)), coalesce, selection);
    };
    const travel = (history: History<GraphFile>) => {
      const s = get();
      const d = derive(history.present, s.scope, pick(s));
      const ids = new Set(d.view.graph.nodes.map((n) => n.id));
      const edgeIds = new Set(d.view.graph.edges.map((e) => e.id ?? ''));
      const kept = d.scope.length === s.scope.length;
      const selection = kept
        ? { nodes: new Set([...s.selection.nodes].filter((id) => ids.has(id))), edges: new Set([...s.selection.edges].filter((id) => edgeIds.has(id))) }
        : none;
      set({ history, ...d, selection });
    };
    const goTo = (scope: Scope, selection: Selection = none) => {
      const s = get();
      set({ ...derive(s.graph, scope, pick(s)), selection, history: seal(s.history) });
    };

    return {
      history: createHistory(start),
      ...derive(start, TOP),
      selection: none,
      saved: start,
      filePath: null,
      clipboard: null,
      loadCount: 0,

      addBlock(type, position, params) {
        const r = doc.addNode(get().view.graph, type, position, params);
        editView(() => r.graph, undefined, { nodes: new Set([r.id]), edges: new Set() });
        return r.id;
      },
      checkConnection(from, to) {
        const s = get();
        return checkConnection(s.graph, from, to, s.analysis, s.scope);
      },
      connect(from, to) {
        const verdict = get().checkConnection(from, to);
        if (verdict.ok) editView((v) => doc.connect(v, from, to).graph);
        return verdict;
      },
      moveNodes(positions, gesture) {
        editView((v) => doc.moveNodes(v, positions), gesture && `move:${[...get().scope, gesture].join('/')}`);
      },
      setParam(nodeId, name, value) {
        editView((v) => doc.setParam(v, nodeId, name, value), `param:${[...get().scope, nodeId].join('/')}:${name}`);
      },
      setLabel(nodeId, label) {
        editView((v) => doc.setLabel(v, nodeId, label), `label:${[...get().scope, nodeId].join('/')}`);
      },
      rename(name) {
        edit(doc.renameGraph(get().graph, name), 'rename');
      },
      deleteSelection() {
        const { nodes, edges } = get().selection;
        get().deleteElements(nodes, edges);
      },
      deleteElements(nodeIds, edgeIds = []) {
        editView((v) => doc.removeElements(v, nodeIds, edgeIds), undefined, none);
      },
      select(nodes, edges = []) {
        set({ selection: { nodes: new Set(nodes), edges: new Set(edges) } });
      },
      selectAll() {
        const g = get().view.graph;
        get().select(
          g.nodes.map((n) => n.id),
          g.edges.map((e) => e.id ?? ''),
        );
      },
      copy() {
        const s = get();
        if (s.selection.nodes.size === 0) return null;
        const fragment = copyFragment(s.view.graph, s.selection.nodes);
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
        const r = pasteFragment(get().view.graph, fragment, at ? { at } : {});
        editView(() => r.graph, undefined, { nodes: new Set(r.nodeIds), edges: new Set() });
        return r.nodeIds;
      },
      duplicate() {
        const s = get();
        if (s.selection.nodes.size === 0) return [];
        return get().paste(copyFragment(s.view.graph, s.selection.nodes));
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
        set({
          history: createHistory(g),
          ...derive(g, TOP),
          selection: none,
          saved: opts.dirty ? doc.emptyGraph() : g,
          filePath,
          loadCount: get().loadCount + 1,
        });
      },
      markSaved(graph, filePath) {
        // The graph that was written may be older than the present one (edits during the save).
        set({ saved: graph, filePath });
      },
      groupSelection(label) {
        const s = get();
        const r = groupNodes(s.graph, s.scope, s.selection.nodes, label);
        if (r.ok) edit(r.graph, undefined, { nodes: new Set([r.nodeId]), edges: new Set() });
        return r;
      },
      enterComposite(target) {
        const s = get();
        const id = 'node' in target ? compositeIdOf(s.view.graph.nodes.find((n) => n.id === target.node)?.type ?? '') : target.composite;
        if (id === undefined || !compositeDef(s.graph, id)) return false;
        // Opening a composite from the palette while inside it (or inside one it contains) goes back to that level.
        const at = s.scope.indexOf(id);
        goTo(at === -1 ? [...s.scope, id] : s.scope.slice(0, at + 1));
        return true;
      },
      exitScope(depth = get().scope.length - 1) {
        const s = get();
        if (depth < 0 || depth >= s.scope.length) return;
        // Back out with the instance just left selected.
        const from = s.scope[depth];
        const outer = s.scope.slice(0, depth);
        const instance = derive(s.graph, outer, pick(s)).view.graph.nodes.find((n) => compositeIdOf(n.type) === from);
        goTo(outer, instance ? { nodes: new Set([instance.id]), edges: new Set() } : none);
      },
      setCompositeLabel(id, label) {
        edit(setCompositeLabel(get().graph, id, label), `composite-label:${id}`);
      },
      ungroup(nodeId) {
        const s = get();
        const r = ungroupNode(s.graph, s.scope, nodeId);
        if (r.ok) edit(r.graph, undefined, { nodes: new Set(r.nodeIds), edges: new Set() });
        return r;
      },
      addComment(at, text) {
        const r = doc.addComment(get().view.graph, at, text);
        editView(() => r.graph);
        return r.id;
      },
      updateComment(id, change, gesture) {
        editView((v) => doc.updateComment(v, id, change), gesture && `comment:${[...get().scope, id].join('/')}:${gesture}`);
      },
      removeComment(id) {
        editView((v) => doc.removeComment(v, id));
      },
      addReroute(edgeId, at) {
        const via = get().view.graph.edges.find((e) => e.id === edgeId)?.via ?? [];
        const i = via.findIndex((p) => p.x > at.x);
        const next = i === -1 ? [...via, at] : [...via.slice(0, i), at, ...via.slice(i)];
        editView((v) => doc.setReroutes(v, edgeId, next));
      },
      moveReroute(edgeId, index, at, gesture) {
        const via = get().view.graph.edges.find((e) => e.id === edgeId)?.via ?? [];
        if (index < 0 || index >= via.length) return;
        const next = at ? via.map((p, k) => (k === index ? at : p)) : via.filter((_, k) => k !== index);
        editView((v) => doc.setReroutes(v, edgeId, next), gesture && `reroute:${edgeId}:${gesture}`);
      },
      toggleBypass(nodeIds) {
        const s = get();
        const ids = [...nodeIds];
        const nodes = s.view.graph.nodes.filter((n) => ids.includes(n.id));
        if (nodes.length === 0) return { ok: false, reason: 'select the nodes to bypass first' };
        const on = !nodes.every((n) => n.bypass === true);
        if (on)
          for (const n of nodes) {
            const info = s.view.analysis.nodes.get(n.id);
            if (!info) return { ok: false, reason: `node "${n.id}" has problems of its own: fix them first` };
            const problem = bypassProblem(info);
            if (problem) return { ok: false, reason: problem };
            const input = info.inputShapes[info.inputs[0].name];
            const output = info.outputShapes?.[info.outputs[0].name];
            if (input && output && fmtShape(input) !== fmtShape(output))
              return {
                ok: false,
                reason: `node "${n.id}" cannot be bypassed: it turns ${fmtShape(input)} into ${fmtShape(output)}, so passing its input through would change the shapes after it`,
              };
          }
        editView((v) => doc.setBypass(v, ids, on));
        return { ok: true, on };
      },
    };
  });
}
