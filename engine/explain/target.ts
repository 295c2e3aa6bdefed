// Where Grad-CAM looks: the layer whose activation it weighs, chosen from the
// graph. A feature map [B, H, W, C] is used as it is; a ViT's tokens [B, T, D]
// are put back on the patch grid (the class token dropped), which is the
// reshape pytorch-grad-cam leaves to its users. By default: for a ViT, the
// input of its last self-attention layer (the last tokens that still mix
// before the class token is read; pytorch-grad-cam's `blocks[-1].norm1`),
// otherwise the last spatial layer before the head, stepping back over the
// layers that only pool it (engine/shapes/feature-map.ts says why; the PyTorch
// export's forward_features() ends at the same layer).
import type { Shape, SymbolicTensor } from '../blocks/contract.js';
import type { CompiledGraph } from '../compile/compile.js';
import type { GraphAnalysis } from '../shapes/analyze.js';
import { inlineGraph, type InlinedNode } from '../shapes/inline.js';
import type { GraphFile } from '../graph/types.js';
import { fmtShape } from '../blocks/shape-rules.js';
import { isSpatialMap, onlyPoolsItsInput } from '../shapes/feature-map.js';

/** Where tokens come from: a patch embedding's grid, and how many tokens (the class token) lead it. */
export interface TokenGrid {
  rows: number;
  cols: number;
  /** Leading tokens that are not patches (the class token). */
  skip: number;
}

export interface TargetLayer {
  /** The node's inlined key ("encoders#1/layer" inside composites; the node id at the top level). */
  node: string;
  port: string;
  tensor: SymbolicTensor;
  shape: Shape;
  /** Rows and columns of the map the layer gives. */
  rows: number;
  cols: number;
  /** Set for tokens: the grid they lie on. */
  tokens?: TokenGrid;
}

export class ExplainError extends Error {
  constructor(
    message: string,
    /** The node the message is about, when there is one. */
    readonly nodeId?: string,
  ) {
    super(message);
    this.name = 'ExplainError';
  }
}

/** The token grid of every node downstream of a patch embedding whose tokens keep its count. */
function tokenGrids(inlined: readonly InlinedNode[]): Map<string, TokenGrid> {
  const grids = new Map<string, TokenGrid>();
  for (const n of inlined) {
    const { block, params, inputShapes, outputShapes } = n.info;
    if (block.type === 'attention.patchEmbedding') {
      const [, h, w] = inputShapes.in as number[];
      const patch = params.patch as number;
      grids.set(n.key, { rows: h / patch, cols: w / patch, skip: params.classToken ? 1 : 0 });
      continue;
    }
    const from = Object.values(n.inputs)
      .map((s) => grids.get(s.key))
      .find(Boolean);
    const out = Object.values(outputShapes ?? {})[0];
    if (from && out?.length === 3 && out[1] === from.rows * from.cols + from.skip) grids.set(n.key, from);
  }
  return grids;
}

/** The port a node's feature map comes out of: its first output that is not an attention map. */
function mapPort(n: InlinedNode): string | undefined {
  return n.info.outputs.find((p) => !p.attention)?.name;
}

/** A node output's map, before it is looked up in a compiled model. */
export type LayerMap = Omit<TargetLayer, 'tensor'>;

/** The map on one node's port, or an error that names the node and says why it has none. */
function mapOn(n: InlinedNode, port: string, grids: Map<string, TokenGrid>): LayerMap {
  const shape = n.info.outputShapes?.[port];
  if (!shape) throw new ExplainError(`node "${n.key}" has no output "${port}"`, n.key);
  if (n.info.block.type === 'io.input')
    throw new ExplainError(`node "${n.key}" is the model's input: Grad-CAM weighs a layer's activation, pick a layer after it`, n.key);
  const grid = grids.get(n.key);
  if (grid && shape.length === 3) return { node: n.key, port, shape, rows: grid.rows, cols: grid.cols, tokens: grid };
  if (isSpatialMap(shape)) return { node: n.key, port, shape, rows: shape[1]!, cols: shape[2]! };
  throw new ExplainError(
    `node "${n.key}" (${n.info.block.type}) outputs ${fmtShape(shape)} on "${port}": no spatial map for Grad-CAM; pick a node whose output is a feature map [B, H, W, C] or a ViT's tokens on its patch grid`,
    n.key,
  );
}

