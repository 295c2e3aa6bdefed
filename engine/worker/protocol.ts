// The messages between the app (or CLI) and the training process. Both sides
// validate what they receive: commands here, events in engine/train/events.ts.
import { z } from 'zod';
import { graphSchema } from '../graph/schema.js';
import type { GraphFile } from '../graph/types.js';
import { datasetSpecSchema } from '../data/index.js';
import { trainConfigSchema } from '../train/config.js';
import { trainEventSchema, type TrainEvent } from '../train/events.js';

export const startCommandSchema = z.object({
  type: z.literal('start'),
  graph: graphSchema,
  dataset: datasetSpecSchema,
  config: trainConfigSchema.optional(),
  backend: z.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']).default('auto'),
  out: z.object({ base: z.string().optional(), dir: z.string().optional() }).nullable().optional(),
  resumeFrom: z.string().optional(),
});

export const commandSchema = z.discriminatedUnion('type', [
  startCommandSchema,
  z.object({ type: z.literal('pause') }),
  z.object({ type: z.literal('resume') }),
  z.object({ type: z.literal('stop') }),
  /** Run the attention probes after the next batch. */
  z.object({ type: z.literal('probe') }),
]);

/** The graph is checked by the schema here and fully by the compiler in the training process. */
export type StartCommand = Omit<z.input<typeof startCommandSchema>, 'graph'> & { graph: GraphFile };
export type Command = Exclude<z.input<typeof commandSchema>, { type: 'start' }> | StartCommand;
export { trainEventSchema as eventSchema };
export type { TrainEvent };

/** Messages travel with the 'advanced' serialisation, so attention maps arrive as Float32Arrays. */
export const SERIALIZATION = 'advanced' as const;
