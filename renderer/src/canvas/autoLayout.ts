// Auto-layout with ELK's layered algorithm: data flows left to right in layers,
// the gap between layers wide enough for the widest shape label on a wire
// (`[?, 28, 28, 1]`), nodes in a layer far enough apart that none overlaps
// another. Used by Auto-layout and when a template opens.
import { analyzeGraph } from '../../../engine/shapes/analyze.js';
import type { GraphFile } from '../../../engine/graph/types.js';
import type { Shape } from '../../../engine/blocks/contract.js';
import type { XY } from '../store/document.js';
import type { ScopeView } from '../store/scope.js';
import { shapeText } from '../ui-format.js';
import type { Measured } from './flowElements.js';
import { NODE_WIDTH, nodeHeight } from './nodeBox.js';

// ELK is large (1.6 MB): load it on the first layout, not with the editor.
let elk: Promise<{ layout: InstanceType<typeof import('elkjs/lib/elk.bundled.js').default>['layout'] }> | undefined;
const getElk = () => (elk ??= import('elkjs/lib/elk.bundled.js').then((m) => new m.default()));

/** Gaps, in canvas px: between the nodes of a layer, and around a wire's label between layers. */
const NODE_GAP = 40;
const LABEL_MARGIN = 28;
const MIN_LAYER_GAP = 90;
/** The wire label's box (styles.css .edge-label: 10 px monospace, padding 6 and a border each side). */
const labelWidth = (shape: Shape | undefined) => shapeText(shape).length * 6.1 + 14;

export async function autoLayout(
  graph: GraphFile,
  analysis: ScopeView['analysis'],
  measured: Measured,
  only?: ReadonlySet<string>,
): Promise<Record<string, XY>> {
  const nodes = only && only.size > 1 ? graph.nodes.filter((n) => only.has(n.id)) : graph.nodes;
  const ids = new Set(nodes.map((n) => n.id));
  const edges = graph.edges.map((e, i) => ({ e, i })).filter(({ e }) => ids.has(e.from.node) && ids.has(e.to.node));
  const widestLabel = Math.max(0, ...edges.map(({ i }) => labelWidth(analysis.edgeShapes[i])));
  // The larger of what React Flow measured and what the node's rows take: a node out of view is not measured.
  const size = (id: string) => {
    const m = measured.get(id);
    const height = nodeHeight(analysis.nodes.get(id));
    return { width: Math.max(m?.width ?? 0, NODE_WIDTH), height: Math.max(m?.height ?? 0, height) };
  };
  const result = await (
    await getElk()
  ).layout({
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.layered.spacing.nodeNodeBetweenLayers': String(Math.max(MIN_LAYER_GAP, widestLabel + 2 * LABEL_MARGIN)),
      'elk.spacing.nodeNode': String(NODE_GAP),
      'elk.spacing.componentComponent': String(NODE_GAP * 2),
      'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
    },
    children: nodes.map((n) => ({ id: n.id, ...size(n.id) })),
    edges: edges.map(({ e, i }) => ({ id: e.id ?? `e${i}`, sources: [e.from.node], targets: [e.to.node] })),
  });
  // Keep a partial layout where the chosen nodes were.
  const anchor = nodes.length < graph.nodes.length ? topLeft(nodes.map((n) => n.position)) : { x: 0, y: 0 };
  const out: Record<string, XY> = {};
  for (const c of result.children ?? []) out[c.id] = { x: (c.x ?? 0) + anchor.x, y: (c.y ?? 0) + anchor.y };
  return out;
}

/** The graph with its nodes where `positions` puts them. */
export function placed(graph: GraphFile, positions: Record<string, XY>): GraphFile {
  return { ...graph, nodes: graph.nodes.map((n) => (positions[n.id] ? { ...n, position: positions[n.id] } : n)) };
}

const topLeft = (ps: XY[]): XY => ({ x: Math.min(...ps.map((p) => p.x)), y: Math.min(...ps.map((p) => p.y)) });

/** A graph about to be opened, laid out (its own positions are a template author's, drawn at another node size). */
export async function laidOut(graph: GraphFile): Promise<GraphFile> {
  return placed(graph, await autoLayout(graph, analyzeGraph(graph), new Map()));
}
