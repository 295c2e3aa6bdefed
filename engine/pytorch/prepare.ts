// The files a PyTorch run trains from, written once per run under
// <run folder>/pytorch/: the graph's export (with attention probes on), the
// prepared data as .npy arrays in the module's layout (the same split, seed
// and normalisation as the tfjs trainer: engine/data does the preparing), the
// data order and learning rate of every step, and spec.json tying them
// together for train_worker.py. Nothing here needs tfjs.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportPytorch, type PytorchExport } from '../export/pytorch.js';
import { planExport, type ExportPlan } from '../export/plan.js';
import type { GraphFile } from '../graph/types.js';
import type { ArrayDataset, PreparedData } from '../data/index.js';
import { deriveSeed, permutation } from '../data/random.js';
import { permuteArray } from '../export/torch-weights.js';
import type { TrainConfig } from '../schemas/train-config.js';
import type { LiveExplainPlan } from '../schemas/train-events.js';
import { learningRate } from '../train/schedule.js';
import { writeNpy } from './npy.js';
import { torchFineTuning, type TorchFineTuning } from './fine-tune.js';

/**
 * The worker script, read from the source tree (tsc copies no .py files); in
 * the packaged app from the unpacked copy beside the asar archive, which
 * Python cannot read into (electron-builder.yml unpacks it).
 */
export const WORKER_SCRIPT = fileURLToPath(new URL('../../../engine/pytorch/train_worker.py', import.meta.url)).replace(
  /app\.asar([\\/])/,
  'app.asar.unpacked$1',
);

export interface TrainedOutputSpec {
  /** Position in the module's returned tuple. */
  index: number;
  nodeId: string;
  loss: string;
  weight: number;
}

export interface AttentionSpec {
  nodeId: string;
  port: string;
  kind: string;
  axes?: string;
}

/** A caption decoder's attention, whose probes also record the words (engine/train/caption-record.ts). */
export interface CaptionSpec {
  nodeId: string;
  port: string;
  /** Position in the module's returned tuple of the decoder's words (the Output node wired to its `wordsFrom` port). */
  output: number;
  /** The data's vocabulary: a word's id names it. */
  classNames: string[];
}

/** spec.json: what train_worker.py reads, every field of it (test/pytorch-options.test.ts checks). */
export interface RunSpec {
  model: string;
  data: { trainX: string; trainY: string; valX: string; valY: string; orders: string; rates: string };
  inputDtype: 'float32' | 'int32';
  classes: number;
  outputs: TrainedOutputSpec[];
  attention: AttentionSpec[];
  /** With probes on, the caption decoder whose probe samples' words the worker sends (null: none). */
  caption: CaptionSpec | null;
  /** What the worker explains at each probe (null: nothing, or probe.explain off). */
  explain: LiveExplainPlan | null;
  config: TrainConfig;
  device: string;
  /** With several ranks, BatchNorm normalises over the global batch (SyncBatchNorm), as one rank would. */
  syncBatchNorm: boolean;
  /** Where rank 0 writes its safetensors (they then go into a checkpoint of the run folder). */
  staging: string;
  /** Under a bare torchrun (no attn reading rank 0's stdout), where rank 0 also appends its events, for finalize.ts. */
  events: string;
  /** Per model output: forward() gives logits (the trainer applies the softmax, as the graph does). */
  logits: boolean[];
  /** Frozen parameters, BatchNorm held in eval mode, learning-rate multipliers (fine-tuning). */
  fineTune: TorchFineTuning;
  /** Weights to start from (the compiled graph's seeded initial weights, or a checkpoint), optimizer state when continuing. */
  resume?: { weights: string; optimizer?: string; optimizerStep?: number; state?: unknown };
}

/** The trained outputs in the module's return order (the exporter returns the Output nodes in plan order). */
function trainedOutputs(graph: GraphFile): TrainedOutputSpec[] {
  const plan = planExport(graph, 'pytorch');
  return plan.outputs.flatMap((o, index) => (o.loss ? [{ index, nodeId: o.id, loss: o.loss, weight: o.lossWeight ?? 1 }] : []));
}

/**
 * The first attention output that belongs to a caption decoder's words, as the tfjs probes pick it
 * (captionOutput), where those words leave the module as one of its outputs; undefined otherwise.
 */
