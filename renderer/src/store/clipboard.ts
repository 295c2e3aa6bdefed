// Cut, copy, paste and duplicate. The clipboard holds a small graph fragment:
// the chosen nodes and the edges between them, as JSON text so it also travels
// through the system clipboard.
import { produce } from 'immer';
import { registry } from '../../../engine/blocks/registry.js';
import { COMPOSITE_INPUT, COMPOSITE_OUTPUT, compositeIdOf } from '../../../engine/shapes/composite.js';
import type { GraphEdge, GraphFile, GraphNode } from '../../../engine/graph/types.js';
import { edgeIdFor, nodeIdFor, type XY } from './document.js';

export const CLIPBOARD_KIND = 'attention-studio.fragment';

export interface Fragment {
  kind: typeof CLIPBOARD_KIND;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export function copyFragment(graph: GraphFile, nodeIds: Iterable<string>): Fragment {
  const ids = new Set(nodeIds);
  return {
    kind: CLIPBOARD_KIND,
    nodes: graph.nodes.filter((n) => ids.has(n.id)),
    edges: graph.edges.filter((e) => ids.has(e.from.node) && ids.has(e.to.node)),
  };
}

export const fragmentText = (f: Fragment): string => JSON.stringify(f);

/** Node types a fragment may hold: blocks, and composites and their ports (the canvas shows what they resolve to where they land). */
const pasteable = (type: string) => registry.has(type) || compositeIdOf(type) !== undefined || type === COMPOSITE_INPUT || type === COMPOSITE_OUTPUT;

/** Reads clipboard text back; anything that is not a fragment of known blocks gives undefined. */
export function parseFragment(text: string): Fragment | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  const f = doc as Partial<Fragment>;
  if (!f || f.kind !== CLIPBOARD_KIND || !Array.isArray(f.nodes) || !Array.isArray(f.edges)) return undefined;
  const ok = f.nodes.every(
    (n) =>
      n &&
      typeof n.id === 'string' &&
      typeof n.type === 'string' &&
      pasteable(n.type) &&
      n.params &&
      typeof n.params === 'object' &&
      Number.isFinite(n.position?.x) &&
      Number.isFinite(n.position?.y),
  );
  const ids = new Set(f.nodes.map((n) => n.id));
  const edgesOk = f.edges.every((e) => e && ids.has(e.from?.node) && ids.has(e.to?.node) && typeof e.from.port === 'string' && typeof e.to.port === 'string');
  return ok && edgesOk ? (f as Fragment) : undefined;
}

/**
 * Adds a fragment with fresh ids. Placed with its top-left corner at `at`, or
 * shifted by `offset` from where it was copied.
 */
export function pasteFragment(graph: GraphFile, f: Fragment, place: { at?: XY; offset?: XY } = {}): { graph: GraphFile; nodeIds: string[] } {
  if (f.nodes.length === 0) return { graph, nodeIds: [] };
  const minX = Math.min(...f.nodes.map((n) => n.position.x));
  const minY = Math.min(...f.nodes.map((n) => n.position.y));
  const shift = place.at ? { x: place.at.x - minX, y: place.at.y - minY } : (place.offset ?? { x: 40, y: 40 });
  const takenNodes = new Set(graph.nodes.map((n) => n.id));
  const takenEdges = new Set(graph.edges.map((e) => e.id ?? ''));
  const rename = new Map<string, string>();
  for (const n of f.nodes) rename.set(n.id, nodeIdFor(graph, n.type, takenNodes));
  const next = produce(graph, (g) => {
    for (const n of f.nodes)
      g.nodes.push({
        ...structuredClone(n),
        id: rename.get(n.id)!,
        position: { x: Math.round(n.position.x + shift.x), y: Math.round(n.position.y + shift.y) },
      });
    for (const e of f.edges)
      g.edges.push({
        ...structuredClone(e),
        id: edgeIdFor(graph, takenEdges),
        from: { node: rename.get(e.from.node)!, port: e.from.port },
        to: { node: rename.get(e.to.node)!, port: e.to.port },
      });
  });
  return { graph: next, nodeIds: f.nodes.map((n) => rename.get(n.id)!) };
}
