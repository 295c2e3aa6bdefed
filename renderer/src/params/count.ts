// Parameter counts per node, made by building each block's own tfjs layers on
// symbolic inputs of the shapes the analysis inferred. Counting the real layers
// (rather than a formula per block) keeps the numbers equal to the compiler's
// and needs nothing new from a block. Each node is counted on its own, so a
// graph with an error elsewhere still gets counts, and results are cached by
// (type, params, input shapes): an edit recounts only the nodes it changed.
import type { LayersModel } from '@tensorflow/tfjs';
import type { AnyBlock, ParamDefs, ParamValues, Shape, SymbolicTensor, TF } from '../../../engine/blocks/contract.js';
import type { GraphAnalysis, NodeInfo, ScopeAnalysis } from '../../../engine/shapes/analyze.js';
import { COMPOSITE_INPUT, COMPOSITE_OUTPUT } from '../../../engine/shapes/composite.js';
import type { GraphFile } from '../../../engine/graph/types.js';
import { nodeInitializers } from '../../../engine/blocks/initializers.js';

type Layer = LayersModel['layers'][number];

export interface CountRequest {
  key: string;
  type: string;
  params: ParamValues<ParamDefs>;
  inputs: Record<string, { shape: Shape; dtype: 'float32' | 'int32' }>;
}

/** Where the worker files a request's trainable count, beside its total under `key`. */
export const trainableKey = (key: string) => `trainable:${key}`;

/** The count requests for every node whose input shapes are known. */
export function countRequests(graph: GraphFile, analysis: GraphAnalysis): Map<string, CountRequest> {
  const out = new Map<string, CountRequest>();
  for (const id of analysis.order) {
    const n = analysis.nodes.get(id)!;
    if (n.outputShapes) out.set(id, request(analysis, n));
  }
  return out;
}

/**
 * id -> parameter count (undefined while unknown); a composite node's count sums
 * the blocks inside it. With `only`, the count of the blocks inside for whose
 * inlined key it holds (e.g. the frozen ones). With `inside`, `id` is a node of
 * that composite's definition, counted over every use of the composite.
 */
export type ParamCounts = (id: string, only?: (nodeKey: string) => boolean, inside?: string) => number | undefined;

/**
 * A node's weights counted two ways: all of them, and those of a kind that
 * training changes (trainable variables: not BatchNorm's moving mean and
 * variance, which follow the batches and never a gradient). The compiler's
 * `trainableParams`, the trainer's fine-tuning split and papers count the same way.
 */
export interface WeightCounts {
  all: ParamCounts;
  trainable: ParamCounts;
}

/** The sum of `parts`' counts (those whose node `only` holds); undefined where there are none or a count is not known yet. */
export function sumParts(
  parts: readonly CountPart[] | undefined,
  countOf: (requestKey: string) => number | string | undefined,
  only?: (nodeKey: string) => boolean,
): number | undefined {
  if (!parts) return undefined;
  let sum = 0;
  for (const p of parts) {
    const v = countOf(p.key);
    if (typeof v !== 'number') return undefined;
    if (!only || only(p.node)) sum += v;
  }
  return sum;
}

/** One block's count request, and the inlined key of the node it counts ("stage1#2/conv1"), as fine-tuning patterns name nodes. */
export type CountPart = CountRequest & { node: string };

/**
 * What each node's count is the sum of: its own request, or for a composite
 * node the requests of the blocks inside each of its copies (copies of a repeat
 * share their keys, so each distinct block is counted once). Nodes whose
 * shapes are unknown are left out.
 */
export function countParts(analysis: GraphAnalysis): Map<string, CountPart[]> {
  const out = new Map<string, CountPart[]>();
  for (const id of analysis.order) {
    const parts = partsOf(analysis, analysis.nodes.get(id)!, id);
    if (parts) out.set(id, parts);
  }
  return out;
}

/** The parts of node `n`, whose inlined key is `key` (copies marked #1, #2… as engine/shapes/inline.ts marks them). */
function partsOf(scope: ScopeAnalysis, n: NodeInfo, key: string): CountPart[] | undefined {
  if (!n.outputShapes) return undefined;
  if (!n.composite) return [{ ...request(scope, n), node: key }];
  if (!n.copies?.length) return undefined;
  const parts: CountPart[] = [];
  for (const { copy, inner, key: innerKey } of blocksInside(n, key)) {
    const p = partsOf(copy, inner, innerKey);
    if (!p) return undefined;
    parts.push(...p);
  }
  return parts;
}

