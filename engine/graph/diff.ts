// What differs between two graphs: nodes added, removed, or changed (block
// type, parameters), and edges added or removed. Node ids match nodes up;
// positions and labels do not count. Pure, so the renderer draws it too.
import type { GraphEdge, GraphFile } from './types.js';

export interface ParamChange {
  param: string;
  /** Undefined where the parameter is not set (the block's default applies). */
  before?: unknown;
  after?: unknown;
}

export interface NodeChange {
  id: string;
  /** Set when the block type changed. */
  type?: { before: string; after: string };
  params: ParamChange[];
}

export interface GraphDiff {
  added: { id: string; type: string }[];
  removed: { id: string; type: string }[];
  changed: NodeChange[];
  edgesAdded: string[];
  edgesRemoved: string[];
}

const edgeKey = (e: GraphEdge) => `${e.from.node}.${e.from.port} -> ${e.to.node}.${e.to.port}`;
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function diffGraphs(before: GraphFile, after: GraphFile): GraphDiff {
  const old = new Map(before.nodes.map((n) => [n.id, n]));
  const now = new Map(after.nodes.map((n) => [n.id, n]));
  const changed: NodeChange[] = [];
  for (const [id, b] of old) {
    const a = now.get(id);
    if (!a) continue;
    const names = [...new Set([...Object.keys(b.params ?? {}), ...Object.keys(a.params ?? {})])].sort();
    const params = names.filter((p) => !same(b.params?.[p], a.params?.[p])).map((param) => ({ param, before: b.params?.[param], after: a.params?.[param] }));
    if (params.length || a.type !== b.type) changed.push({ id, ...(a.type !== b.type && { type: { before: b.type, after: a.type } }), params });
  }
  const oldEdges = new Set(before.edges.map(edgeKey));
  const newEdges = new Set(after.edges.map(edgeKey));
  return {
    added: after.nodes.filter((n) => !old.has(n.id)).map((n) => ({ id: n.id, type: n.type })),
    removed: before.nodes.filter((n) => !now.has(n.id)).map((n) => ({ id: n.id, type: n.type })),
    changed,
    edgesAdded: [...newEdges].filter((e) => !oldEdges.has(e)),
    edgesRemoved: [...oldEdges].filter((e) => !newEdges.has(e)),
  };
}

export const isEmptyDiff = (d: GraphDiff) => !d.added.length && !d.removed.length && !d.changed.length && !d.edgesAdded.length && !d.edgesRemoved.length;
