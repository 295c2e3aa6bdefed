// Semantic checks and shape inference over a whole graph. Runs on every edit in
// the editor, so it does one pass over nodes and edges with maps, no tfjs.
import { portsOf, ShapeError, type AnyBlock, type ParamDefs, type ParamValues, type PortDef, type Shape } from '../blocks/contract.js';
import { resolveParams } from '../blocks/params.js';
import { registry as defaultRegistry, type BlockRegistry } from '../blocks/registry.js';
import { fmtShape } from '../shapes/rules.js';
import type { Diagnostic, GraphEdge, GraphFile } from './types.js';

export interface NodeInfo {
  id: string;
  block: AnyBlock;
  params: ParamValues<ParamDefs>;
  inputs: readonly PortDef[];
  outputs: readonly PortDef[];
  /** Connected inputs: port name -> edge index. */
  incoming: Map<string, number>;
  inputShapes: Record<string, Shape>;
  /** Absent when the node could not get shapes (see diagnostics). */
  outputShapes?: Record<string, Shape>;
}

export interface GraphAnalysis {
  diagnostics: Diagnostic[];
  /** Nodes whose block is known, by id. */
  nodes: Map<string, NodeInfo>;
  /** Known nodes in topological order (nodes on cycles left out). */
  order: string[];
  /** The shape carried by each edge, by edge index; undefined where unknown. */
  edgeShapes: (Shape | undefined)[];
}

function checkRank(port: PortDef, shape: Shape): string | undefined {
  if (port.rank === undefined) return undefined;
  const ranks = typeof port.rank === 'number' ? [port.rank] : port.rank;
  if (ranks.includes(shape.length)) return undefined;
  return `input "${port.name}" needs rank ${ranks.join(' or ')} (batch included), but the incoming tensor is ${fmtShape(shape)} (rank ${shape.length})`;
}

export function analyzeGraph(graph: GraphFile, reg: BlockRegistry = defaultRegistry): GraphAnalysis {
  const diagnostics: Diagnostic[] = [];
  const error = (d: Omit<Diagnostic, 'severity'>) => diagnostics.push({ severity: 'error', ...d });
  const nodes = new Map<string, NodeInfo>();
  const seen = new Set<string>();

  for (const n of graph.nodes) {
    if (seen.has(n.id)) {
      error({ nodeId: n.id, message: `duplicate node id "${n.id}": every node needs its own id` });
      continue;
    }
    seen.add(n.id);
    const block = reg.get(n.type);
    if (!block) {
      const hint = reg.suggest(n.type);
      error({ nodeId: n.id, message: `unknown block type "${n.type}"${hint ? ` (did you mean "${hint}"?)` : ''}` });
      continue;
    }
    const { values, problems } = resolveParams(block, n.params);
    for (const p of problems) error({ nodeId: n.id, param: p.param, message: p.message });
    let inputs: readonly PortDef[] = [];
    let outputs: readonly PortDef[] = [];
    try {
      inputs = portsOf(block, values, 'inputs');
      outputs = portsOf(block, values, 'outputs');
    } catch (err) {
      error({ nodeId: n.id, message: `cannot list ports: ${(err as Error).message}` });
      continue;
    }
    nodes.set(n.id, { id: n.id, block, params: values, inputs, outputs, incoming: new Map(), inputShapes: {} });
  }

  // Edges: endpoints exist, one edge per input port.
  const valid: boolean[] = [];
  const outgoing = new Map<string, number[]>();
  graph.edges.forEach((e: GraphEdge, i) => {
    valid[i] = false;
    const src = nodes.get(e.from.node);
    const dst = nodes.get(e.to.node);
    const edgeText = `${e.from.node}.${e.from.port} → ${e.to.node}.${e.to.port}`;
    if (!seen.has(e.from.node)) return error({ edge: i, nodeId: e.to.node, port: e.to.port, message: `edge ${edgeText} comes from missing node "${e.from.node}"` });
    if (!seen.has(e.to.node)) return error({ edge: i, nodeId: e.from.node, port: e.from.port, message: `edge ${edgeText} goes to missing node "${e.to.node}"` });
    if (!dst) return; // unknown block type, already reported
    if (!src) {
      // From a node of unknown type: the input counts as connected, its shape as unknown.
      if (dst.inputs.some((p) => p.name === e.to.port)) dst.incoming.set(e.to.port, i);
      return;
    }
    if (!src.outputs.some((p) => p.name === e.from.port))
      return error({
        edge: i,
        nodeId: src.id,
        port: e.from.port,
        message: `edge ${edgeText}: "${src.id}" (${src.block.label}) has no output port "${e.from.port}" (outputs: ${src.outputs.map((p) => p.name).join(', ') || 'none'})`,
      });
    if (!dst.inputs.some((p) => p.name === e.to.port))
      return error({
        edge: i,
        nodeId: dst.id,
        port: e.to.port,
        message: `edge ${edgeText}: "${dst.id}" (${dst.block.label}) has no input port "${e.to.port}" (inputs: ${dst.inputs.map((p) => p.name).join(', ') || 'none'})`,
      });
    const prior = dst.incoming.get(e.to.port);
    if (prior !== undefined) {
      const p = graph.edges[prior];
      return error({
        edge: i,
        nodeId: dst.id,
        port: e.to.port,
        message: `input "${e.to.port}" has two incoming edges (from ${p.from.node}.${p.from.port} and ${e.from.node}.${e.from.port}); an input takes one`,
      });
    }
    dst.incoming.set(e.to.port, i);
    valid[i] = true;
    const list = outgoing.get(src.id);
    if (list) list.push(i);
    else outgoing.set(src.id, [i]);
  });

  // Topological order (Kahn); whatever is left sits on or behind a cycle.
  const indegree = new Map<string, number>();
  for (const n of nodes.values()) indegree.set(n.id, [...n.incoming.values()].filter((ei) => valid[ei]).length);
  const order: string[] = [];
  const queue = [...indegree].filter(([, d]) => d === 0).map(([id]) => id);
  for (let qi = 0; qi < queue.length; qi++) {
    const id = queue[qi];
    order.push(id);
    for (const ei of outgoing.get(id) ?? []) {
      const to = graph.edges[ei].to.node;
      const left = indegree.get(to)! - 1;
      indegree.set(to, left);
      if (left === 0) queue.push(to);
    }
  }
  if (order.length < nodes.size) {
    const onCycle = findCycleNodes(nodes, graph, order);
    for (const id of onCycle)
      error({ nodeId: id, message: `node "${id}" is part of a cycle (${cycleText(id, nodes, graph)}); a model graph must be acyclic` });
  }

  // Required inputs, and the graph's ends.
  for (const n of nodes.values())
    for (const p of n.inputs)
      if (!p.optional && !n.incoming.has(p.name))
        error({ nodeId: n.id, port: p.name, message: `required input "${p.name}" of "${n.id}" (${n.block.label}) is not connected` });
  const types = [...nodes.values()].map((n) => n.block.type);
  if (graph.nodes.length === 0) error({ message: 'the graph is empty: add an Input and an Output' });
  else {
    if (!types.includes('io.input')) error({ message: 'the graph has no Input node' });
    if (!types.includes('io.output')) error({ message: 'the graph has no Output node: wire the last block into an Output' });
  }

  // Shape inference in topological order; a node whose inputs are unknown is skipped quietly.
  const edgeShapes: (Shape | undefined)[] = new Array(graph.edges.length);
  for (const id of order) {
    const n = nodes.get(id)!;
    let complete = true;
    for (const p of n.inputs) {
      const ei = n.incoming.get(p.name);
      if (ei === undefined) continue;
      const shape = edgeShapes[ei];
      if (!shape) {
        complete = false;
        continue;
      }
      const rankProblem = checkRank(p, shape);
      if (rankProblem) {
        error({ nodeId: id, port: p.name, message: rankProblem });
        complete = false;
      }
      n.inputShapes[p.name] = shape;
    }
    if (!complete || n.inputs.some((p) => !p.optional && !n.incoming.has(p.name))) continue;
    try {
      const out = n.block.inferShape({ params: n.params, inputs: n.inputShapes });
      for (const p of n.outputs) {
        const s = out[p.name];
        if (!s) throw new Error(`shape rule gave no shape for output "${p.name}"`);
        if (s.slice(1).some((d) => d !== null && (!Number.isInteger(d) || d < 1)))
          throw new ShapeError(`output "${p.name}" would have shape ${fmtShape(s)}: the input is too small`);
      }
      n.outputShapes = out;
      for (const ei of outgoing.get(id) ?? []) if (valid[ei]) edgeShapes[ei] = out[graph.edges[ei].from.port];
    } catch (err) {
      if (err instanceof ShapeError) error({ nodeId: id, port: err.port, message: err.message });
      else error({ nodeId: id, message: `internal error in the shape rule of ${n.block.type}: ${(err as Error).message}` });
    }
  }

  return { diagnostics, nodes, order, edgeShapes };
}

