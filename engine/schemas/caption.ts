// A caption with its attention, as the probes record it at each probe step and
// Inspect answers it for one sample: the words a caption decoder wrote greedily
// and, per word, its attention weights over the feature grid (the figure of Show,
// Attend and Tell). The dock, Inspect and the run folder read this one record.
import { z } from 'zod';

export const captionRecordSchema = z.object({
  /** The decoder's attention output (its node, inlined key inside composites, and port). */
  nodeId: z.string(),
  port: z.string(),
  /** Per sample, the greedy caption: one word per step, up to and with <end> (every step when it never ends). */
  words: z.array(z.array(z.string())),
  /** Per sample, the true caption's words up to <end>, where the sample has one (validation samples). */
  truth: z.array(z.array(z.string())).optional(),
  /** The steps the decoder writes (the caption's longest length); `data` holds a map for each. */
  steps: z.number().int().min(1),
  rows: z.number().int().min(1),
  cols: z.number().int().min(1),
  /** [samples, steps, rows, cols], row-major: each step's weights over the grid (each sums to 1). */
  data: z.instanceof(Float32Array),
});
export type CaptionRecord = z.infer<typeof captionRecordSchema>;

/** Word t's map of sample s (a view, no copy). */
export function wordMap(c: Pick<CaptionRecord, 'steps' | 'rows' | 'cols' | 'data'>, sample: number, t: number): Float32Array {
  const size = c.rows * c.cols;
  const at = (sample * c.steps + t) * size;
  return c.data.subarray(at, at + size);
}
