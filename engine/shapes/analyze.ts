// Semantic checks and shape inference over a whole graph. Runs on every edit in
// the editor, so it does one pass over nodes and edges with maps, no tfjs.
//
// Composites: the inside of each definition is checked once (unknown types,
// parameters, edges, cycles, unconnected inputs); shapes then flow through every
// instance and every copy of it, so the nodes inside get the shapes of each use,
// and a problem inside names the instance node and the path to the inner node.
import { portsOf, ShapeError, type AnyBlock, type ParamDefs, type PortDef, type Shape } from '../blocks/contract.js';
import { resolveParams } from '../blocks/params.js';
import { registry as defaultRegistry, type BlockRegistry } from '../blocks/registry.js';
import { fmtShape } from '../blocks/shape-rules.js';
import {
  COMPOSITE_INPUT,
  COMPOSITE_OUTPUT,
  compositeIdOf,
  compositeInputBlock,
  compositeOutputBlock,
  compositeType,
  deepestNesting,
  MAX_COMPOSITE_NESTING,
  REPEAT_PARAM,
} from './composite.js';
import { buildComposite } from './inline.js';
import { culpritOf, DEFAULT_LIMITS, measureShapes, measureStructure, overLimit, resolveLimits, type GraphLimits, type GraphSize } from './limits.js';
import type { CompositeDef, Diagnostic, GraphEdge, GraphFile, GraphNode } from '../graph/types.js';
import { edgeProblem, portNodeOutside, unknownBlockType, unknownComposite, uniqueNodes } from '../graph/structure.js';

export type { CompositeInfo, CompositePort, NodeInfo, ScopeAnalysis } from './analysis-types.js';
import type { CompositeInfo, CompositePort, NodeInfo, ScopeAnalysis } from './analysis-types.js';

export interface GraphAnalysis extends ScopeAnalysis {
  diagnostics: Diagnostic[];
  /** The file's composites, by id. */
  composites: Map<string, CompositeInfo>;
  /** The limits the graph was checked against (inlineGraph holds to them too). */
  limits: GraphLimits;
  /** The graph's size once expanded; params and activationBytes count only nodes that got shapes. */
  size: GraphSize;
}

export interface AnalyzeOptions {
  /** Limits above the defaults and ATTN_LIMITS (see limits.ts). */
  limits?: Partial<GraphLimits>;
}

/** A scope's structure, independent of shapes: computed once per graph and once per composite definition. */
interface Scope {
  edges: readonly GraphEdge[];
  /** Node infos without shapes; copies of a composite clone them. */
  nodes: Map<string, NodeInfo>;
  order: string[];
  valid: boolean[];
  outgoing: Map<string, number[]>;
}

interface Composite extends CompositeInfo {
  scope: Scope;
  /** Problems of the definition itself, on its inner nodes. */
  problems: Diagnostic[];
}

type Report = (d: Diagnostic) => void;
type Resolve = (type: string) => { block: AnyBlock; composite?: Composite } | { problem: string };

function checkRank(port: PortDef, shape: Shape): string | undefined {
  if (port.rank === undefined) return undefined;
  const ranks = typeof port.rank === 'number' ? [port.rank] : port.rank;
  if (ranks.includes(shape.length)) return undefined;
  return `input "${port.name}" needs rank ${ranks.join(' or ')} (batch included), but the incoming tensor is ${fmtShape(shape)} (rank ${shape.length})`;
}

