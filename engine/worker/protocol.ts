// The messages between the app (or CLI) and the training process. Both sides
// validate what they receive: commands here, events in engine/schemas/train-events.ts.
import { z } from 'zod';
import { graphSchema } from '../graph/schema.js';
import type { GraphFile } from '../graph/types.js';
import { datasetSpecSchema } from '../schemas/dataset.js';
import { trainConfigSchema } from '../schemas/train-config.js';
import { trainEventSchema, type TrainEvent } from '../schemas/train-events.js';
import { BACKEND_OPTIONS, TRAINING_BACKEND_OPTIONS } from '../schemas/backends.js';
import { explainOptionsSchema } from '../schemas/inspection.js';

export const startCommandSchema = z.object({
  type: z.literal('start'),
  graph: graphSchema,
  dataset: datasetSpecSchema,
  config: trainConfigSchema.optional(),
  backend: z.enum(TRAINING_BACKEND_OPTIONS).default('auto'),
  /**
   * Backend `pytorch`: the interpreter (default: /usr/bin/python3, then python3 on PATH), torch
   * device and ranks; with several ranks, BatchNorm over the global batch (synchronised) or each rank's shard.
   */
  pytorch: z
    .object({
      python: z.string().optional(),
      device: z.enum(['auto', 'cuda', 'mps', 'cpu']).default('auto'),
      nproc: z.number().int().min(1).max(64).default(1),
      syncBatchNorm: z.boolean().default(true),
    })
    .optional(),
  out: z.object({ base: z.string().optional(), dir: z.string().optional() }).nullable().optional(),
  resumeFrom: z.string().optional(),
});

/**
 * Inspection after training: a process started for it alone loads a checkpoint,
 * runs one validation sample and answers with one `inspection` message.
 */
export const inspectCommandSchema = z.object({
  type: z.literal('inspect'),
  graph: graphSchema,
  dataset: datasetSpecSchema,
  /** A checkpoint folder, or a checkpoints/ folder (its latest). */
  checkpoint: z.string(),
  /** Which validation sample (the split is the run's: same dataset spec, same seed). */
  index: z.number().int().min(0).default(0),
  /** A PNG or JPEG to inspect instead of a validation sample: fitted to the model's input as the dataset's images were. */
  image: z.object({ name: z.string(), bytes: z.instanceof(Uint8Array) }).optional(),
  /** A text to inspect instead (a model trained on text): tokenised with the run's vocabulary. */
  text: z.string().optional(),
  backend: z.enum(BACKEND_OPTIONS).default('auto'),
  /** Explanations (Grad-CAM, rollout, the layer × head grid) to compute besides the prediction; none without it. */
  explain: explainOptionsSchema.optional(),
  maxElements: z.number().int().min(16).default(65536),
});
export type InspectCommand = Omit<z.input<typeof inspectCommandSchema>, 'graph' | 'type'> & { graph: GraphFile };
export type InspectCommandParsed = z.output<typeof inspectCommandSchema>;

// The answer to `inspect` (engine/schemas: the host API names it too).
export { inspectionSchema, type Inspection } from '../schemas/inspection.js';

export const commandSchema = z.discriminatedUnion('type', [
  startCommandSchema,
  inspectCommandSchema,
  z.object({ type: z.literal('pause') }),
  z.object({ type: z.literal('resume') }),
  z.object({ type: z.literal('stop') }),
  /** Run the attention probes after the next batch. */
  z.object({ type: z.literal('probe') }),
]);

/** The graph is checked by the schema here and fully by the compiler in the training process. */
export type StartCommand = Omit<z.input<typeof startCommandSchema>, 'graph'> & { graph: GraphFile };
export type Command = Exclude<z.input<typeof commandSchema>, { type: 'start' | 'inspect' }> | StartCommand | (InspectCommand & { type: 'inspect' });
export { trainEventSchema as eventSchema };
export type { TrainEvent };

/** Messages travel with the 'advanced' serialisation, so attention maps arrive as Float32Arrays. */
export const SERIALIZATION = 'advanced' as const;
