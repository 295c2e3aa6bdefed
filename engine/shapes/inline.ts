// A graph with its composites inlined: the flat list of real blocks that the
// compiler builds and the exporters write, in topological order. Composite
// nodes and the port nodes inside them disappear; each inner node gets a unique
// key, a layer name prefixed by its instance (and copy), and the sources of its
// inputs resolved through the composite ports.
import type { BuildContext, ParamDefs, SymbolicTensor, TF } from '../blocks/contract.js';
import { COMPOSITE_INPUT, COMPOSITE_OUTPUT } from './composite.js';
import type { CompositeInfo, NodeInfo, ScopeAnalysis } from './analysis-types.js';
import type { GraphAnalysis } from './analyze.js';
import { fmtCount, LIMITS_ENV, resolveLimits } from '../graph/limit-settings.js';
import type { GraphFile } from '../graph/types.js';

/** An output port of an inlined node (or, for inlineInstance, an input port of the instance: key ""). */
export interface Source {
  key: string;
  port: string;
}

export interface InlinedNode {
  /**
   * Unique among the inlined nodes: the node id at the top level; inside
   * composites the path of ids joined by "/", with "#k" after an instance
   * that repeats, e.g. "stage1#2/conv2".
   */
  key: string;
  /** Node ids from the top-level node down to this one (just the id at the top level). */
  path: string[];
  /** The copy (1-based) at each composite level of `path`: one entry fewer than `path`. */
  copy: number[];
  /** The node's block, parameters and shapes (those of this copy, inside composites). */
  info: NodeInfo;
  /** Its label, prefixed by its instances' labels inside composites. */
  label: string;
  /** Unique tfjs layer name (prefix, for blocks that build several layers), e.g. "stage1_r2_conv2". */
  layer: string;
  /** The key and layer name of each composite instance it sits in, outermost first (one per entry of `copy`); see copyKey and copyLayer. */
  instances: { key: string; layer: string }[];
  /** Where each connected input comes from. */
  inputs: Record<string, Source>;
}

const layerSegment = (id: string) => id.replace(/[^A-Za-z0-9_]/g, '_');

/** A tfjs layer name made from a node id: letters, digits and underscores, starting with a letter. */
export function layerName(nodeId: string): string {
  const clean = layerSegment(nodeId);
  return /^[A-Za-z]/.test(clean) ? clean : `n_${clean}`;
}

/** The key of copy `k` (1-based) of the composite instance keyed `key`: "stage1#2" where the instance repeats. */
export const copyKey = (key: string, k: number, repeated: boolean) => (repeated ? `${key}#${k}` : key);

/** The layer-name prefix of copy `k` (a number, or the text that stands for one) of the composite instance whose layer name is `layer`: "stage1_r2" where it repeats. */
export const copyLayer = (layer: string, k: number | string, repeated: boolean) => (repeated ? `${layer}_r${k}` : layer);

/** Where a scope sits: the instance (and copy) it is the inside of. */
interface Level {
  path: string[];
  copy: number[];
  key: string;
  layer: string;
  instances: { key: string; layer: string }[];
  label: string;
  /** Composite input node id -> what feeds that port of the instance. */
  bound: Map<string, Source>;
}

/** Thrown when inlining would pass the node limit: the second guard behind analyzeGraph's, so that nothing expands without bound. */
export class InlineLimitError extends Error {
  constructor(readonly limit: number) {
    super(
      `the graph expands to more than ${fmtCount(limit)} nodes after inlining composites and repeats; raise the limit with --limits nodes=N (or ${LIMITS_ENV})`,
    );
    this.name = 'InlineLimitError';
  }
}

class Inliner {
  readonly nodes: InlinedNode[] = [];
  private readonly usedLayers = new Set<string>();
  /** Nodes visited, composite port nodes included (as analyzeGraph counts them). */
  private visited = 0;

  constructor(
    private readonly labelsOf: (composite: string) => Map<string, string>,
    private readonly maxNodes: number,
  ) {}