const sameShape = (a: Shape, b: Shape) => a.length === b.length && a.every((d, i) => d === b[i]);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function analyzeGraph(graph: GraphFile, reg: BlockRegistry = defaultRegistry, opts: AnalyzeOptions = {}): GraphAnalysis {
  const diagnostics: Diagnostic[] = [];
  const report: Report = (d) => diagnostics.push(d);
  const error = (d: Omit<Diagnostic, 'severity'>) => report({ severity: 'error', ...d });
  let limits: GraphLimits;
  try {
    limits = resolveLimits(opts.limits);
  } catch (err) {
    // A bad ATTN_LIMITS: said once per analysis, and the defaults hold.
    error({ message: (err as Error).message });
    limits = { ...DEFAULT_LIMITS, ...opts.limits };
  }

  const nesting = deepestNesting(graph.composites ?? []);
  if (nesting.length > MAX_COMPOSITE_NESTING) {
    const user = graph.nodes.find((n) => compositeIdOf(n.type) === nesting[0]);
    error({
      ...(user ? { nodeId: user.id } : {}),
      composite: nesting[0],
      message: `composites nest ${nesting.length} deep (${nesting
        .slice(0, 3)
        .map((c) => `"${c}"`)
        .join(' → ')} → … → "${nesting[nesting.length - 1]}"); at most ${MAX_COMPOSITE_NESTING} levels`,
    });
    const size: GraphSize = { nodes: 0, params: 0, activationBytes: 0, depth: 0 };
    return { diagnostics, nodes: new Map(), order: [], edges: graph.edges, edgeShapes: new Array(graph.edges.length), composites: new Map(), limits, size };
  }
  const composites = defineComposites(graph.composites ?? [], reg, error);
  const top = analyzeScope(graph.nodes, graph.edges, resolver(reg, composites, false), report);

  const types = [...top.nodes.values()].map((n) => n.block.type);
  if (graph.nodes.length === 0) error({ message: 'the graph is empty: add an Input and an Output' });
  else {
    if (!types.includes('io.input')) error({ message: 'the graph has no Input node' });
    if (!types.includes('io.output')) error({ message: 'the graph has no Output node: wire the last block into an Output' });
  }
  reportDefinitions(top, composites, report);

  // Sized before shapes: shape inference visits every composite instance, so a graph too big to expand is too big to infer.
  const structure = measureStructure(top, (c) => (c as Composite).scope);
  const size: GraphSize = { nodes: structure.nodes.total, depth: structure.depth.total, params: 0, activationBytes: 0 };
  if (size.nodes > limits.nodes) {
    report(
      overLimit(
        'nodes',
        size.nodes,
        limits.nodes,
        culpritOf(structure.nodes, (id) => structure.chain('nodes', id)),
      ),
    );
    return { diagnostics, nodes: top.nodes, order: top.order, edges: graph.edges, edgeShapes: new Array(graph.edges.length), composites, limits, size };
  }
  if (size.depth > limits.depth) report(overLimit('depth', size.depth, limits.depth, depthCulprit(structure)));

  const edgeShapes = inferShapes(top, top.nodes, undefined, report);
  const analysis: GraphAnalysis = { diagnostics, nodes: top.nodes, order: top.order, edges: graph.edges, edgeShapes, composites, limits, size };
  const shaped = measureShapes(analysis);
  size.params = shaped.params.total;
  size.activationBytes = shaped.activationBytes.total;
  for (const key of ['params', 'activationBytes'] as const)
    if (size[key] > limits[key])
      report(
        overLimit(
          key,
          size[key],
          limits[key],
          culpritOf(shaped[key], (id) => compositeChain(top, id)),
        ),
      );
  return analysis;
}

/** The longest path's culprit: a composite node that makes most of it, else the node the path ends at. */
function depthCulprit(structure: ReturnType<typeof measureStructure>) {
  const byShare = culpritOf(structure.depth, (id) => structure.chain('depth', id));
  if (byShare?.chain && byShare.share * 2 > structure.depth.total) return byShare;
  const end = structure.depth.end;
  return end === undefined ? undefined : { id: end, share: structure.depth.total, chain: `the path ending at node "${end}"` };
}

/** A top-level composite node as the start of a culprit chain (params and activations: one level is enough). */
function compositeChain(top: Scope, id: string): string {
  const n = top.nodes.get(id);
  if (!n?.composite) return '';
  const repeat = n.params.repeat as number;
  return `"${id}" (composite "${n.composite.id}"${repeat > 1 ? ` ×${repeat}` : ''})`;
}

