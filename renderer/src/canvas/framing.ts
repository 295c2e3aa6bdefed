// Where the view goes when a graph opens or is laid out: at a zoom where the
// smallest text on a node is 11 px on screen, its left edge (the nodes no wire
// enters: inputs, where data starts) at the left of the canvas, centred on them.
import type { GraphFile } from '../../../engine/graph/types.js';
import { NODE_SMALLEST_FONT_PX } from './nodeBox.js';

/** The zoom at which every text on a node is at least 11 px on screen. */
export const READABLE_ZOOM = 11 / NODE_SMALLEST_FONT_PX;
/** The least zoom a graph is fitted whole at when it opens: its smallest text 9 px on screen. Smaller, it opens at its input end. */
export const MIN_FIT_ZOOM = 9 / NODE_SMALLEST_FONT_PX;
/** Room left of the first nodes, in screen px (their input handles and a little air). */
const LEFT_MARGIN = 40;
const TOP_MARGIN = 30;
/** The minimap (React Flow's 200×150, 15 px from the corner) and some air: the bottom band framing keeps nodes out of. */
export const MINIMAP_CLEARANCE = 150 + 15 + 10;
/** Fitting the whole graph: a margin, and the bottom band clear of the minimap. */
export const FIT_PADDING = { top: '30px', left: '40px', right: '40px', bottom: `${MINIMAP_CLEARANCE}px` } as const;

export interface Viewport {
  x: number;
  y: number;
  zoom: number;
}

/**
 * The viewport showing the input end of `graph` readably in a canvas `height` px
 * tall, centred in the part above the minimap's band (top-aligned if taller); null for an empty graph.
 */
export function inputEndViewport(graph: GraphFile, height: number, nodeHeight: (id: string) => number): Viewport | null {
  if (graph.nodes.length === 0) return null;
  const entered = new Set(graph.edges.map((e) => e.to.node));
  const sources = graph.nodes.filter((n) => !entered.has(n.id));
  const start = sources.length ? sources : graph.nodes;
  const left = Math.min(...graph.nodes.map((n) => n.position.x));
  const top = Math.min(...start.map((n) => n.position.y));
  const bottom = Math.max(...start.map((n) => n.position.y + nodeHeight(n.id)));
  const zoom = READABLE_ZOOM;
  const room = Math.max(0, height - MINIMAP_CLEARANCE);
  const y = Math.max(room / 2 - ((top + bottom) / 2) * zoom, TOP_MARGIN - top * zoom);
  return { x: LEFT_MARGIN - left * zoom, y, zoom };
}

let inputEndNext = false;
/** The next graph loaded opens at its input end (inputEndViewport), not fitted whole. */
export function frameInputEndOnNextLoad(): void {
  inputEndNext = true;
}
/** Whether the load being shown asked for the input end; asking clears it. */
export function takeInputEndRequest(): boolean {
  const asked = inputEndNext;
  inputEndNext = false;
  return asked;
}
