// Opening a graph file in the editor. A file that cannot be shown faithfully
// (bad JSON, wrong schema, unknown blocks, edges to nowhere) is refused with its
// diagnostics; one that only has modelling mistakes (bad parameters, shape
// mismatches, loops, missing wires) opens, with the mistakes on the canvas.
import { registry } from '../../../engine/blocks/registry.js';
import { portsOf } from '../../../engine/blocks/contract.js';
import { resolveParams } from '../../../engine/blocks/params.js';
import { parseGraphText } from '../../../engine/graph/schema.js';
import type { Diagnostic, GraphFile } from '../../../engine/graph/types.js';
import { withEdgeIds } from './document.js';

export type OpenResult = { ok: true; graph: GraphFile } | { ok: false; diagnostics: Diagnostic[] };

export function openGraphText(text: string): OpenResult {
  const parsed = parseGraphText(text);
  if (!parsed.graph) return { ok: false, diagnostics: parsed.diagnostics };
  const problems = structuralProblems(parsed.graph);
  if (problems.length) return { ok: false, diagnostics: problems };
  return { ok: true, graph: withEdgeIds(parsed.graph) };
}

/** What would stop the editor from drawing the graph: the canvas needs every node's block and every edge's ports. */
export function structuralProblems(graph: GraphFile): Diagnostic[] {
  const out: Diagnostic[] = [];
  const error = (d: Omit<Diagnostic, 'severity'>) => out.push({ severity: 'error', ...d });
  const ports = new Map<string, { inputs: Set<string>; outputs: Set<string> }>();
  for (const n of graph.nodes) {
    if (ports.has(n.id)) {
      error({ nodeId: n.id, message: `duplicate node id "${n.id}": every node needs its own id` });
      continue;
    }
    const block = registry.get(n.type);
    if (!block) {
      const hint = registry.suggest(n.type);
      error({ nodeId: n.id, message: `unknown block type "${n.type}"${hint ? ` (did you mean "${hint}"?)` : ''}` });
      continue;
    }
    const { values } = resolveParams(block, n.params);
    ports.set(n.id, {
      inputs: new Set(portsOf(block, values, 'inputs').map((p) => p.name)),
      outputs: new Set(portsOf(block, values, 'outputs').map((p) => p.name)),
    });
  }
  const edgeIds = new Set<string>();
  graph.edges.forEach((e, i) => {
    const text = `edge ${e.from.node}.${e.from.port} → ${e.to.node}.${e.to.port}`;
    if (e.id !== undefined) {
      if (edgeIds.has(e.id)) error({ edge: i, message: `duplicate edge id "${e.id}"` });
      edgeIds.add(e.id);
    }
    const src = ports.get(e.from.node);
    const dst = ports.get(e.to.node);
    if (!graph.nodes.some((n) => n.id === e.from.node)) error({ edge: i, message: `${text} comes from missing node "${e.from.node}"` });
    else if (!graph.nodes.some((n) => n.id === e.to.node)) error({ edge: i, message: `${text} goes to missing node "${e.to.node}"` });
    else if (src && !src.outputs.has(e.from.port)) error({ edge: i, nodeId: e.from.node, message: `${text}: "${e.from.node}" has no output port "${e.from.port}"` });
    else if (dst && !dst.inputs.has(e.to.port)) error({ edge: i, nodeId: e.to.node, message: `${text}: "${e.to.node}" has no input port "${e.to.port}"` });
  });
  return out;
}