/** How node types resolve: blocks from the registry, the file's composites, and inside composites their port nodes. */
function resolver(reg: BlockRegistry, composites: Map<string, Composite>, inside: boolean): Resolve {
  return (type) => {
    const cid = compositeIdOf(type);
    if (cid !== undefined) {
      const composite = composites.get(cid);
      if (composite) return { block: composite.block, composite };
      return { problem: unknownComposite(cid, [...composites.keys()]) };
    }
    if (type === COMPOSITE_INPUT || type === COMPOSITE_OUTPUT) {
      if (inside) return { block: type === COMPOSITE_INPUT ? compositeInputBlock : compositeOutputBlock };
      return { problem: portNodeOutside((type === COMPOSITE_INPUT ? compositeInputBlock : compositeOutputBlock).label, type) };
    }
    if (inside && (type === 'io.input' || type === 'io.output'))
      return {
        problem: `an ${type === 'io.input' ? 'Input' : 'Output'} node cannot be inside a composite: use a ${type === 'io.input' ? 'Composite input' : 'Composite output'} (${type === 'io.input' ? COMPOSITE_INPUT : COMPOSITE_OUTPUT})`,
      };
    const block = reg.get(type);
    if (block) return { block };
    return { problem: unknownBlockType(type, reg.suggest(type)) };
  };
}

