// Where the view goes when a graph opens or is laid out: at a zoom where the
// smallest text on a node is 11 px on screen, its left edge (the nodes no wire
// enters: inputs, where data starts) at the left of the canvas, centred on them.
import type { GraphFile } from '../../../engine/graph/types.js';
import { NODE_SMALLEST_FONT_PX } from './nodeBox.js';

/** The zoom at which every text on a node is at least 11 px on screen. */
export const READABLE_ZOOM = 11 / NODE_SMALLEST_FONT_PX;
/** Room left of the first nodes, in screen px (their input handles and a little air). */
const LEFT_MARGIN = 40;

export interface Viewport {
  x: number;
  y: number;
  zoom: number;
}

/** The viewport showing the input end of `graph` readably in a canvas `height` px tall; null for an empty graph. */
export function inputEndViewport(graph: GraphFile, height: number, nodeHeight: (id: string) => number): Viewport | null {
  if (graph.nodes.length === 0) return null;
  const entered = new Set(graph.edges.map((e) => e.to.node));
  const sources = graph.nodes.filter((n) => !entered.has(n.id));
  const start = sources.length ? sources : graph.nodes;
  const left = Math.min(...graph.nodes.map((n) => n.position.x));
  const top = Math.min(...start.map((n) => n.position.y));
  const bottom = Math.max(...start.map((n) => n.position.y + nodeHeight(n.id)));
  const zoom = READABLE_ZOOM;
  return { x: LEFT_MARGIN - left * zoom, y: height / 2 - ((top + bottom) / 2) * zoom, zoom };
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
