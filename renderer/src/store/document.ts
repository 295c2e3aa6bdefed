// The graph document and the pure edits on it. Every edit takes a graph and
// returns a new one (immer keeps the untouched parts shared), so undo is a
// list of snapshots and "dirty" is a reference comparison.
import { produce } from 'immer';
import { registry } from '../../../engine/blocks/registry.js';
import { defaultParams } from '../../../engine/blocks/params.js';
import { GRAPH_FORMAT, GRAPH_VERSION } from '../../../engine/graph/schema.js';
import { COMPOSITE_INPUT, COMPOSITE_OUTPUT, compositeIdOf } from '../../../engine/shapes/composite.js';
import type { Endpoint, GraphEdge, GraphFile, GraphNode } from '../../../engine/graph/types.js';

export type { Endpoint, GraphEdge, GraphFile, GraphNode };

export interface XY {
  x: number;
  y: number;
}

/** An edge as the editor keeps it: always with an id. */
export type EditorEdge = GraphEdge & { id: string };

export function emptyGraph(name = 'untitled'): GraphFile {
  return { format: GRAPH_FORMAT, version: GRAPH_VERSION, name, nodes: [], edges: [] };
}

/** Gives every edge an id, at the top and inside composites (files may leave them out); returns the graph itself when nothing is missing. */
export function withEdgeIds(graph: GraphFile): GraphFile {
  const complete = (edges: readonly GraphEdge[]) => edges.every((e) => typeof e.id === 'string' && e.id);
  if (complete(graph.edges) && (graph.composites ?? []).every((c) => complete(c.edges))) return graph;
  const fill = (edges: GraphEdge[]) => {
    const used = new Set(edges.map((e) => e.id).filter((id): id is string => !!id));
    for (const e of edges) if (!e.id) e.id = freshId(used, 'e');
  };
  return produce(graph, (g) => {
    fill(g.edges);
    for (const c of g.composites ?? []) fill(c.edges);
  });
}

/** `${stem}1`, `${stem}2`, …: the first one not in `used` (which it joins). */
export function freshId(used: Set<string>, stem: string): string {
  for (let k = 1; ; k++) {
    const id = `${stem}${k}`;
    if (!used.has(id)) {
      used.add(id);
      return id;
    }
  }
}

/** A short readable id from the block type: `core.conv2d` -> `conv2d_1`, `composite:stage` -> `stage_1`. */
export function nodeIdFor(graph: GraphFile, type: string, taken: Set<string> = new Set(graph.nodes.map((n) => n.id))): string {
  const stem = `${(compositeIdOf(type) ?? type.split('.').pop() ?? 'node').replace(/[^A-Za-z0-9_]/g, '_')}_`;
  return freshId(taken, stem);
}

export function edgeIdFor(graph: GraphFile, taken: Set<string> = new Set(graph.edges.map((e) => e.id ?? ''))): string {
  return freshId(taken, 'e');
}

/**
 * Adds a node of a registry block, of a composite the file defines
 * (`composite:<id>`), or a composite port node (inside a composite; it gets a
 * port name of its own).
 */
export function addNode(graph: GraphFile, type: string, position: XY, params?: Record<string, unknown>): { graph: GraphFile; id: string } {
  const id = nodeIdFor(graph, type);
  const node: GraphNode = { id, type, params: params ?? initialParams(graph, type), position: round(position) };
  return { graph: produce(graph, (g) => void g.nodes.push(node)), id };
}

function initialParams(graph: GraphFile, type: string): Record<string, unknown> {
  const composite = compositeIdOf(type);
  if (composite !== undefined) {
    if (!graph.composites?.some((c) => c.id === composite)) throw new Error(`unknown composite "${composite}"`);
    return {};
  }
  if (type === COMPOSITE_INPUT || type === COMPOSITE_OUTPUT) {
    const stem = type === COMPOSITE_INPUT ? 'in' : 'out';
    const used = new Set(graph.nodes.filter((n) => n.type === type).map((n) => n.params.name ?? stem));
    let name = stem;
    for (let k = 2; used.has(name); k++) name = `${stem}${k}`;
    return { name };
  }
  const block = registry.get(type);
  if (!block) throw new Error(`unknown block type "${type}"`);
  return { ...defaultParams(block) };
}

const round = (p: XY): XY => ({ x: Math.round(p.x), y: Math.round(p.y) });

/** Removes nodes (with every edge touching them) and edges. */
export function removeElements(graph: GraphFile, nodeIds: Iterable<string>, edgeIds: Iterable<string> = []): GraphFile {
  const nodes = new Set(nodeIds);
  const edges = new Set(edgeIds);
  if (nodes.size === 0 && edges.size === 0) return graph;
  const keepEdge = (e: GraphEdge) => !edges.has(e.id ?? '') && !nodes.has(e.from.node) && !nodes.has(e.to.node);
  if (graph.nodes.every((n) => !nodes.has(n.id)) && graph.edges.every(keepEdge)) return graph;
  return produce(graph, (g) => {
    g.nodes = g.nodes.filter((n) => !nodes.has(n.id));
    g.edges = g.edges.filter(keepEdge);
  });
}

