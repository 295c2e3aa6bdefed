// The fine-tuning a code export carries besides the graph: what the Training
// form sets (freeze, frozenBatchNorm, lrMultipliers and the ImageNet preset)
// or what a run trained with, layered over the graph's own training section.
import { z } from 'zod';
import { trainConfigSchema } from './train-config.js';

export const exportFineTuningSchema = trainConfigSchema
  .pick({ freeze: true, frozenBatchNorm: true, lrMultipliers: true })
  .partial()
  .extend({ imagenet: z.boolean().optional() })
  .strict();

export type ExportFineTuning = z.input<typeof exportFineTuningSchema>;