/** The structural checks of one scope: node types and parameters, edges, cycles, unconnected inputs. */
function analyzeScope(graphNodes: readonly GraphNode[], edges: readonly GraphEdge[], resolve: Resolve, report: Report): Scope {
  const error = (d: Omit<Diagnostic, 'severity'>) => report({ severity: 'error', ...d });
  const nodes = new Map<string, NodeInfo>();
  const unique = uniqueNodes(graphNodes, error);
  const seen = new Set(unique.map((n) => n.id));

  for (const n of unique) {
    const r = resolve(n.type);
    if ('problem' in r) {
      error({ nodeId: n.id, message: r.problem });
      continue;
    }
    const { block, composite } = r;
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
    const info: NodeInfo = { id: n.id, block, params: values, inputs, outputs, incoming: new Map(), inputShapes: {} };
    if (n.bypass === true) {
      const problem = bypassProblem(info);
      if (problem) error({ nodeId: n.id, message: problem });
      else info.bypass = true;
    }
    if (composite) {
      info.composite = composite;
      const repeat = values.repeat as number;
      if (repeat > 1 && !repeatable(composite))
        error({
          nodeId: n.id,
          param: 'repeat',
          message: `only a composite with one input and one output can repeat; "${composite.id}" has ${plural(composite.inputs.length, 'input')} and ${plural(composite.outputs.length, 'output')}`,
        });
    }
    nodes.set(n.id, info);
  }

  // Edges: endpoints exist, one edge per input port.
  const valid: boolean[] = [];
  const outgoing = new Map<string, number[]>();
  edges.forEach((e: GraphEdge, i) => {
    valid[i] = false;
    const src = nodes.get(e.from.node);
    const dst = nodes.get(e.to.node);
    const problem = edgeProblem(
      e,
      i,
      (id) => seen.has(id),
      (id) => nodes.get(id),
    );
    if (problem) return error(problem);
    if (!dst) return; // unknown block type, already reported
    if (!src) {
      // From a node of unknown type: the input counts as connected, its shape as unknown.
      dst.incoming.set(e.to.port, i);
      return;
    }
    const prior = dst.incoming.get(e.to.port);
    if (prior !== undefined) {
      const p = edges[prior];
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
      const to = edges[ei].to.node;
      const left = indegree.get(to)! - 1;
      indegree.set(to, left);
      if (left === 0) queue.push(to);
    }
  }
  if (order.length < nodes.size) {
    const onCycle = findCycleNodes(nodes, edges, order);
    for (const id of onCycle) error({ nodeId: id, message: `node "${id}" is part of a cycle (${cycleText(id, nodes, edges)}); a model graph must be acyclic` });
  }

  for (const n of nodes.values())
    for (const p of n.inputs)
      if (!p.optional && !n.incoming.has(p.name))
        error({ nodeId: n.id, port: p.name, message: `required input "${p.name}" of "${n.id}" (${n.block.label}) is not connected` });

  return { edges, nodes, order, valid, outgoing };
}

/**
 * Shape inference in topological order; a node whose inputs are unknown is
 * skipped quietly. `seeds` gives the shapes of a composite copy's input nodes.
 */
function inferShapes(scope: Scope, nodes: Map<string, NodeInfo>, seeds: Map<string, Shape> | undefined, report: Report): (Shape | undefined)[] {
  const edgeShapes: (Shape | undefined)[] = new Array(scope.edges.length);
  const error = (d: Omit<Diagnostic, 'severity'>) => report({ severity: 'error', ...d });
  for (const id of scope.order) {
    const n = nodes.get(id)!;
    let out: Record<string, Shape> | undefined;
    const seed = seeds?.get(id);
    if (seed) out = { out: seed };
    else {
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
      if (n.bypass && !n.inputShapes[n.inputs[0].name]) {
        error({ nodeId: id, message: `node "${id}" is bypassed but its input "${n.inputs[0].name}" is not connected: there is nothing to pass through` });
        continue;
      }
      out = n.bypass ? { [n.outputs[0].name]: n.inputShapes[n.inputs[0].name] } : n.composite ? expandInstance(n, report) : blockShapes(n, error);
      if (!out) continue;
    }
    n.outputShapes = out;
    for (const ei of scope.outgoing.get(id) ?? []) if (scope.valid[ei]) edgeShapes[ei] = out[scope.edges[ei].from.port];
  }
  return edgeShapes;
}

/** Why a node cannot be bypassed (passed through), if it cannot: it needs one input and one output. */
export function bypassProblem(n: Pick<NodeInfo, 'id' | 'inputs' | 'outputs' | 'block'>): string | undefined {
  if (n.inputs.length === 1 && n.outputs.length === 1) return undefined;
  return `node "${n.id}" (${n.block.label}) cannot be bypassed: it has ${plural(n.inputs.length, 'input')} and ${plural(n.outputs.length, 'output')}, and a bypassed node passes its one input through`;
}

function blockShapes(n: NodeInfo, error: (d: Omit<Diagnostic, 'severity'>) => void): Record<string, Shape> | undefined {
  try {
    const out = n.block.inferShape({ params: n.params, inputs: n.inputShapes });
    for (const p of n.outputs) {
      const s = out[p.name];
      if (!s) throw new Error(`shape rule gave no shape for output "${p.name}"`);
      if (s.slice(1).some((d) => d !== null && (!Number.isInteger(d) || d < 1)))
        throw new ShapeError(`output "${p.name}" would have shape ${fmtShape(s)}: the input is too small`);
    }
    return out;
  } catch (err) {
    if (err instanceof ShapeError) error({ nodeId: n.id, port: err.port, message: err.message });
    else error({ nodeId: n.id, message: `internal error in the shape rule of ${n.block.type}: ${(err as Error).message}` });
    return undefined;
  }
}

/** Runs a composite instance's copies; records them on the node; returns its output shapes, or undefined after a problem. */
function expandInstance(n: NodeInfo, report: Report): Record<string, Shape> | undefined {
  const r = expandComposite(n.composite as Composite, n.inputShapes, n.params.repeat as number, n.id, report);
  if (r.copies.length) n.copies = r.copies;
  return r.outputs;
}

function expandComposite(
  c: Composite,
  inputShapes: Record<string, Shape>,
  repeat: number,
  instance: string,
  report: Report,
): { copies: ScopeAnalysis[]; outputs?: Record<string, Shape> } {
  if (!c.sound || (repeat > 1 && !repeatable(c))) return { copies: [] };
  const nodes = new Map<string, NodeInfo>();
  for (const [id, t] of c.scope.nodes) nodes.set(id, { ...t, inputShapes: {} });
  const seeds = new Map(c.inputs.map((p) => [p.node, inputShapes[p.name]]));
  let failed = false;
  const edgeShapes = inferShapes(c.scope, nodes, seeds, (d) => {
    failed ||= d.severity === 'error';
    report(wrap(d, instance, c.id, repeat));
  });
  const first: ScopeAnalysis = { nodes, order: c.scope.order, edges: c.scope.edges, edgeShapes };
  if (failed) return { copies: [first] };
  const outputs: Record<string, Shape> = {};
  for (const p of c.outputs) {
    const s = nodes.get(p.node)!.inputShapes.in;
    if (!s) return { copies: [first] };
    outputs[p.name] = s;
  }
  if (repeat > 1) {
    const [input, output] = [inputShapes[c.inputs[0].name], outputs[c.outputs[0].name]];
    if (!sameShape(input, output)) {
      report({
        severity: 'error',
        nodeId: instance,
        param: 'repeat',
        message: `a repeated composite must give its output the shape of its input, so that each copy feeds the next; "${c.id}" turns ${fmtShape(input)} into ${fmtShape(output)}`,
      });
      return { copies: [first] };
    }
  }
  // Every further copy sees the input shape the first one saw, so it has the same analysis.
  return { copies: new Array<ScopeAnalysis>(repeat).fill(first), outputs };
}

const repeatable = (c: CompositeInfo) => c.inputs.length === 1 && c.outputs.length === 1;

/**
 * A diagnostic from inside a composite, moved one level out: onto the instance
 * node, with the path to the inner node, and the composite named in the
 * message. Inner ports, parameters and edge indexes mean nothing outside, so the
 * port goes into the message. With `repeat` (a problem found while inferring the
 * instance's shapes) the copy is named too: always the first, since every copy
 * of a repeat sees the same shapes and the first one to fail stops the rest.
 */
function wrap(d: Diagnostic, instance: string, composite: string, repeat?: number): Diagnostic {
  const where = d.nodeId === undefined ? '' : `, node "${d.nodeId}"${d.port && !d.path ? ` port "${d.port}"` : ''}`;
  const out: Diagnostic = {
    severity: d.severity,
    nodeId: instance,
    path: [instance, ...(d.path ?? (d.nodeId === undefined ? [] : [d.nodeId]))],
    composite: d.composite ?? composite,
    message: `in composite "${composite}"${repeat && repeat > 1 ? ` (copy 1 of ${repeat})` : ''}${where}: ${d.message}`,
  };
  if (repeat) out.copy = [1, ...(d.copy ?? [])];
  return out;
}

/** The file's composites: ports and blocks first (instances anywhere need them), then each inside, checked once. */
function defineComposites(defs: readonly CompositeDef[], reg: BlockRegistry, error: (d: Omit<Diagnostic, 'severity'>) => void): Map<string, Composite> {
  const composites = new Map<string, Composite>();
  for (const def of defs) {
    if (composites.has(def.id)) {
      error({ composite: def.id, message: `duplicate composite id "${def.id}": every composite needs its own id` });
      continue;
    }
    const problems: Diagnostic[] = [];
    const c: Composite = {
      id: def.id,
      def,
      inputs: portsOfComposite(def, COMPOSITE_INPUT, problems),
      outputs: portsOfComposite(def, COMPOSITE_OUTPUT, problems),
      block: undefined as unknown as AnyBlock,
      sound: false,
      scope: undefined as unknown as Scope,
      problems,
    };
    c.block = compositeBlock(c);
    composites.set(def.id, c);
  }
  markRecursion(composites);
  const inside = resolver(reg, composites, true);
  for (const c of composites.values()) {
    c.scope = analyzeScope(c.def.nodes, c.def.edges, inside, (d) => c.problems.push(d));
    if (c.inputs.length === 0) c.problems.push({ severity: 'error', message: `it has no Composite input node (${COMPOSITE_INPUT}): add one per input port` });
    if (c.outputs.length === 0)
      c.problems.push({ severity: 'error', message: `it has no Composite output node (${COMPOSITE_OUTPUT}): add one per output port` });
    c.sound = !c.problems.some((d) => d.severity === 'error');
  }
  for (const c of composites.values()) passLosses(c, new Set());
  return composites;
}

/** The ports of a composite, in the order of its Composite input (output) nodes. */
function portsOfComposite(def: CompositeDef, type: string, problems: Diagnostic[]): CompositePort[] {
  const ports: CompositePort[] = [];
  const seen = new Set<string>();
  const block = type === COMPOSITE_INPUT ? compositeInputBlock : compositeOutputBlock;
  for (const n of def.nodes) {
    if (n.type !== type || seen.has(n.id)) continue;
    seen.add(n.id);
    const name = resolveParams(block, n.params).values.name as string;
    if (!name) problems.push({ severity: 'error', nodeId: n.id, param: 'name', message: 'the port needs a name' });
    else if (ports.some((p) => p.name === name))
      problems.push({
        severity: 'error',
        nodeId: n.id,
        param: 'name',
        message: `two ${type === COMPOSITE_INPUT ? 'input' : 'output'} ports are named "${name}"`,
      });
    else ports.push({ name, node: n.id });
  }
  return ports;
}

/** A composite's inside for these input shapes, or a ShapeError with the first problem. */
function expandOrThrow(c: Composite, inputs: Record<string, Shape>, repeat: number): { copies: ScopeAnalysis[]; outputs: Record<string, Shape> } {
  let first: Diagnostic | undefined;
  const r = expandComposite(c, inputs, repeat, c.id, (d) => void (first ??= d));
  if (!r.outputs) throw new ShapeError(first?.message ?? `composite "${c.id}" has problems inside`);
  return { copies: r.copies, outputs: r.outputs };
}

// One object for every composite block, so that the parameter schema built from it is cached.
const COMPOSITE_PARAMS: ParamDefs = { repeat: REPEAT_PARAM };

function compositeBlock(c: Composite): AnyBlock {
  const port =
    (side: string) =>
    (p: CompositePort): PortDef => ({ name: p.name, doc: `${side} "${p.name}" of the composite (node "${p.node}" inside).` });
  return {
    type: compositeType(c.id),
    label: c.def.label?.trim() || c.id,
    category: 'Composites',
    doc: c.def.doc ?? `A composite block defined in this file: ${plural(c.def.nodes.length, 'node')} inside.`,
    params: COMPOSITE_PARAMS,
    inputs: c.inputs.map(port('Input')),
    outputs: c.outputs.map(port('Output')),
    inferShape({ params, inputs }) {
      return expandOrThrow(c, inputs, params.repeat as number).outputs;
    },
    build(tf, ctx) {
      return buildComposite(tf, c, expandOrThrow(c, ctx.inputShapes, ctx.params.repeat as number).copies, ctx);
    },
    examples: [],
  };
}

/** Composites that contain themselves, through any chain of composites, get a problem on the node that closes the loop. */
function markRecursion(composites: Map<string, Composite>): void {
  const uses = new Map<string, { node: string; target: string }[]>();
  for (const c of composites.values())
    uses.set(
      c.id,
      c.def.nodes.flatMap((n) => {
        const target = compositeIdOf(n.type);
        return target !== undefined && composites.has(target) ? [{ node: n.id, target }] : [];
      }),
    );
  for (const c of composites.values()) {
    // Breadth first from c: the shortest chain back to c.
    const back = new Map<string, { from: string; node: string }>();
    const queue = [c.id];
    let closing: { from: string; node: string } | undefined;
    for (let qi = 0; qi < queue.length && !closing; qi++) {
      for (const u of uses.get(queue[qi])!) {
        if (u.target === c.id) {
          closing = { from: queue[qi], node: u.node };
          break;
        }
        if (!back.has(u.target)) {
          back.set(u.target, { from: queue[qi], node: u.node });
          queue.push(u.target);
        }
      }
    }
    if (!closing) continue;
    const chain = [c.id];
    let first = closing;
    for (let at = closing.from; at !== c.id; at = back.get(at)!.from) {
      chain.unshift(at);
      first = back.get(at)!;
    }
    chain.unshift(c.id);
    const node = chain.length === 2 ? closing.node : first.node;
    c.problems.push({ severity: 'error', nodeId: node, message: `composite "${c.id}" contains itself (${chain.join(' → ')}); composites cannot be recursive` });
  }
}

/** A composite output port suggests the loss that its source inside suggests (an Output after it uses it with "auto"). */
function passLosses(c: Composite, visiting: Set<string>): void {
  if (visiting.has(c.id)) return;
  visiting.add(c.id);
  c.outputs.forEach((p, i) => {
    const into = c.scope.nodes.get(p.node)?.incoming.get('in');
    if (into === undefined || !c.scope.valid[into]) return;
    const e = c.scope.edges[into];
    const src = c.scope.nodes.get(e.from.node)!;
    if (src.composite) passLosses(src.composite as Composite, visiting);
    const loss = src.outputs.find((q) => q.name === e.from.port)?.loss;
    if (loss) (c.block.outputs as PortDef[])[i].loss = loss;
  });
}

/**
 * A composite's own problems, reported once: through the first top-level node
 * that reaches it (so the editor shows them on that node), or without a node
 * when nothing uses it.
 */
function reportDefinitions(top: Scope, composites: Map<string, Composite>, report: Report): void {
  const done = new Set<string>();
  const visit = (c: Composite, chain: { instance: string; composite: string }[]) => {
    if (done.has(c.id)) return;
    done.add(c.id);
    for (const d of c.problems) report(chain.reduceRight((inner, link) => wrap(inner, link.instance, link.composite), d));
    for (const n of c.scope.nodes.values()) if (n.composite) visit(n.composite as Composite, [...chain, { instance: n.id, composite: n.composite.id }]);
  };
  for (const n of top.nodes.values()) if (n.composite) visit(n.composite as Composite, [{ instance: n.id, composite: n.composite.id }]);
  for (const c of composites.values()) {
    if (done.has(c.id)) continue;
    for (const d of c.problems) {
      const where = d.nodeId === undefined ? '' : `, node "${d.nodeId}"${d.port ? ` port "${d.port}"` : ''}`;
      report({ severity: d.severity, composite: c.id, message: `in composite "${c.id}" (not used)${where}: ${d.message}` });
    }
  }
}

/** Nodes that lie on a cycle: among the unordered ones, those that can reach themselves. */
function findCycleNodes(nodes: Map<string, NodeInfo>, edges: readonly GraphEdge[], order: string[]): string[] {
  const done = new Set(order);
  const rest = [...nodes.keys()].filter((id) => !done.has(id));
  const succ = new Map<string, string[]>();
  for (const id of rest) succ.set(id, []);
  for (const n of nodes.values())
    for (const ei of n.incoming.values()) {
      const from = edges[ei].from.node;
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

function cycleText(start: string, nodes: Map<string, NodeInfo>, edges: readonly GraphEdge[]): string {
  // Walk backwards along incoming edges until we come back to start.
  const path = [start];
  let cur = start;
  for (let steps = 0; steps < nodes.size; steps++) {
    const n = nodes.get(cur)!;
    const prev = [...n.incoming.values()].map((ei) => edges[ei].from.node).find((id) => id === start || reaches(start, id, nodes, edges));
    if (!prev) break;
    if (prev === start) return [...path, start].reverse().join(' → ');
    path.push(prev);
    cur = prev;
  }
  return path.reverse().join(' → ');
}

function reaches(from: string, target: string, nodes: Map<string, NodeInfo>, edges: readonly GraphEdge[]): boolean {
  // Is `from` reachable backwards from `target`, i.e. does from lie upstream of target?
  const stack = [target];
  const seen = new Set<string>();
  while (stack.length) {
    const id = stack.pop()!;
    for (const ei of nodes.get(id)?.incoming.values() ?? []) {
      const up = edges[ei].from.node;
      if (up === from) return true;
      if (!seen.has(up)) {
        seen.add(up);
        stack.push(up);
      }
    }
  }
  return false;
}
