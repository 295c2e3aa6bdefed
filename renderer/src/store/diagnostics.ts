// Files each diagnostic under what the canvas draws it on: the node (badge),
// the port (red ring), the edge (red wire), or the graph as a whole.
import type { GraphAnalysis } from '../../../engine/shapes/analyze.js';
import type { Diagnostic, GraphFile } from '../../../engine/graph/types.js';

export interface DiagnosticIndex {
  byNode: Map<string, Diagnostic[]>;
  /** Key `${nodeId}:${port}`. */
  byPort: Map<string, Diagnostic[]>;
  byEdge: Map<string, Diagnostic[]>;
  /** Problems of the graph as a whole (no Input, no Output, empty). */
  general: Diagnostic[];
  errorCount: number;
}

export const portKey = (nodeId: string, port: string) => `${nodeId}:${port}`;

function push<K>(m: Map<K, Diagnostic[]>, k: K, d: Diagnostic) {
  const list = m.get(k);
  if (list) list.push(d);
  else m.set(k, [d]);
}

export function indexDiagnostics(graph: GraphFile, diagnostics: readonly Diagnostic[]): DiagnosticIndex {
  const index: DiagnosticIndex = { byNode: new Map(), byPort: new Map(), byEdge: new Map(), general: [], errorCount: 0 };
  const into = new Map<string, string>();
  for (const e of graph.edges) if (e.id) into.set(portKey(e.to.node, e.to.port), e.id);
  for (const d of diagnostics) {
    if (d.severity === 'error') index.errorCount++;
    if (d.nodeId === undefined && d.edge === undefined) index.general.push(d);
    if (d.nodeId !== undefined) push(index.byNode, d.nodeId, d);
    if (d.nodeId !== undefined && d.port !== undefined) {
      push(index.byPort, portKey(d.nodeId, d.port), d);
      // A problem on a connected input is the wire's problem too.
      const edgeId = into.get(portKey(d.nodeId, d.port));
      if (edgeId && d.edge === undefined) push(index.byEdge, edgeId, d);
    }
    if (d.edge !== undefined) {
      const id = graph.edges[d.edge]?.id;
      if (id) push(index.byEdge, id, d);
    }
  }
  return index;
}

/** The shape on each edge, by edge id. */
export function edgeShapesById(graph: GraphFile, analysis: GraphAnalysis): Map<string, (number | null)[]> {
  const m = new Map<string, (number | null)[]>();
  graph.edges.forEach((e, i) => {
    const s = analysis.edgeShapes[i];
    if (e.id && s) m.set(e.id, s);
  });
  return m;
}