/** The map with the compiled model's tensor for it. */
function inModel(m: LayerMap, compiled: CompiledGraph): TargetLayer {
  const tensor = compiled.nodeOutputs.get(m.node)?.[m.port];
  if (!tensor) throw new ExplainError(`node "${m.node}" has no output "${m.port}"`, m.node);
  return { ...m, tensor };
}

/** A node by the id the user gave: an inlined key, or a composite node on the canvas (its last block). */
function findNode(inlined: readonly InlinedNode[], id: string): InlinedNode {
  const exact = inlined.find((n) => n.key === id);
  if (exact) return exact;
  const inside = inlined.filter((n) => n.path[0] === id || n.key.startsWith(`${id}/`));
  if (inside.length) return inside[inside.length - 1];
  throw new ExplainError(`there is no node "${id}" in the graph`, id);
}

/** Every node output with a map, in the order the model computes them. */
function layerMaps(inlined: readonly InlinedNode[], grids: Map<string, TokenGrid>): LayerMap[] {
  const found: LayerMap[] = [];
  for (const n of inlined) {
    const port = mapPort(n);
    if (!port || n.info.block.type === 'io.input') continue;
    try {
      found.push(mapOn(n, port, grids));
    } catch (err) {
      if (!(err instanceof ExplainError)) throw err;
    }
  }
  return found;
}

/** Every layer Grad-CAM can use, in the order the model computes them. */
export function targetLayers(graph: GraphFile, compiled: CompiledGraph): TargetLayer[] {
  const inlined = inlineGraph(graph, compiled.analysis);
  return layerMaps(inlined, tokenGrids(inlined)).map((m) => inModel(m, compiled));
}

/** The default layer described at the top of this file, from the graph's analysis alone (no model needed). */
export function defaultLayer(graph: GraphFile, analysis: GraphAnalysis): LayerMap {
  const inlined = inlineGraph(graph, analysis);
  const grids = tokenGrids(inlined);
  const byKey = new Map(inlined.map((n) => [n.key, n]));
  // A ViT: the tokens that feed its last self-attention on the patch grid.
  const lastAttention = inlined.filter((n) => grids.has(n.key) && n.info.outputs.some((p) => p.attention === 'matrix')).pop();
  const fed = lastAttention && Object.values(lastAttention.inputs)[0];
  if (fed && grids.has(fed.key)) return mapOn(byKey.get(fed.key)!, fed.port, grids);
  // Otherwise the last spatial map, stepping back over the layers that only pool it.
  const all = layerMaps(inlined, grids);
  for (let chosen = all.at(-1); chosen;) {
    const n = byKey.get(chosen.node)!;
    const from = Object.values(n.inputs);
    const earlier = onlyPoolsItsInput(n.info.block.type) && from.length === 1 ? all.find((m) => m.node === from[0].key && m.port === from[0].port) : undefined;
    if (!earlier) return chosen;
    chosen = earlier;
  }
  throw new ExplainError('no layer of the model outputs a spatial map ([B, H, W, C]) or ViT tokens on a patch grid: Grad-CAM needs one');
}

/**
 * The layer to explain: `layer` ("NODE" or "NODE:PORT") when given, else the
 * default described at the top of this file.
 */
export function chooseTarget(graph: GraphFile, compiled: CompiledGraph, layer?: string): TargetLayer {
  if (!layer) return inModel(defaultLayer(graph, compiled.analysis), compiled);
  const inlined = inlineGraph(graph, compiled.analysis);
  const colon = layer.lastIndexOf(':');
  const [id, port] = colon > 0 ? [layer.slice(0, colon), layer.slice(colon + 1)] : [layer, undefined];
  const n = findNode(inlined, id);
  const p = port ?? mapPort(n);
  if (!p) throw new ExplainError(`node "${n.key}" (${n.info.block.type}) has only attention outputs: no feature map for Grad-CAM`, n.key);
  return inModel(mapOn(n, p, tokenGrids(inlined)), compiled);
}

/** The patch grid a node's tokens lie on, if they come from a patch embedding. */
export function tokenGridOf(graph: GraphFile, compiled: CompiledGraph, node: string): TokenGrid | undefined {
  return tokenGrids(inlineGraph(graph, compiled.analysis)).get(node);
}