export function captionSpec(plan: ExportPlan, classNames: readonly string[]): CaptionSpec | undefined {
  for (const node of plan.nodes)
    for (const p of node.info.outputs) {
      if (!p.attention || !p.wordsFrom) continue;
      const output = plan.outputs.findIndex((o) => o.inputs.in === node.outputs[p.wordsFrom!]);
      return output < 0 ? undefined : { nodeId: node.id, port: p.name, output, classNames: [...classNames] };
    }
  return undefined;
}

/** A split's samples, gathered from its backing arrays into the module's layout (images NHWC -> NCHW). */
function gather(ds: ArrayDataset): { x: Float32Array | Int32Array; xShape: number[]; y: Int32Array; yShape: number[] } {
  const n = ds.size;
  const { x, labels: y } = ds.gather(Array.from({ length: n }, (_, i) => i));
  const shape = [n, ...ds.inputShape];
  const yShape = [n, ...ds.labelShape];
  if (shape.length === 4 && x instanceof Float32Array) {
    const moved = permuteArray(x, shape, [0, 3, 1, 2]);
    return { x: moved.data, xShape: moved.shape, y, yShape };
  }
  return { x, xShape: shape, y, yShape };
}

export interface PreparedTorchRun {
  dir: string;
  specFile: string;
  spec: RunSpec;
  exported: PytorchExport;
}

/** Writes <runDir>/pytorch/: the module, the data, the order and rates, spec.json. */
export async function prepareTorchRun(opts: {
  runDir: string;
  graph: GraphFile;
  data: PreparedData;
  config: TrainConfig;
  device: string;
  syncBatchNorm?: boolean;
  /** Starting weights and optimizer state, already written as safetensors by the caller. */
  resume?: RunSpec['resume'];
  /** The live explanation's plan (engine/explain/live.ts), when the model has one. */
  explain?: LiveExplainPlan;
}): Promise<PreparedTorchRun> {
  const { graph, data, config } = opts;
  const root = path.resolve(opts.runDir);
  const dir = path.join(root, 'pytorch');
  await mkdir(dir, { recursive: true });
  const exported = exportPytorch(graph, { probes: true });
  const file = (name: string) => path.join(dir, name);
  await writeFile(file('model.py'), exported.code);
  const train = gather(data.train);
  const val = gather(data.validation);
  await writeNpy(file('train_x.npy'), train.xShape, train.x);
  await writeNpy(file('train_y.npy'), train.yShape, train.y);
  await writeNpy(file('val_x.npy'), val.xShape, val.x);
  await writeNpy(file('val_y.npy'), val.yShape, val.y);
  // The tfjs trainer's data order and learning rates, step by step, so both trainers see the same batches at the same rates.
  const n = data.train.size;
  const batches = Math.ceil(n / config.batchSize);
  const orders = Array.from({ length: config.epochs }, (_, e) => permutation(n, deriveSeed(config.seed, 'epoch', e)));
  await writeNpy(file('orders.npy'), [config.epochs, n], orders);
  const total = config.epochs * batches;
  await writeNpy(
    file('rates.npy'),
    [total],
    Float64Array.from({ length: total }, (_, s) => learningRate(config, s, total, batches)),
  );
  const plan = planExport(graph, 'pytorch');
  const compiledAttention = plan.nodes.flatMap((node) =>
    node.info.outputs.filter((p) => p.attention).map((p) => ({ nodeId: node.id, port: p.name, kind: p.attention!, ...(p.axes ? { axes: p.axes } : {}) })),
  );
  const spec: RunSpec = {
    model: file('model.py'),
    data: {
      trainX: file('train_x.npy'),
      trainY: file('train_y.npy'),
      valX: file('val_x.npy'),
      valY: file('val_y.npy'),
      orders: file('orders.npy'),
      rates: file('rates.npy'),
    },
    inputDtype: data.train.inputDtype,
    classes: data.classNames.length,
    outputs: trainedOutputs(graph),
    logits: exported.outputs.map((o) => o === 'logits'),
    attention: config.probe.enabled ? compiledAttention : [],
    caption: (config.probe.enabled && captionSpec(plan, data.classNames)) || null,
    explain: (config.probe.enabled && config.probe.explain && opts.explain) || null,
    config,
    device: opts.device,
    syncBatchNorm: opts.syncBatchNorm ?? true,
    staging: path.join(dir, 'staging'),
    events: path.join(dir, 'events.jsonl'),
    resume: opts.resume,
    fineTune: torchFineTuning(exported.weights, config),
  };
  const specFile = file('spec.json');
  await writeFile(specFile, `${JSON.stringify(spec, null, 1)}\n`);
  return { dir, specFile, spec, exported };
}
