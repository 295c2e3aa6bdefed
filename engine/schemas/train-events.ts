// What a training run reports, as zod schemas: the trainer emits these, the
// training process sends them over IPC, and the parent validates what it receives.
import { z } from 'zod';
import { captionRecordSchema } from './caption.js';

const metrics = z.record(z.string(), z.number());

export const attentionMapSchema = z.object({
  nodeId: z.string(),
  port: z.string(),
  kind: z.enum(['spatial', 'channel', 'matrix', 'gate']),
  axes: z.string().optional(),
  /** Shape of `data`: [probe samples, ...]; smaller than the layer's output where it was downsampled. */
  shape: z.array(z.number().int()),
  /** The layer's output shape for the probe samples, before downsampling. */
  fullShape: z.array(z.number().int()),
  data: z.instanceof(Float32Array),
});
export type AttentionMap = z.infer<typeof attentionMapSchema>;

/**
 * The explanation the probes compute on one fixed probe sample (engine/explain/live.ts):
 * Grad-CAM (or HiResCAM) of the predicted class on the default layer for image models, attention
 * rollout for ViT-style ones; a map over rows × cols of the input.
 */
export const probeExplanationSchema = z.object({
  /** HiResCAM stands in where Grad-CAM's map is empty (engine/explain/live.ts). */
  method: z.enum(['gradcam', 'hirescam', 'rollout']),
  /** Grad-CAM: the layer weighed; rollout: the self-attention outputs multiplied, first to last. */
  layers: z.array(z.object({ nodeId: z.string(), port: z.string() })),
  /** The probe sample explained (its index among the probe samples). */
  sample: z.number().int().min(0),
  /** Grad-CAM: the class explained, which is the predicted one. */
  classIndex: z.number().int().optional(),
  rows: z.number().int().min(1),
  cols: z.number().int().min(1),
  /** rows × cols values, row-major. */
  data: z.instanceof(Float32Array),
  /** Time it took (ms). */
  ms: z.number(),
});
export type ProbeExplanation = z.infer<typeof probeExplanationSchema>;

/**
 * What a PyTorch run's worker explains at each probe, planned from the graph by
 * engine/explain/live.ts (the layer the tfjs probes would use) and computed by
 * engine/pytorch/train_worker.py into a ProbeExplanation.
 */
export type LiveExplainPlan =
  /** Grad-CAM (HiResCAM where its map is empty) on the output of the export's forward_features(). */
  | { method: 'gradcam'; layer: { nodeId: string; port: string }; rows: number; cols: number }
  /** Rollout through these attention outputs (first to last); `skip` leading class tokens; rows × cols = the patches, or 1 × tokens. */
  | { method: 'rollout'; layers: { nodeId: string; port: string }[]; rows: number; cols: number; skip: number };

/** The GPU a webgpu run uses (backends.ts GpuAdapter). */
export const gpuAdapterSchema = z.object({ vendor: z.string(), architecture: z.string(), device: z.string(), description: z.string(), software: z.boolean() });

export const trainEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('started'),
    backend: z.string(),
    adapter: gpuAdapterSchema.optional(),
    skipped: z.array(z.object({ backend: z.string(), reason: z.string() })),
    runDir: z.string().nullable(),
    params: z.number(),
    trainSamples: z.number(),
    validationSamples: z.number(),
    classNames: z.array(z.string()),
    epochs: z.number(),
    batchesPerEpoch: z.number(),
    resumedFrom: z.string().nullable(),
    /** wasm/cpu runs: how many data-parallel shards each batch is split into (1: this thread alone), and why. */
    cpuWorkers: z.object({ workers: z.number().int().positive(), reason: z.string() }).optional(),
    /** PyTorch runs: the torch device, the number of ranks, the interpreter and torch version. */
    device: z.string().optional(),
    ranks: z.number().int().optional(),
    python: z.string().optional(),
    torch: z.string().optional(),
  }),
  z.object({
    type: z.literal('progress'),
    epoch: z.number(),
    epochs: z.number(),
    batch: z.number(),
    batches: z.number(),
    step: z.number(),
    /** The epoch's mean so far. */
    loss: z.number(),
    accuracy: z.number().optional(),
    /** The step's own batch: its loss and (first trained output's) accuracy, for the per-batch chart. */
    batchLoss: z.number().optional(),
    batchAccuracy: z.number().optional(),
    lr: z.number(),
    samplesPerSec: z.number(),
    etaSec: z.number(),
  }),
  /** The run holds before the batch after `step` (sent once per pause, when the batch in flight has landed). */
  z.object({ type: z.literal('paused'), epoch: z.number(), step: z.number() }),
  z.object({ type: z.literal('epoch'), epoch: z.number(), step: z.number(), seconds: z.number(), metrics }),
  z.object({
    type: z.literal('attention'),
    epoch: z.number(),
    step: z.number(),
    ms: z.number(),
    maps: z.array(attentionMapSchema),
    explanation: probeExplanationSchema.optional(),
    /** A captioning model's probe samples: their greedy captions, each word with its map (engine/train/caption-record.ts). */
    caption: captionRecordSchema.optional(),
  }),
  z.object({
    type: z.literal('checkpoint'),
    epoch: z.number(),
    step: z.number(),
    path: z.string(),
    reason: z.enum(['interval', 'epoch', 'stop']),
  }),
  z.object({
    type: z.literal('done'),
    reason: z.enum(['completed', 'stopped', 'early-stopped']),
    backend: z.string(),
    adapter: gpuAdapterSchema.optional(),
    samplesPerSec: z.number(),
    metrics,
    epochs: z.number(),
    steps: z.number(),
    runDir: z.string().nullable(),
    /** PyTorch runs: the torch device and the number of ranks. */
    device: z.string().optional(),
    ranks: z.number().int().optional(),
  }),
  z.object({ type: z.literal('error'), message: z.string() }),
]);
export type TrainEvent = z.infer<typeof trainEventSchema>;
export type TrainEventOf<T extends TrainEvent['type']> = Extract<TrainEvent, { type: T }>;
