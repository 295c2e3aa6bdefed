// Auto-layout with ELK's layered algorithm: data flows left to right, ports in
// the order the node draws them.
import type { GraphFile } from '../../../engine/graph/types.js';
import type { XY } from '../store/document.js';
import type { Measured } from './flowElements.js';

// ELK is large (1.6 MB): load it on the first layout, not with the editor.
let elk: Promise<{ layout: InstanceType<typeof import('elkjs/lib/elk.bundled.js').default>['layout'] }> | undefined;
const getElk = () => (elk ??= import('elkjs/lib/elk.bundled.js').then((m) => new m.default()));
const DEFAULT_SIZE = { width: 220, height: 120 };

export async function autoLayout(graph: GraphFile, measured: Measured, only?: ReadonlySet<string>): Promise<Record<string, XY>> {
  const nodes = only && only.size > 1 ? graph.nodes.filter((n) => only.has(n.id)) : graph.nodes;
  const ids = new Set(nodes.map((n) => n.id));
  const result = await (await getElk()).layout({
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.layered.spacing.nodeNodeBetweenLayers': '90',
      'elk.spacing.nodeNode': '40',
      'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
    },
    children: nodes.map((n) => ({ id: n.id, ...(measured.get(n.id) ?? DEFAULT_SIZE) })),
    edges: graph.edges
      .filter((e) => ids.has(e.from.node) && ids.has(e.to.node))
      .map((e, i) => ({ id: e.id ?? `e${i}`, sources: [e.from.node], targets: [e.to.node] })),
  });
  // Keep a partial layout where the chosen nodes were.
  const anchor = nodes.length < graph.nodes.length ? topLeft(nodes.map((n) => n.position)) : { x: 0, y: 0 };
  const out: Record<string, XY> = {};
  for (const c of result.children ?? []) out[c.id] = { x: (c.x ?? 0) + anchor.x, y: (c.y ?? 0) + anchor.y };
  return out;
}

const topLeft = (ps: XY[]): XY => ({ x: Math.min(...ps.map((p) => p.x)), y: Math.min(...ps.map((p) => p.y)) });
