// Graph -> tf.LayersModel. Walks the graph in topological order, lets each block
// build its layers, and collects the model outputs and the attention outputs
// (for the probe model that panels read).
import type { AttentionKind, LossName, Shape, SymbolicTensor, TF } from '../blocks/contract.js';
import { registry as defaultRegistry, type BlockRegistry } from '../blocks/registry.js';
import { analyzeGraph, type GraphAnalysis } from '../graph/analyze.js';
import { hasErrors, type Diagnostic, type GraphFile } from '../graph/types.js';
import { nodeInitializers } from './initializers.js';
import type * as tfjs from '@tensorflow/tfjs';

export class GraphError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(`the graph has ${diagnostics.filter((d) => d.severity === 'error').length} error(s): ${diagnostics.find((d) => d.severity === 'error')?.message ?? ''}`);
    this.name = 'GraphError';
  }
}

export interface ModelOutput {
  nodeId: string;
  /** tfjs output name (the model's output order follows this list). */
  name: string;
  loss: LossName | null;
  weight: number;
  shape: Shape;
}

export interface AttentionOutput {
  nodeId: string;
  port: string;
  kind: AttentionKind;
  axes?: string;
  shape: Shape;
  tensor: SymbolicTensor;
}

export interface CompiledGraph {
  model: tfjs.LayersModel;
  inputs: { nodeId: string; shape: Shape; dtype: 'float32' | 'int32' }[];
  outputs: ModelOutput[];
  attention: AttentionOutput[];
  params: number;
  trainableParams: number;
  /** Parameters per node (all the layers that node built). */
  nodeParams: Map<string, { params: number; trainable: number }>;
  analysis: GraphAnalysis;
}

/** A tfjs layer name made from a node id: letters, digits and underscores, unique. */
export function layerName(nodeId: string): string {
  const clean = nodeId.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z]/.test(clean) ? clean : `n_${clean}`;
}

export const DEFAULT_SEED = 42;

/** The loss an Output node trains with: its own choice, or with "auto" the one its source port suggests. */
export function outputLoss(graph: GraphFile, analysis: GraphAnalysis, outputId: string): LossName | null {
  const n = analysis.nodes.get(outputId)!;
  const chosen = n.params.loss as string;
  if (chosen === 'none') return null;
  if (chosen !== 'auto') return chosen as LossName;
  const src = graph.edges[n.incoming.get('in')!];
  return analysis.nodes.get(src.from.node)!.outputs.find((p) => p.name === src.from.port)?.loss ?? 'meanSquaredError';
}

export function compileGraph(tf: TF, graph: GraphFile, opts: { seed?: number; registry?: BlockRegistry } = {}): CompiledGraph {
  const analysis = analyzeGraph(graph, opts.registry ?? defaultRegistry);
  if (hasErrors(analysis.diagnostics)) throw new GraphError(analysis.diagnostics);
  const seed = opts.seed ?? graph.seed ?? DEFAULT_SEED;

  const produced = new Map<string, Record<string, SymbolicTensor>>();
  const usedNames = new Set<string>();
  const inputs: CompiledGraph['inputs'] = [];
  const outputs: ModelOutput[] = [];
  const outputTensors: SymbolicTensor[] = [];
  const attention: AttentionOutput[] = [];
  const inputTensors: SymbolicTensor[] = [];
  const nodeLayers = new Map<string, string>();

  for (const id of analysis.order) {
    const n = analysis.nodes.get(id)!;
    const connected: Record<string, SymbolicTensor> = {};
    for (const [port, ei] of n.incoming) {
      const e = graph.edges[ei];
      connected[port] = produced.get(e.from.node)![e.from.port];
    }
    let name = layerName(id);
    for (let k = 2; usedNames.has(name); k++) name = `${layerName(id)}_${k}`;
    usedNames.add(name);
    nodeLayers.set(id, name);

    if (n.block.type === 'io.output') {
      outputs.push({ nodeId: id, name, loss: outputLoss(graph, analysis, id), weight: n.params.weight as number, shape: n.inputShapes.in });
      // A named identity layer gives the output a stable name in the model.
      outputTensors.push(tf.layers.activation({ activation: 'linear', name }).apply(connected.in) as SymbolicTensor);
      continue;
    }

    const out = n.block.build(tf, {
      params: n.params,
      inputs: connected,
      inputShapes: n.inputShapes,
      name,
      init: nodeInitializers(tf, seed, id),
    });
    produced.set(id, out);
    if (n.block.type === 'io.input') {
      inputTensors.push(out.out);
      inputs.push({ nodeId: id, shape: n.outputShapes!.out, dtype: n.outputs[0].dtype ?? 'float32' });
    }
    for (const p of n.outputs)
      if (p.attention) attention.push({ nodeId: id, port: p.name, kind: p.attention, axes: p.axes, shape: n.outputShapes![p.name], tensor: out[p.name] });
  }

  const model = tf.model({ inputs: inputTensors, outputs: outputTensors, name: layerName(graph.name || 'model') });
  const nodeParams = countNodeParams(model, nodeLayers);
  const trainableParams = model.trainableWeights.reduce((s, w) => s + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
  return { model, inputs, outputs, attention, params: model.countParams(), trainableParams, nodeParams, analysis };
}

/** Attributes each layer's weights to the node whose name prefixes it. */
function countNodeParams(model: tfjs.LayersModel, nodeLayers: Map<string, string>): CompiledGraph['nodeParams'] {
  const byPrefix = new Map<string, string>();
  for (const [id, name] of nodeLayers) byPrefix.set(name, id);
  const result = new Map<string, { params: number; trainable: number }>();
  for (const id of nodeLayers.keys()) result.set(id, { params: 0, trainable: 0 });
  for (const layer of model.layers) {
    let owner = byPrefix.get(layer.name);
    if (!owner) {
      // Blocks that build several layers name them `${name}_suffix`: longest matching prefix wins.
      let best = '';
      for (const name of byPrefix.keys()) if (layer.name.startsWith(`${name}_`) && name.length > best.length) best = name;
      owner = byPrefix.get(best);
    }
    if (!owner) continue;
    const r = result.get(owner)!;
    for (const w of layer.weights) {
      const size = w.shape.reduce((a: number, b) => a * (b ?? 1), 1);
      r.params += size;
      if (w.trainable) r.trainable += size;
    }
  }
  return result;
}
