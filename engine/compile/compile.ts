// Graph -> tf.LayersModel. Walks the graph in topological order, with its
// composites inlined (engine/shapes/inline.ts), lets each block build its layers, and collects the model outputs and the attention outputs
// (for the probe model that panels read).
import type { AttentionKind, LossName, Shape, StepClock, SymbolicTensor, TF } from '../blocks/contract.js';
import { registry as defaultRegistry, type BlockRegistry } from '../blocks/registry.js';
import { analyzeGraph, type GraphAnalysis } from '../shapes/analyze.js';
import { inlineGraph, layerName } from '../shapes/inline.js';
import { hasErrors, type Diagnostic, type GraphFile } from '../graph/types.js';
import { outputLoss } from '../shapes/output-loss.js';
import { nodeInitializers } from '../blocks/initializers.js';
import type * as tfjs from '@tensorflow/tfjs';

export class GraphError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(
      `the graph has ${diagnostics.filter((d) => d.severity === 'error').length} error(s): ${diagnostics.find((d) => d.severity === 'error')?.message ?? ''}`,
    );
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
  /** The node's id; inside composites its inlined key (e.g. "stage1#2/se"), so that every output has its own. */
  nodeId: string;
  /** Inside composites: node ids from the composite node on the canvas (path[0]) down to the block. */
  path?: string[];
  /** Inside composites: the copy (1-based) at each composite level of `path`. */
  copy?: number[];
  port: string;
  kind: AttentionKind;
  axes?: string;
  shape: Shape;
  tensor: SymbolicTensor;
  /** A caption decoder's attention: the word probabilities [B, words, vocab] its maps belong to (PortDef.wordsFrom). */
  words?: SymbolicTensor;
}

export interface CompiledGraph {
  model: tfjs.LayersModel;
  inputs: { nodeId: string; shape: Shape; dtype: 'float32' | 'int32' }[];
  outputs: ModelOutput[];
  attention: AttentionOutput[];
  /** Every block's output tensors by inlined key and port: where explanations tap the model. */
  nodeOutputs: Map<string, Record<string, SymbolicTensor>>;
  params: number;
  trainableParams: number;
  /** Parameters per top-level node (all the layers that node built; a composite node: everything inside it). */
  nodeParams: Map<string, { params: number; trainable: number }>;
  /** Parameters per node inside composites, by inlined key (e.g. "stage1#2/conv2"). */
  innerParams: Map<string, { params: number; trainable: number }>;
  /** The inlined node key of each node's layer name (prefix): layerOwner finds a layer's node with it. */
  layerKeys: Map<string, string>;
  analysis: GraphAnalysis;
  /** The training step the model's dropout masks follow: set it before each training step. */
  clock: StepClock;
}

export { layerName };

export const DEFAULT_SEED = 42;

export function compileGraph(tf: TF, graph: GraphFile, opts: { seed?: number; registry?: BlockRegistry } = {}): CompiledGraph {
  const analysis = analyzeGraph(graph, opts.registry ?? defaultRegistry);
  if (hasErrors(analysis.diagnostics)) throw new GraphError(analysis.diagnostics);
  const seed = opts.seed ?? graph.seed ?? DEFAULT_SEED;

  const produced = new Map<string, Record<string, SymbolicTensor>>();
  const inputs: CompiledGraph['inputs'] = [];
  const outputs: ModelOutput[] = [];
  const outputTensors: SymbolicTensor[] = [];
  const attention: AttentionOutput[] = [];
  const inputTensors: SymbolicTensor[] = [];
  const clock: StepClock = { step: 0 };
  const inlined = inlineGraph(graph, analysis);

  for (const { key, path, copy, info: n, layer: name, inputs: sources } of inlined) {
    const connected: Record<string, SymbolicTensor> = {};
    for (const [port, src] of Object.entries(sources)) connected[port] = produced.get(src.key)![src.port];

    if (n.block.type === 'io.output') {
      outputs.push({ nodeId: key, name, loss: outputLoss(graph, analysis, key), weight: n.params.weight as number, shape: n.inputShapes.in });
      // A named identity layer gives the output a stable name in the model.
      outputTensors.push(tf.layers.activation({ activation: 'linear', name }).apply(connected.in) as SymbolicTensor);
      continue;
    }

    const out = n.block.build(tf, {
      params: n.params,
      inputs: connected,
      inputShapes: n.inputShapes,
      name,
      // Inside composites the seeds follow the layer name, so a composite and the same graph drawn flat get the same weights.
      init: nodeInitializers(tf, seed, path.length === 1 ? key : name, clock),
    });
    produced.set(key, out);
    if (n.block.type === 'io.input') {
      inputTensors.push(out.out);
      inputs.push({ nodeId: key, shape: n.outputShapes!.out, dtype: n.outputs[0].dtype ?? 'float32' });
    }
    for (const p of n.outputs)
      if (p.attention)
        attention.push({
          nodeId: key,
          ...(path.length > 1 ? { path, copy } : {}),
          port: p.name,
          kind: p.attention,
          axes: p.axes,
          shape: n.outputShapes![p.name],
          tensor: out[p.name],
          ...(p.wordsFrom && { words: out[p.wordsFrom] }),
        });
  }

  const model = tf.model({ inputs: inputTensors, outputs: outputTensors, name: layerName(graph.name || 'model') });
  const layerKeys = new Map(inlined.map((n) => [n.layer, n.key]));
  const perLayer = countLayerParams(model, layerKeys);
  const nodeParams: CompiledGraph['nodeParams'] = new Map(analysis.order.map((id) => [id, { params: 0, trainable: 0 }]));
  const innerParams: CompiledGraph['innerParams'] = new Map();
  for (const n of inlined) {
    const own = perLayer.get(n.key)!;
    const owner = nodeParams.get(n.path[0])!;
    owner.params += own.params;
    owner.trainable += own.trainable;
    if (n.path.length > 1) innerParams.set(n.key, own);
  }
  const trainableParams = model.trainableWeights.reduce((s, w) => s + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
  return {
    model,
    inputs,
    outputs,
    attention,
    nodeOutputs: produced,
    params: model.countParams(),
    trainableParams,
    nodeParams,
    innerParams,
    layerKeys,
    analysis,
    clock,
  };
}

/** The node (value of `owners`, keyed by layer name) whose layer name is `layer` or, followed by "_", its longest prefix. */
export function layerOwner(layer: string, owners: Map<string, string>): string | undefined {
  let owner = owners.get(layer);
  for (let i = layer.lastIndexOf('_'); !owner && i > 0; i = layer.lastIndexOf('_', i - 1)) owner = owners.get(layer.slice(0, i));
  return owner;
}

/** Attributes each layer's weights to the node that built it (layerOwner). */
function countLayerParams(model: tfjs.LayersModel, owners: Map<string, string>): Map<string, { params: number; trainable: number }> {
  const result = new Map<string, { params: number; trainable: number }>();
  for (const key of owners.values()) result.set(key, { params: 0, trainable: 0 });
  for (const layer of model.layers) {
    const owner = layerOwner(layer.name, owners);
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
