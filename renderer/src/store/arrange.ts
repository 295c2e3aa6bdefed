// Align and distribute: new positions for the chosen nodes, from their
// positions and on-screen sizes (the canvas measures them).
import type { GraphFile, XY } from './document.js';

export type Alignment = 'left' | 'top' | 'centerX' | 'centerY';
export type Axis = 'horizontal' | 'vertical';
export interface Size {
  width: number;
  height: number;
}

const DEFAULT_SIZE: Size = { width: 196, height: 100 };

function boxes(graph: GraphFile, ids: ReadonlySet<string>, sizes: ReadonlyMap<string, Size>) {
  return graph.nodes.filter((n) => ids.has(n.id)).map((n) => ({ id: n.id, ...n.position, ...(sizes.get(n.id) ?? DEFAULT_SIZE) }));
}

/** Lines the nodes up on their left or top edges, or their centres (the selection's mean). */
export function align(graph: GraphFile, ids: ReadonlySet<string>, how: Alignment, sizes: ReadonlyMap<string, Size> = new Map()): Record<string, XY> {
  const bs = boxes(graph, ids, sizes);
  if (bs.length < 2) return {};
  const out: Record<string, XY> = {};
  const mean = (f: (b: (typeof bs)[number]) => number) => bs.reduce((s, b) => s + f(b), 0) / bs.length;
  if (how === 'left') {
    const x = Math.min(...bs.map((b) => b.x));
    for (const b of bs) out[b.id] = { x, y: b.y };
  } else if (how === 'top') {
    const y = Math.min(...bs.map((b) => b.y));
    for (const b of bs) out[b.id] = { x: b.x, y };
  } else if (how === 'centerX') {
    const c = mean((b) => b.x + b.width / 2);
    for (const b of bs) out[b.id] = { x: c - b.width / 2, y: b.y };
  } else {
    const c = mean((b) => b.y + b.height / 2);
    for (const b of bs) out[b.id] = { x: b.x, y: c - b.height / 2 };
  }
  return out;
}

/** Spaces the nodes with equal gaps between them along one axis, the outermost two staying where they are. */
export function distribute(graph: GraphFile, ids: ReadonlySet<string>, axis: Axis, sizes: ReadonlyMap<string, Size> = new Map()): Record<string, XY> {
  const bs = boxes(graph, ids, sizes);
  if (bs.length < 3) return {};
  const [pos, len] = axis === 'horizontal' ? (['x', 'width'] as const) : (['y', 'height'] as const);
  bs.sort((a, b) => a[pos] - b[pos]);
  const first = bs[0];
  const last = bs[bs.length - 1];
  const used = bs.reduce((s, b) => s + b[len], 0);
  const gap = (last[pos] + last[len] - first[pos] - used) / (bs.length - 1);
  const out: Record<string, XY> = {};
  let at = first[pos];
  for (const b of bs) {
    out[b.id] = axis === 'horizontal' ? { x: at, y: b.y } : { x: b.x, y: at };
    at += b[len] + gap;
  }
  return out;
}
