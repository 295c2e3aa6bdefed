// A graph with its composites inlined: the flat list of real blocks that the
// compiler builds and the exporters write, in topological order. Composite
// nodes and the port nodes inside them disappear; each inner node gets a unique
// key, a layer name prefixed by its instance (and copy), and the sources of its
// inputs resolved through the composite ports.
import { COMPOSITE_INPUT, COMPOSITE_OUTPUT } from './composite.js';
import type { GraphAnalysis, NodeInfo, ScopeAnalysis } from './analyze.js';
import type { GraphFile } from './types.js';

/** An output port of an inlined node. */
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
  /** Where each connected input comes from. */
  inputs: Record<string, Source>;
}

const layerSegment = (id: string) => id.replace(/[^A-Za-z0-9_]/g, '_');

/** A tfjs layer name made from a node id: letters, digits and underscores, starting with a letter. */
export function layerName(nodeId: string): string {
  const clean = layerSegment(nodeId);
  return /^[A-Za-z]/.test(clean) ? clean : `n_${clean}`;
}

/** Inlines every composite instance of an analysed graph that has no errors. */
export function inlineGraph(graph: GraphFile, analysis: GraphAnalysis): InlinedNode[] {
  const out: InlinedNode[] = [];
  const usedLayers = new Set<string>();
  const unique = (base: string) => {
    let name = base;
    for (let k = 2; usedLayers.has(name); k++) name = `${base}_${k}`;
    usedLayers.add(name);
    return name;
  };
  const labels = new Map(graph.nodes.map((n) => [n.id, n.label?.trim() || n.id]));
  const innerLabels = new Map<string, Map<string, string>>();
  for (const c of graph.composites ?? []) innerLabels.set(c.id, new Map(c.nodes.map((n) => [n.id, n.label?.trim() || n.id])));

  interface Level {
    path: string[];
    copy: number[];
    key: string;
    layer: string;
    label: string;
    /** Composite input node id -> what feeds that port of the instance. */
    bound: Map<string, Source>;
    labels: Map<string, string>;
  }

  /** Inlines one scope; returns what each of its nodes' output ports resolved to. */
  const walk = (scope: ScopeAnalysis, level: Level | undefined): Map<string, Record<string, Source>> => {
    const produced = new Map<string, Record<string, Source>>();
    const source = (n: NodeInfo, port: string): Source => {
      const e = scope.edges[n.incoming.get(port)!];
      return produced.get(e.from.node)![e.from.port];
    };
    for (const id of scope.order) {
      const n = scope.nodes.get(id)!;
      const label = level ? `${level.label}_${level.labels.get(id) ?? id}` : labels.get(id) ?? id;
      const path = level ? [...level.path, id] : [id];
      const layerBase = level ? `${level.layer}_${layerSegment(id)}` : layerName(id);
      if (n.block.type === COMPOSITE_INPUT) {
        produced.set(id, { out: level!.bound.get(id)! });
        continue;
      }
      if (n.block.type === COMPOSITE_OUTPUT) {
        produced.set(id, { out: source(n, 'in') });
        continue;
      }
      if (n.composite) {
        const c = n.composite;
        if (!n.copies || n.copies.length !== (n.params.repeat as number)) throw new Error(`composite node "${path.join('/')}" has no shapes: analyse the graph without errors first`);
        let feed: Record<string, Source> = Object.fromEntries(c.inputs.map((p) => [p.name, source(n, p.name)]));
        const repeated = n.copies.length > 1;
        n.copies.forEach((copy, i) => {
          const k = i + 1;
          const inner = walk(copy, {
            path,
            copy: [...(level?.copy ?? []), k],
            key: `${level ? `${level.key}/` : ''}${id}${repeated ? `#${k}` : ''}`,
            layer: repeated ? `${layerBase}_r${k}` : layerBase,
            label: repeated ? `${label}_r${k}` : label,
            bound: new Map(c.inputs.map((p) => [p.node, feed[p.name]])),
            labels: innerLabels.get(c.id) ?? new Map(),
          });
          const outputs = Object.fromEntries(c.outputs.map((p) => [p.name, inner.get(p.node)!.out]));
          if (k === n.copies!.length) produced.set(id, outputs);
          else feed = { [c.inputs[0].name]: outputs[c.outputs[0].name] };
        });
        continue;
      }
      const key = level ? `${level.key}/${id}` : id;
      const inputs: Record<string, Source> = {};
      for (const port of n.incoming.keys()) inputs[port] = source(n, port);
      out.push({ key, path, copy: level?.copy ?? [], info: n, label, layer: unique(layerBase), inputs });
      produced.set(id, Object.fromEntries(n.outputs.map((p) => [p.name, { key, port: p.name }])));
    }
    return produced;
  };
  walk(analysis, undefined);
  return out;
}
