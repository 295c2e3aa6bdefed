// Fine-tuning controls (trainConfigSchema's freeze, frozenBatchNorm,
// lrMultipliers, head, initWeights): which weights train and at what rate, a new
// classification head, and the pretrained weights a run starts from.
// Nodes are named as engine/graph/fine-tune-patterns.ts says.
import type * as tfjs from '@tensorflow/tfjs';
import type { Tensor, TF } from '../blocks/contract.js';
import { layerOwner, type CompiledGraph } from '../compile/compile.js';
import type { GraphFile, GraphNode } from '../graph/types.js';
import { loadCheckpoint, resolveCheckpoint } from './checkpoint.js';
import type { TrainConfig } from '../schemas/train-config.js';
import { checkPatterns, isFrozen, lrMultiplierOf } from '../graph/fine-tune-patterns.js';

type FineTuning = Pick<TrainConfig, 'freeze' | 'frozenBatchNorm' | 'lrMultipliers'>;

export interface FineTuneSummary {
  /** Weights (arrays) and parameters that train, and those frozen. */
  trainable: { weights: number; params: number };
  frozen: { weights: number; params: number };
  /** BatchNorm layers held in inference mode. */
  batchNormInInference: number;
}

const sizeOf = (w: tfjs.LayerVariable) => w.shape.reduce((a: number, b) => a * (b ?? 1), 1);

/**
 * Marks the layers of frozen nodes not trainable (their BatchNorm in inference
 * mode unless frozenBatchNorm is 'train') and gives the learning-rate multiplier
 * of each weight that still trains, in model.trainableWeights order.
 */
export function applyFineTuning(compiled: CompiledGraph, c: FineTuning): { multipliers: number[]; summary: FineTuneSummary } {
  checkPatterns(c, [...compiled.layerKeys.values()]);
  const summary: FineTuneSummary = { trainable: { weights: 0, params: 0 }, frozen: { weights: 0, params: 0 }, batchNormInInference: 0 };
  const multipliers: number[] = [];
  for (const layer of compiled.model.layers) {
    const key = layerOwner(layer.name, compiled.layerKeys);
    if (key === undefined || layer.weights.length === 0) continue;
    if (isFrozen(key, c)) {
      layer.trainable = false;
      if (c.frozenBatchNorm === 'inference' && layer.getClassName() === 'BatchNormalization') {
        inferenceMode(layer);
        summary.batchNormInInference++;
      }
    }
  }
  const owner = new Map<tfjs.LayerVariable, string>();
  for (const layer of compiled.model.layers) {
    const key = layerOwner(layer.name, compiled.layerKeys);
    if (key !== undefined) for (const w of layer.weights) owner.set(w, key);
  }
  for (const w of compiled.model.weights) {
    const side = w.trainable ? summary.trainable : summary.frozen;
    side.weights++;
    side.params += sizeOf(w);
  }
  for (const w of compiled.model.trainableWeights) multipliers.push(lrMultiplierOf(owner.get(w) ?? '', c.lrMultipliers));
  return { multipliers, summary };
}

/** A layer that runs as at inference whatever the caller asks (its moving statistics are used and stay as they are). */
function inferenceMode(layer: tfjs.layers.Layer): void {
  const call = layer.call.bind(layer);
  layer.call = (inputs, kwargs) => call(inputs, { ...kwargs, training: false });
}

/** What a head is: its block type and the parameter that counts the classes. */
const HEAD_PARAMS: Record<string, string> = { 'core.classificationHead': 'classes', 'core.dense': 'units' };

/** The head: the node named, or the first classification head or Dense found going back from the first Output. */
export function findHead(graph: GraphFile, nodeId?: string): GraphNode {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  if (nodeId !== undefined) {
    const n = byId.get(nodeId);
    if (!n) throw new Error(`head: the graph has no node "${nodeId}"`);
    if (!HEAD_PARAMS[n.type]) throw new Error(`head: node "${nodeId}" is a ${n.type}; a head is a ${Object.keys(HEAD_PARAMS).join(' or ')}`);
    return n;
  }
  const feeding = (id: string) => graph.edges.filter((e) => e.to.node === id).map((e) => byId.get(e.from.node)!);
  const seen = new Set<string>();
  let frontier = graph.nodes.filter((n) => n.type === 'io.output');
  while (frontier.length) {
    const next: GraphNode[] = [];
    for (const n of frontier) {
      if (seen.has(n.id)) continue;
      seen.add(n.id);
      if (HEAD_PARAMS[n.type]) return n;
      next.push(...feeding(n.id));
    }
    frontier = next;
  }
  throw new Error('head: no classification head or Dense node feeds an Output; name the head node');
}

/** The graph with its head giving `classes` outputs (the graph itself when it already does); the head's id. */
export function withHead(graph: GraphFile, head: TrainConfig['head'], datasetClasses: number): { graph: GraphFile; head?: string } {
  if (!head) return { graph };
  const node = findHead(graph, head.node);
  const classes = head.classes ?? datasetClasses;
  const param = HEAD_PARAMS[node.type];
  const nodes = graph.nodes.map((n) => (n === node ? { ...n, params: { ...n.params, [param]: classes } } : n));
  return { graph: { ...graph, nodes }, head: node.id };
}

/**
 * Sets a run's or checkpoint's weights into the model by name; those of `head`
 * (newly initialised) are skipped. A weight missing there, or of another shape,
 * means another graph: refused, naming it.
 */
export async function loadInitialWeights(tf: TF, compiled: CompiledGraph, from: string, head?: string): Promise<{ loaded: number; skipped: string[] }> {
  const dir = await resolveCheckpoint(from);
  const ck = await loadCheckpoint(tf, dir);
  const { model } = compiled;
  try {
    const saved = new Map(ck.weightNames.map((name, i) => [name, ck.weights[i]]));
    const headWeights = new Set(
      model.layers.filter((l) => head !== undefined && layerOwner(l.name, compiled.layerKeys)?.split(/[/#]/)[0] === head).flatMap((l) => l.weights),
    );
    const skipped: string[] = [];
    const writes: [tfjs.LayerVariable, Tensor][] = [];
    for (const w of model.weights) {
      const t = saved.get(w.originalName);
      if (headWeights.has(w)) skipped.push(w.originalName);
      else if (!t) throw new Error(`initWeights: ${dir} has no weight ${w.originalName}: it is from another graph`);
      else if (t.shape.join() !== w.shape.join())
        throw new Error(
          `initWeights: ${dir}: weight ${w.originalName} is [${t.shape.join(', ')}] there and [${w.shape.join(', ')}] in the graph; only the head (config.head) may change`,
        );
      else writes.push([w, t]);
    }
    for (const [w, t] of writes) w.write(t);
    return { loaded: writes.length, skipped };
  } finally {
    tf.dispose([...ck.weights, ...ck.optimizer]);
  }
}