/** The nodes inside each copy of composite node `n` (whose inlined key is `key`), ports left out, with their inlined keys. */
function* blocksInside(n: NodeInfo, key: string): Generator<{ copy: ScopeAnalysis; inner: NodeInfo; key: string }> {
  for (const [k, copy] of (n.copies ?? []).entries())
    for (const id of copy.order) {
      const inner = copy.nodes.get(id)!;
      if (inner.block.type === COMPOSITE_INPUT || inner.block.type === COMPOSITE_OUTPUT) continue;
      yield { copy, inner, key: `${key}${n.copies!.length > 1 ? `#${k + 1}` : ''}/${id}` };
    }
}

/**
 * What the count of a node inside a composite definition is the sum of: its
 * parts in every use of the composite (each instance, each copy of a repeat).
 * Composite id -> node id -> parts; undefined where some use's shapes are unknown.
 */
export function insideParts(analysis: GraphAnalysis): Map<string, Map<string, CountPart[] | undefined>> {
  const out = new Map<string, Map<string, CountPart[] | undefined>>();
  const visit = (n: NodeInfo, key: string) => {
    if (!n.composite || !n.outputShapes) return;
    let byNode = out.get(n.composite.id);
    if (!byNode) out.set(n.composite.id, (byNode = new Map()));
    for (const { copy, inner, key: innerKey } of blocksInside(n, key)) {
      const p = partsOf(copy, inner, innerKey);
      const id = innerKey.slice(innerKey.lastIndexOf('/') + 1);
      const known = byNode.has(id) ? byNode.get(id) : [];
      byNode.set(id, p && known ? [...known, ...p] : undefined);
      visit(inner, innerKey);
    }
  };
  for (const id of analysis.order) visit(analysis.nodes.get(id)!, id);
  return out;
}

function request(scope: ScopeAnalysis, n: NodeInfo): CountRequest {
  const inputs: CountRequest['inputs'] = {};
  for (const p of n.inputs) {
    const shape = n.inputShapes[p.name];
    if (!shape) continue;
    const edge = scope.edges[n.incoming.get(p.name)!];
    const src = scope.nodes.get(edge.from.node)?.outputs.find((o) => o.name === edge.from.port);
    inputs[p.name] = { shape, dtype: p.dtype ?? src?.dtype ?? 'float32' };
  }
  const key = JSON.stringify([n.block.type, n.params, inputs]);
  return { key, type: n.block.type, params: n.params, inputs };
}

/** Builds the block's layers on symbolic inputs and counts their weights. */
export function countBlockParams(tf: TF, block: AnyBlock, req: Omit<CountRequest, 'key'>): number {
  return countBlockWeights(tf, block, req).all;
}

/**
 * All the block's weights, and the trainable ones among them (not BatchNorm's
 * moving statistics): papers and torchvision quote the trainable count.
 */
export function countBlockWeights(tf: TF, block: AnyBlock, req: Omit<CountRequest, 'key'>): { all: number; trainable: number } {
  const inputs: Record<string, SymbolicTensor> = {};
  for (const [port, { shape, dtype }] of Object.entries(req.inputs)) inputs[port] = tf.input({ shape: shape.slice(1) as number[], dtype });
  const inputShapes = Object.fromEntries(Object.entries(req.inputs).map(([k, v]) => [k, v.shape]));
  const outs = Object.values(block.build(tf, { params: req.params, inputs, inputShapes, name: 'n', init: nodeInitializers(tf, 0, 'n') }));
  // The layers between the outputs and the symbolic inputs are this node's.
  const layers = new Set<Layer>();
  const stack = outs.map((t) => t.sourceLayer as Layer);
  while (stack.length) {
    const layer = stack.pop()!;
    if (layers.has(layer)) continue;
    layers.add(layer);
    for (const node of layer.inboundNodes) stack.push(...(node.inboundLayers as Layer[]));
  }
  let all = 0;
  let trainable = 0;
  for (const layer of layers) {
    all += layer.countParams();
    for (const w of layer.trainableWeights) trainable += w.shape.reduce((a: number, b) => a * (b ?? 1), 1);
    layer.dispose();
  }
  return { all, trainable };
}
