// Training settings: one zod schema, so the CLI, the app and the training process
// agree on names and defaults, and bad values are caught before a run starts.
import { z } from 'zod';

export const trainConfigSchema = z.object({
  epochs: z.number().int().min(1).default(5),
  batchSize: z.number().int().min(1).default(32),
  optimizer: z.enum(['sgd', 'adam', 'adamw']).default('adam'),
  lr: z.number().positive().default(1e-3),
  /** SGD momentum (0: plain SGD). */
  momentum: z.number().min(0).max(1).default(0.9),
  beta1: z.number().min(0).max(1).default(0.9),
  beta2: z.number().min(0).max(1).default(0.999),
  epsilon: z.number().positive().default(1e-8),
  /** Decoupled weight decay for AdamW (default 0.01), L2 for SGD and Adam (default 0). */
  weightDecay: z.number().min(0).optional(),
  schedule: z.enum(['constant', 'step', 'cosine']).default('constant'),
  /** Linear warm-up from 0 over this many batches, then the schedule. */
  warmupSteps: z.number().int().min(0).default(0),
  /** Step schedule: multiply the rate by `gamma` every `stepEpochs` epochs. */
  stepEpochs: z.number().int().min(1).default(10),
  gamma: z.number().positive().max(1).default(0.1),
  /** Cosine schedule: the rate it ends at. */
  minLr: z.number().min(0).default(0),
  /** Scale gradients so that their global L2 norm is at most this. */
  clipNorm: z.number().positive().optional(),
  earlyStopping: z
    .object({
      monitor: z.enum(['val_loss', 'val_accuracy']).default('val_loss'),
      patience: z.number().int().min(1).default(3),
      minDelta: z.number().min(0).default(0),
    })
    .optional(),
  /** Save a checkpoint every N batches (also at each epoch's end and on stop). */
  checkpointEvery: z.number().int().min(1).optional(),
  /** Checkpoints kept in the run folder (older ones are deleted). */
  keepCheckpoints: z.number().int().min(1).default(3),
  /**
   * Data-parallel training on the wasm and cpu backends: each batch is split into this many shards, computed on as
   * many threads, their gradients averaged (BatchNorm normalises each shard by its own statistics, as PyTorch's DDP
   * without SyncBatchNorm). 'auto': as many as the cores when batches and the model are large enough to gain.
   * A run repeats exactly with the same count; 1 trains on one thread.
   */
  cpuWorkers: z.union([z.literal('auto'), z.number().int().min(1).max(64)]).default('auto'),
  /** Data order each epoch; the same seed gives the same run. */
  seed: z.number().int().min(0).default(0),
  /** Also report top-k accuracy (when there are more than k classes). */
  topK: z.number().int().min(2).default(5),
  /** Fine-tuning: node ids or id prefixes (a composite: everything inside it) whose weights do not train. */
  freeze: z.array(z.string().min(1)).default([]),
  /** BatchNorm of frozen nodes: 'inference' normalises with the moving statistics and leaves them as they are. */
  frozenBatchNorm: z.enum(['inference', 'train']).default('inference'),
  /** Learning-rate multiplier per node id or prefix (the longest matching one counts; 0 freezes). */
  lrMultipliers: z.record(z.string().min(1), z.number().min(0)).default({}),
  /** A new classification head: this node (default: the head or Dense feeding the Output) gets `classes` outputs (default: the dataset's), newly initialised. */
  head: z.object({ node: z.string().min(1).optional(), classes: z.number().int().min(1).optional() }).optional(),
  /** Start from these weights (a run folder or one checkpoint, e.g. from `attn weights import`); a new head keeps its fresh ones. */
  initWeights: z.string().min(1).optional(),
  probe: z
    .object({
      enabled: z.boolean().default(true),
      /** Fixed probe samples, taken from the validation split. */
      samples: z.number().int().min(1).max(64).default(4),
      everyBatches: z.number().int().min(1).default(25),
      minIntervalMs: z.number().min(0).default(1000),
      /** Larger maps are averaged down to at most this many values. */
      maxElements: z.number().int().min(16).default(65536),
      /** Also explain the first probe sample (Grad-CAM or attention rollout) at each probe. */
      explain: z.boolean().default(true),
    })
    .prefault({}),
});

export type TrainConfig = z.output<typeof trainConfigSchema>;
export type TrainConfigInput = z.input<typeof trainConfigSchema>;

/**
 * A run folder's config.json (the settings given, the dataset and backend) with
 * every training default filled in, so that a default lr compares equal to
 * the same lr given.
 */
export function runSettings(config: Record<string, unknown>): Record<string, unknown> {
  const { dataset, backend, adapter, ...train } = config;
  const parsed = trainConfigSchema.safeParse(train);
  return { ...(parsed.success ? parsed.data : train), dataset, backend, ...(adapter !== undefined && { adapter }) };
}
