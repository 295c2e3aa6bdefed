// The fine-tuning settings an export carries (the training section's freeze,
// frozenBatchNorm and lrMultipliers), checked against the graph's node keys so
// that a typo is an export error naming the nodes there are.
import { checkPatterns, type FineTuning } from '../graph/fine-tune-patterns.js';
import { trainConfigSchema } from '../schemas/train-config.js';
import type { ExportFineTuning } from '../schemas/export-fine-tuning.js';
import type { GraphFile } from '../graph/types.js';
import { ExportError } from './plan.js';

const fineTuningSchema = trainConfigSchema.pick({ freeze: true, frozenBatchNorm: true, lrMultipliers: true });

/** The settings of training section `t` for a graph whose inlined nodes are `nodeKeys`. */
export function exportFineTuning(t: Record<string, unknown>, nodeKeys: readonly string[]): FineTuning {
  const parsed = fineTuningSchema.safeParse(t);
  if (!parsed.success) throw new ExportError(`training settings: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  try {
    checkPatterns(parsed.data, nodeKeys);
  } catch (err) {
    throw new ExportError(`training settings: ${(err as Error).message}`);
  }
  return parsed.data;
}

/**
 * The graph with fine-tuning settings laid over its training section (and the
 * ImageNet preset over its dataset), so that every exporter writes them: what a
 * run trained with (`attn export --weights RUN`) or the Training form sets.
 */
export function withFineTuning(graph: GraphFile, { imagenet, ...settings }: ExportFineTuning): GraphFile {
  const given = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
  return {
    ...graph,
    training: { ...graph.training, ...given },
    ...(imagenet && { dataset: { ...graph.dataset, normalize: 'imagenet' } }),
  };
}