/** The edge that feeds an input port, if any. */
export function edgeInto(graph: GraphFile, to: Endpoint): GraphEdge | undefined {
  return graph.edges.find((e) => e.to.node === to.node && e.to.port === to.port);
}

/** Connects an output to an input; an input takes one edge, so an existing one is replaced. */
export function connect(graph: GraphFile, from: Endpoint, to: Endpoint): { graph: GraphFile; id: string } {
  const old = edgeInto(graph, to);
  if (old && old.from.node === from.node && old.from.port === from.port) return { graph, id: old.id ?? '' };
  const id = edgeIdFor(graph);
  const next = produce(graph, (g) => {
    g.edges = g.edges.filter((e) => !(e.to.node === to.node && e.to.port === to.port));
    g.edges.push({ id, from: { ...from }, to: { ...to } });
  });
  return { graph: next, id };
}

export function moveNodes(graph: GraphFile, positions: Record<string, XY>): GraphFile {
  const changed = graph.nodes.some((n) => {
    const p = positions[n.id];
    return p && (Math.round(p.x) !== n.position.x || Math.round(p.y) !== n.position.y);
  });
  if (!changed) return graph;
  return produce(graph, (g) => {
    for (const n of g.nodes) {
      const p = positions[n.id];
      if (p) n.position = round(p);
    }
  });
}

/** Sets one parameter; `undefined` removes it so the default applies. */
export function setParam(graph: GraphFile, nodeId: string, name: string, value: unknown): GraphFile {
  const node = graph.nodes.find((n) => n.id === nodeId);
  if (!node || sameValue(node.params[name], value)) return graph;
  return produce(graph, (g) => {
    const n = g.nodes.find((x) => x.id === nodeId)!;
    if (value === undefined) delete n.params[name];
    else n.params[name] = Array.isArray(value) ? [...value] : value;
  });
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

export function setLabel(graph: GraphFile, nodeId: string, label: string): GraphFile {
  const node = graph.nodes.find((n) => n.id === nodeId);
  const next = label.trim() || undefined;
  if (!node || node.label === next) return graph;
  return produce(graph, (g) => {
    const n = g.nodes.find((x) => x.id === nodeId)!;
    if (next === undefined) delete n.label;
    else n.label = next;
  });
}

export function renameGraph(graph: GraphFile, name: string): GraphFile {
  return graph.name === name ? graph : produce(graph, (g) => void (g.name = name));
}

/** Bypasses (or restores) nodes: a bypassed node passes its input through, and the file keeps `bypass: true`. */
export function setBypass(graph: GraphFile, nodeIds: Iterable<string>, on: boolean): GraphFile {
  const ids = new Set(nodeIds);
  if (graph.nodes.every((n) => !ids.has(n.id) || (n.bypass === true) === on)) return graph;
  return produce(graph, (g) => {
    for (const n of g.nodes)
      if (ids.has(n.id)) {
        if (on) n.bypass = true;
        else delete n.bypass;
      }
  });
}

/** Adds a comment (a note or frame behind the nodes) at a point. */
export function addComment(graph: GraphFile, position: XY, text = 'Comment'): { graph: GraphFile; id: string } {
  const id = freshId(new Set((graph.comments ?? []).map((c) => c.id)), 'comment');
  const comment = { id, text, position: round(position), size: { width: 360, height: 220 } };
  return { graph: produce(graph, (g) => void (g.comments = [...(g.comments ?? []), comment])), id };
}

/** Changes a comment's text, place or size; a frame moved carries `nodes` (the nodes inside it) to their new places in the same edit. */
export function updateComment(
  graph: GraphFile,
  id: string,
  change: { text?: string; position?: XY; size?: { width: number; height: number }; nodes?: Record<string, XY> },
): GraphFile {
  const i = (graph.comments ?? []).findIndex((c) => c.id === id);
  if (i === -1) return graph;
  const updated = produce(graph, (g) => {
    const c = g.comments![i];
    if (change.text !== undefined) c.text = change.text;
    if (change.position) c.position = round(change.position);
    if (change.size) c.size = { width: Math.max(80, Math.round(change.size.width)), height: Math.max(40, Math.round(change.size.height)) };
  });
  return change.nodes ? moveNodes(updated, change.nodes) : updated;
}

export function removeComment(graph: GraphFile, id: string): GraphFile {
  if (!(graph.comments ?? []).some((c) => c.id === id)) return graph;
  return produce(graph, (g) => {
    g.comments = g.comments!.filter((c) => c.id !== id);
    if (g.comments.length === 0) delete g.comments;
  });
}

/**
 * Sets a wire's reroute points (drawn through in order). `at` adds one point,
 * put between the two neighbours it lies closest to the line between.
 */
export function setReroutes(graph: GraphFile, edgeId: string, via: XY[]): GraphFile {
  const i = graph.edges.findIndex((e) => e.id === edgeId);
  if (i === -1) return graph;
  return produce(graph, (g) => {
    if (via.length) g.edges[i].via = via.map(round);
    else delete g.edges[i].via;
  });
}