/** Nodes that lie on a cycle: among the unordered ones, those that can reach themselves. */
function findCycleNodes(nodes: Map<string, NodeInfo>, graph: GraphFile, order: string[]): string[] {
  const done = new Set(order);
  const rest = [...nodes.keys()].filter((id) => !done.has(id));
  const succ = new Map<string, string[]>();
  for (const id of rest) succ.set(id, []);
  for (const n of nodes.values())
    for (const ei of n.incoming.values()) {
      const from = graph.edges[ei].from.node;
      if (succ.has(from) && succ.has(n.id)) succ.get(from)!.push(n.id);
    }
  return rest.filter((start) => {
    const stack = [...succ.get(start)!];
    const visited = new Set<string>();
    while (stack.length) {
      const id = stack.pop()!;
      if (id === start) return true;
      if (visited.has(id)) continue;
      visited.add(id);
      stack.push(...succ.get(id)!);
    }
    return false;
  });
}

function cycleText(start: string, nodes: Map<string, NodeInfo>, graph: GraphFile): string {
  // Walk backwards along incoming edges until we come back to start.
  const path = [start];
  let cur = start;
  for (let steps = 0; steps < nodes.size; steps++) {
    const n = nodes.get(cur)!;
    const prev = [...n.incoming.values()].map((ei) => graph.edges[ei].from.node).find((id) => id === start || reaches(start, id, nodes, graph));
    if (!prev) break;
    if (prev === start) return [...path, start].reverse().join(' → ');
    path.push(prev);
    cur = prev;
  }
  return path.reverse().join(' → ');
}

function reaches(from: string, target: string, nodes: Map<string, NodeInfo>, graph: GraphFile): boolean {
  // Is `from` reachable backwards from `target`, i.e. does from lie upstream of target?
  const stack = [target];
  const seen = new Set<string>();
  while (stack.length) {
    const id = stack.pop()!;
    for (const ei of nodes.get(id)?.incoming.values() ?? []) {
      const up = graph.edges[ei].from.node;
      if (up === from) return true;
      if (!seen.has(up)) {
        seen.add(up);
        stack.push(up);
      }
    }
  }
  return false;
}
