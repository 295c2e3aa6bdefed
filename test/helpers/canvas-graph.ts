// The 500-node graph the canvas is measured and tested with: the residual
// stack of big-graph.ts laid out as a user would see it (the chain wrapping
// into rows, like auto-layout of a long network), with readable edge ids.
import type { GraphFile } from '../../engine/graph/types.js';
import { residualStack } from './big-graph.js';

export const CANVAS_NODES = 500;
/** The first conv of the first unit: editing its filters changes the shapes on its output edge. */
export const EDITED_NODE = 'c0a';
export const COLUMNS = 25;
const STEP = { x: 280, y: 240 };

/** The id given to the edge into `node`'s port `port`. */
export const edgeInto = (node: string, port: string) => `${node}_${port}`;

export function canvasGraph(nodes = CANVAS_NODES): GraphFile {
  const g = residualStack(nodes);
  return {
    ...g,
    name: `canvas bench (${nodes} nodes)`,
    nodes: g.nodes.map((n, i) => ({ ...n, position: { x: (i % COLUMNS) * STEP.x, y: Math.floor(i / COLUMNS) * STEP.y } })),
    edges: g.edges.map((e) => ({ ...e, id: edgeInto(e.to.node, e.to.port) })),
  };
}
