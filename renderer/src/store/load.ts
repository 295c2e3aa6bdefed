// Opening a graph file in the editor. A file that cannot be shown faithfully
// (bad JSON, wrong schema, unknown blocks or composites, edges to nowhere, at
// the top or inside a composite) is refused with its
// diagnostics; one that only has modelling mistakes (bad parameters, shape
// mismatches, loops, missing wires) opens, with the mistakes on the canvas.
import { registry } from '../../../engine/blocks/registry.js';
import { portsOf } from '../../../engine/blocks/contract.js';
import { resolveParams } from '../../../engine/blocks/params.js';
import { parseGraphText } from '../../../engine/graph/schema.js';
import { COMPOSITE_INPUT, COMPOSITE_OUTPUT, compositeIdOf, compositeInputBlock, compositeOutputBlock } from '../../../engine/shapes/composite.js';
import type { Diagnostic, GraphEdge, GraphFile, GraphNode } from '../../../engine/graph/types.js';
import { edgeProblem, portNodeOutside, unknownBlockType, unknownComposite, uniqueNodes, type NodePorts } from '../../../engine/graph/structure.js';
import { withEdgeIds } from './document.js';

export type OpenResult = { ok: true; graph: GraphFile } | { ok: false; diagnostics: Diagnostic[] };

export function openGraphText(text: string): OpenResult {
  const parsed = parseGraphText(text);
  if (!parsed.graph) return { ok: false, diagnostics: parsed.diagnostics };
  const problems = structuralProblems(parsed.graph);
  if (problems.length) return { ok: false, diagnostics: problems };
  return { ok: true, graph: withEdgeIds(parsed.graph) };
}

/**
 * What would stop the editor from drawing the graph: the canvas needs every
 * node's block (or composite) and every edge's ports, at the top and inside
 * each composite.
 */
export function structuralProblems(graph: GraphFile): Diagnostic[] {
  const out: Diagnostic[] = [];
  const defs = new Map((graph.composites ?? []).map((c) => [c.id, c]));
  const portNames = (nodes: readonly GraphNode[], type: string) =>
    nodes
      .filter((n) => n.type === type)
      .map((n) => ({ name: resolveParams(type === COMPOSITE_INPUT ? compositeInputBlock : compositeOutputBlock, n.params).values.name as string }));
  const portsOfNode = (n: GraphNode, inside: boolean): NodePorts | string => {
    const cid = compositeIdOf(n.type);
    if (cid !== undefined) {
      const def = defs.get(cid);
      if (!def) return unknownComposite(cid, [...defs.keys()]);
      return {
        id: n.id,
        block: { label: def.label?.trim() || cid },
        inputs: portNames(def.nodes, COMPOSITE_INPUT),
        outputs: portNames(def.nodes, COMPOSITE_OUTPUT),
      };
    }
    const port = n.type === COMPOSITE_INPUT ? compositeInputBlock : n.type === COMPOSITE_OUTPUT ? compositeOutputBlock : undefined;
    if (port && !inside) return portNodeOutside(port.label, n.type);
    const block = port ?? registry.get(n.type);
    if (!block) return unknownBlockType(n.type, registry.suggest(n.type));
    const { values } = resolveParams(block, n.params);
    return { id: n.id, block, inputs: portsOf(block, values, 'inputs'), outputs: portsOf(block, values, 'outputs') };
  };

  const checkScope = (nodes: readonly GraphNode[], edges: readonly GraphEdge[], composite?: string) => {
    const where = composite === undefined ? '' : `in composite "${composite}": `;
    // Inside a composite the node ids mean nothing to the canvas at the top: they go into the message.
    const error = (d: Omit<Diagnostic, 'severity'>) =>
      out.push({
        severity: 'error',
        ...d,
        message: `${where}${d.message}`,
        ...(composite === undefined ? {} : { nodeId: undefined, edge: undefined, port: undefined, composite }),
      });
    const ports = new Map<string, NodePorts>();
    const unique = uniqueNodes(nodes, error);
    const seen = new Set(unique.map((n) => n.id));
    for (const n of unique) {
      const p = portsOfNode(n, composite !== undefined);
      if (typeof p === 'string') error({ nodeId: n.id, message: composite === undefined ? p : `node "${n.id}": ${p}` });
      else ports.set(n.id, p);
    }
    const edgeIds = new Set<string>();
    edges.forEach((e, i) => {
      if (e.id !== undefined) {
        if (edgeIds.has(e.id)) error({ edge: i, message: `duplicate edge id "${e.id}"` });
        edgeIds.add(e.id);
      }
      const problem = edgeProblem(
        e,
        i,
        (id) => seen.has(id),
        (id) => ports.get(id),
      );
      if (problem) error(problem);
    });
  };

  checkScope(graph.nodes, graph.edges);
  for (const c of graph.composites ?? []) checkScope(c.nodes, c.edges, c.id);
  return out;
}
