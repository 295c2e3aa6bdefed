// The caption view's record (engine/schemas/caption.ts) from a caption decoder's
// two outputs for a batch: its word probabilities [B, T, V], read greedily (the
// argmax of each step, up to and with <end>), and its attention [B, T, H, W],
// each word's weights over the feature grid, kept at full size. The probes
// record it at each probe step and Inspect answers it for one sample.
import type { Tensor } from '../blocks/contract.js';
import type { AttentionOutput } from '../compile/compile.js';
import { captionWords, END } from '../data/captions.js';
import type { CaptionRecord } from '../schemas/caption.js';

/** The model's caption decoder attention (the first attention output whose maps belong to words), if it has one. */
export function captionOutput(attention: readonly AttentionOutput[]): (AttentionOutput & { words: NonNullable<AttentionOutput['words']> }) | undefined {
  return attention.find((a): a is AttentionOutput & { words: NonNullable<AttentionOutput['words']> } => a.words !== undefined);
}

/** Each step's most likely class in [B, T, V] probabilities, per sample. */
function greedyIds(probs: Float32Array, [b, t, v]: readonly number[]): number[][] {
  return Array.from({ length: b }, (_, s) =>
    Array.from({ length: t }, (_, k) => {
      const row = probs.subarray((s * t + k) * v, (s * t + k + 1) * v);
      let best = 0;
      for (let i = 1; i < v; i++) if (row[i] > row[best]) best = i;
      return best;
    }),
  );
}

/**
 * The record for `at` from the decoder's word probabilities and attention (data and shapes, samples first).
 * `labels` (B × T class ids, IGNORE past <end>) adds each sample's true caption.
 */
export function captionRecord(
  at: Pick<AttentionOutput, 'nodeId' | 'port'>,
  probs: { data: Float32Array; shape: readonly number[] },
  attention: { data: Float32Array; shape: readonly number[] },
  classNames: readonly string[],
  labels?: ArrayLike<number>,
): CaptionRecord {
  const [b, steps, rows, cols] = attention.shape;
  if (attention.shape.length !== 4 || probs.shape.length !== 3 || probs.shape[0] !== b || probs.shape[1] !== steps)
    throw new Error(
      `${at.nodeId}.${at.port}: a caption needs word probabilities [B, T, V] and attention [B, T, H, W] of the same B and T, not [${probs.shape.join(', ')}] and [${attention.shape.join(', ')}]`,
    );
  const end = classNames.indexOf(END);
  const words = greedyIds(probs.data, probs.shape).map((ids) => {
    const stop = ids.indexOf(end);
    return (stop < 0 ? ids : ids.slice(0, stop + 1)).map((id) => classNames[id] ?? String(id));
  });
  const truth =
    labels?.length === b * steps
      ? Array.from({ length: b }, (_, s) => captionWords(Array.from(labels).slice(s * steps, (s + 1) * steps), classNames))
      : undefined;
  return { nodeId: at.nodeId, port: at.port, words, ...(truth && { truth }), steps, rows, cols, data: Float32Array.from(attention.data) };
}

/** The record from the decoder's output tensors (read, not disposed). */
export async function readCaption(
  at: Pick<AttentionOutput, 'nodeId' | 'port'>,
  probs: Tensor,
  attention: Tensor,
  classNames: readonly string[],
  labels?: ArrayLike<number>,
): Promise<CaptionRecord> {
  const [p, a] = await Promise.all([probs.data(), attention.data()]);
  return captionRecord(at, { data: p as Float32Array, shape: probs.shape }, { data: a as Float32Array, shape: attention.shape }, classNames, labels);
}
