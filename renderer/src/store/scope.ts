// Editing inside composites. The canvas shows one scope at a time: the graph
// itself, or the inside of a composite definition (reached through a stack of
// composite ids, the breadcrumb). A scope is seen as a graph of its own (its
// nodes and edges), so every document edit works on it unchanged; `putScope`
// writes the edited scope back into its definition, which every instance uses.
import { produce } from 'immer';
import { portsOf, type AnyBlock } from '../../../engine/blocks/contract.js';
import { resolveParams } from '../../../engine/blocks/params.js';
import { registry } from '../../../engine/blocks/registry.js';
import { analyzeGraph, type GraphAnalysis, type NodeInfo, type ScopeAnalysis } from '../../../engine/shapes/analyze.js';
import { COMPOSITE_INPUT, COMPOSITE_OUTPUT, compositeIdOf, compositeInputBlock, compositeOutputBlock } from '../../../engine/shapes/composite.js';
import type { CompositeDef, Diagnostic, GraphEdge, GraphFile } from '../../../engine/graph/types.js';
import { indexDiagnostics, type DiagnosticIndex } from './diagnostics.js';

/** Composite ids from the outermost in: [] is the graph itself. */
export type Scope = readonly string[];

export const TOP: Scope = [];

export const compositeDef = (graph: GraphFile, id: string): CompositeDef | undefined => graph.composites?.find((c) => c.id === id);

/** The longest prefix of `scope` whose composites still exist (after an undo, say). */
export function validScope(graph: GraphFile, scope: Scope): Scope {
  const n = scope.findIndex((id) => !compositeDef(graph, id));
  return n === -1 ? scope : scope.slice(0, n);
}

/** The scope as a graph: at the top the graph itself, inside a composite its nodes, edges and comments (with the file's composites). */
export function scopeGraph(graph: GraphFile, scope: Scope): GraphFile {
  if (scope.length === 0) return graph;
  const def = compositeDef(graph, scope[scope.length - 1]);
  if (!def) throw new Error(`no composite "${scope[scope.length - 1]}"`);
  return { ...graph, nodes: def.nodes, edges: def.edges, comments: def.comments };
}

/** Writes an edited scope graph back; the graph itself when nothing changed. */
export function putScope(graph: GraphFile, scope: Scope, view: GraphFile): GraphFile {
  if (scope.length === 0) return view;
  const id = scope[scope.length - 1];
  const i = (graph.composites ?? []).findIndex((c) => c.id === id);
  const def = graph.composites![i];
  if (view.nodes === def.nodes && view.edges === def.edges && view.comments === def.comments) return graph;
  return produce(graph, (g) => {
    const d = g.composites![i];
    d.nodes = view.nodes;
    d.edges = view.edges;
    if (view.comments) d.comments = view.comments;
    else delete d.comments;
  });
}

/** The block a node type stands for in a scope: registry blocks, the file's composites, and inside composites their port blocks. */
export function blockOf(type: string, analysis: GraphAnalysis, inside: boolean): AnyBlock | undefined {
  const cid = compositeIdOf(type);
  if (cid !== undefined) return analysis.composites.get(cid)?.block;
  if (inside && type === COMPOSITE_INPUT) return compositeInputBlock;
  if (inside && type === COMPOSITE_OUTPUT) return compositeOutputBlock;
  return registry.get(type);
}

/** What the canvas draws for a scope: its nodes' blocks and ports, shapes where known, and its problems. */
export interface ScopeView {
  scope: Scope;
  graph: GraphFile;
  analysis: Pick<ScopeAnalysis, 'nodes' | 'edgeShapes'>;
  diagnostics: DiagnosticIndex;
  /** Inside a composite: the instance whose shapes are shown (its path of node ids from the top), if any use gets shapes. */
  shapesFrom?: string[];
}

export function scopeView(graph: GraphFile, analysis: GraphAnalysis, diagnostics: DiagnosticIndex, scope: Scope): ScopeView {
  if (scope.length === 0) return { scope, graph, analysis, diagnostics };
  const view = scopeGraph(graph, scope);
  const { shapesFrom, ...inner } = scopeAnalysis(graph, analysis, scope);
  return {
    scope,
    graph: view,
    analysis: inner,
    diagnostics: indexDiagnostics(view, scopeDiagnostics(graph, analysis.diagnostics, scope[scope.length - 1])),
    shapesFrom,
  };
}

/** A scope's nodes (blocks, ports, and the shapes of the first use of the composite that gets shapes) and its edges' shapes. */
export function scopeAnalysis(graph: GraphFile, analysis: GraphAnalysis, scope: Scope): ScopeView['analysis'] & { shapesFrom?: string[] } {
  if (scope.length === 0) return analysis;
  const id = scope[scope.length - 1];
  const use = firstUse(analysis, id);
  if (use) return { nodes: use.copy.nodes, edgeShapes: use.copy.edgeShapes, shapesFrom: use.path };
  const view = scopeGraph(graph, scope);
  const nodes = bareInfos(view, analysis);
  const partial = shapesAroundProblems(graph, analysis, id);
  if (!partial) return { nodes, edgeShapes: [] };
  for (const [nodeId, info] of partial.use.copy.nodes) nodes.set(nodeId, info);
  const byEdge = new Map(partial.edges.map((e, i) => [e.id, partial.use.copy.edgeShapes[i]]));
  return { nodes, edgeShapes: view.edges.map((e) => byEdge.get(e.id)), shapesFrom: partial.use.path };
}