  /** Inlines one scope; returns what each of its nodes' output ports resolved to. */
  scope(scope: ScopeAnalysis, level: Level | undefined, labels: Map<string, string>): Map<string, Record<string, Source>> {
    const produced = new Map<string, Record<string, Source>>();
    const source = (n: NodeInfo, port: string): Source => {
      const e = scope.edges[n.incoming.get(port)!];
      return produced.get(e.from.node)![e.from.port];
    };
    for (const id of scope.order) {
      if (++this.visited > this.maxNodes) throw new InlineLimitError(this.maxNodes);
      const n = scope.nodes.get(id)!;
      const label = level ? `${level.label}_${labels.get(id) ?? id}` : (labels.get(id) ?? id);
      const path = level ? [...level.path, id] : [id];
      const layer = level ? `${level.layer}_${layerSegment(id)}` : layerName(id);
      // Bypassed: its one output is whatever feeds its one input.
      if (n.bypass) produced.set(id, { [n.outputs[0].name]: source(n, n.inputs[0].name) });
      else if (n.block.type === COMPOSITE_INPUT) produced.set(id, { out: level!.bound.get(id)! });
      else if (n.block.type === COMPOSITE_OUTPUT) produced.set(id, { out: source(n, 'in') });
      else if (n.composite) {
        const feed = Object.fromEntries(n.composite.inputs.map((p) => [p.name, source(n, p.name)]));
        produced.set(
          id,
          this.instance(n, feed, { path, copy: level?.copy ?? [], key: level ? `${level.key}/${id}` : id, layer, label, instances: level?.instances ?? [] }),
        );
      } else {
        const key = level ? `${level.key}/${id}` : id;
        const inputs: Record<string, Source> = {};
        for (const port of n.incoming.keys()) inputs[port] = source(n, port);
        let unique = layer;
        for (let k = 2; this.usedLayers.has(unique); k++) unique = `${layer}_${k}`;
        this.usedLayers.add(unique);
        this.nodes.push({ key, path, copy: level?.copy ?? [], info: n, label, layer: unique, instances: level?.instances ?? [], inputs });
        produced.set(id, Object.fromEntries(n.outputs.map((p) => [p.name, { key, port: p.name }])));
      }
    }
    return produced;
  }

  /** Inlines the copies of a composite node, fed by `feed` (by port name); returns its outputs by port name. */
  instance(n: NodeInfo, feed: Record<string, Source>, at: Omit<Level, 'bound'>): Record<string, Source> {
    const c = n.composite!;
    const copies = n.copies ?? [];
    if (!copies.length || copies.length !== n.params.repeat)
      throw new Error(`composite node "${at.path.join('/')}" has no shapes: analyse the graph without errors first`);
    const repeated = copies.length > 1;
    let outputs: Record<string, Source> = {};
    copies.forEach((copy, i) => {
      const k = i + 1;
      const layer = copyLayer(at.layer, k, repeated);
      const inner = this.scope(
        copy,
        {
          path: at.path,
          copy: [...at.copy, k],
          key: copyKey(at.key, k, repeated),
          layer,
          instances: [...at.instances, { key: at.key, layer: at.layer }],
          label: repeated ? `${at.label}_r${k}` : at.label,
          bound: new Map(c.inputs.map((p) => [p.node, feed[p.name]])),
        },
        this.labelsOf(c.id),
      );
      outputs = Object.fromEntries(c.outputs.map((p) => [p.name, inner.get(p.node)!.out]));
      if (repeated) feed = { [c.inputs[0].name]: outputs[c.outputs[0].name] };
    });
    return outputs;
  }
}

const labelMap = (nodes: readonly { id: string; label?: string }[]) => new Map(nodes.map((n) => [n.id, n.label?.trim() || n.id]));

/** Inlines every composite node of an analysed graph that has no errors; throws InlineLimitError past the analysis's node limit. */
export function inlineGraph(graph: GraphFile, analysis: GraphAnalysis): InlinedNode[] {
  const inner = new Map((graph.composites ?? []).map((c) => [c.id, labelMap(c.nodes)]));
  const inliner = new Inliner((id) => inner.get(id) ?? new Map(), analysis.limits.nodes);
  inliner.scope(analysis, undefined, labelMap(graph.nodes));
  return inliner.nodes;
}

/**
 * Builds a composite node's blocks on its inputs, as its block's builder: layers
 * named `${ctx.name}_<inner path>`, all initialised from the node's own seed
 * stream. (The compiler inlines composites itself, seeding each inner node by its
 * layer name.)
 */
export function buildComposite(tf: TF, composite: CompositeInfo, copies: ScopeAnalysis[], ctx: BuildContext<ParamDefs>): Record<string, SymbolicTensor> {
  const inliner = new Inliner(() => new Map(), resolveLimits().nodes);
  const at = { path: [ctx.name], copy: [], key: '', layer: ctx.name, label: ctx.name, instances: [] };
  const node = { composite, copies, params: { repeat: copies.length } } as unknown as NodeInfo;
  const outputs = inliner.instance(node, Object.fromEntries(composite.inputs.map((p) => [p.name, { key: '', port: p.name }])), at);
  const produced = new Map<string, Record<string, SymbolicTensor>>([['', ctx.inputs]]);
  for (const n of inliner.nodes) {
    const inputs = Object.fromEntries(Object.entries(n.inputs).map(([port, s]) => [port, produced.get(s.key)![s.port]]));
    produced.set(n.key, n.info.block.build(tf, { params: n.info.params, inputs, inputShapes: n.info.inputShapes, name: n.layer, init: ctx.init }));
  }
  return Object.fromEntries(Object.entries(outputs).map(([port, s]) => [port, produced.get(s.key)![s.port]]));
}