/**
 * A composite with a problem inside (a block not wired yet, a bad parameter)
 * gets no shapes at all from the analysis. While its inside is edited, the
 * nodes around the problem still get theirs: from the analysis of the file
 * with the nodes in error left out of the composite.
 */
function shapesAroundProblems(
  graph: GraphFile,
  analysis: GraphAnalysis,
  id: string,
): { use: NonNullable<ReturnType<typeof firstUse>>; edges: GraphEdge[] } | undefined {
  let g = graph;
  let a = analysis;
  for (let round = 0; round < 4; round++) {
    const broken = new Set(scopeDiagnostics(g, a.diagnostics, id).flatMap((d) => (d.severity === 'error' && d.nodeId !== undefined ? [d.nodeId] : [])));
    if (broken.size === 0) return undefined;
    g = produce(g, (draft) => {
      const c = draft.composites!.find((x) => x.id === id)!;
      c.nodes = c.nodes.filter((n) => !broken.has(n.id));
      c.edges = c.edges.filter((e) => !broken.has(e.from.node) && !broken.has(e.to.node));
    });
    a = analyzeGraph(g);
    const use = firstUse(a, id);
    if (use) return { use, edges: compositeDef(g, id)!.edges };
  }
  return undefined;
}

/** The first use of a composite that got shapes, searched breadth first from the top. */
function firstUse(analysis: GraphAnalysis, id: string): { copy: ScopeAnalysis; path: string[] } | undefined {
  const queue: { scope: ScopeAnalysis; path: string[] }[] = [{ scope: analysis, path: [] }];
  for (let qi = 0; qi < queue.length && qi < 10_000; qi++) {
    const { scope, path } = queue[qi];
    for (const n of scope.nodes.values()) {
      if (!n.composite || !n.copies?.length) continue;
      if (n.composite.id === id) return { copy: n.copies[0], path: [...path, n.id] };
      queue.push({ scope: n.copies[0], path: [...path, n.id] });
    }
  }
  return undefined;
}

/** Node infos without shapes, for a composite no use of which gets shapes: enough to draw its ports. */
function bareInfos(view: GraphFile, analysis: GraphAnalysis): Map<string, NodeInfo> {
  const nodes = new Map<string, NodeInfo>();
  for (const n of view.nodes) {
    const block = blockOf(n.type, analysis, true);
    if (!block || nodes.has(n.id)) continue;
    const { values } = resolveParams(block, n.params);
    try {
      const info: NodeInfo = {
        id: n.id,
        block,
        params: values,
        inputs: portsOf(block, values, 'inputs'),
        outputs: portsOf(block, values, 'outputs'),
        incoming: new Map(),
        inputShapes: {},
      };
      const composite = compositeIdOf(n.type);
      if (composite !== undefined) info.composite = analysis.composites.get(composite);
      nodes.set(n.id, info);
    } catch {
      // A node whose ports cannot be listed is drawn without them; the analysis reports why.
    }
  }
  return nodes;
}

const LEVEL = /^in composite "[^"]*"(?: \(copy \d+ of \d+\))?(?:, node "[^"]*"(?: port "([^"]*)")?)?: /;
const UNUSED = /^in composite "[^"]*" \(not used\)(?:, node "([^"]*)"(?: port "([^"]*)")?)?: /;

/**
 * The graph's diagnostics that concern the inside of composite `id`, moved onto
 * its inner nodes: a diagnostic's path runs from a top-level instance through
 * nested instances, so the step that enters `id` names the inner node.
 */
export function scopeDiagnostics(graph: GraphFile, diagnostics: readonly Diagnostic[], id: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const defs = new Map((graph.composites ?? []).map((c) => [c.id, c]));
  // Every use of a composite can report the same problem inside it: keep one.
  const seen = new Set<string>();
  const push = (d: Diagnostic) => {
    const key = `${d.nodeId ?? ''}|${d.port ?? ''}|${d.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(d);
    }
  };
  for (const d of diagnostics) {
    if (!d.path) {
      const m = d.composite === id ? UNUSED.exec(d.message) : null;
      if (m) push({ severity: d.severity, message: d.message.slice(m[0].length), ...(m[1] ? { nodeId: m[1] } : {}), ...(m[2] ? { port: m[2] } : {}) });
      continue;
    }
    const path = d.path;
    let nodes = graph.nodes;
    let message = d.message;
    for (let j = 0; j < path.length; j++) {
      const cid = compositeIdOf(nodes.find((n) => n.id === path[j])?.type ?? '');
      const def = cid === undefined ? undefined : defs.get(cid);
      if (!def) break;
      const m = LEVEL.exec(message);
      if (m) message = message.slice(m[0].length);
      if (cid === id) {
        // The rest of the path lies inside this composite; nothing left means a problem of the composite as a whole.
        const rest = path.slice(j + 1);
        const inner: Diagnostic = { severity: d.severity, message };
        if (rest.length) inner.nodeId = rest[0];
        if (rest.length > 1) inner.path = rest;
        if (rest.length === 1 && m?.[1]) inner.port = m[1];
        push(inner);
        break;
      }
      nodes = def.nodes;
    }
  }
  return out;
}
