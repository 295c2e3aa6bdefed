// Words to token ids: the word tokenizer of the text datasets. The vocabulary is
// built from the training split only and saved with the run, so that Inspect,
// `attn predict` and the exports tokenise new text exactly as training did (with
// tokenize.ts, which the TypeScript export copies).
import { z } from 'zod';
import { PAD_ID, words } from './tokenize.js';

export { encodeTexts, PAD_ID, sentences, textShape, tokenIds, UNK_ID, words } from './tokenize.js';

export const PAD = '<pad>';
export const UNK = '<unk>';
export const vocabularySchema = z.object({
  /** The token of each id: PAD and UNK first, then the words by falling count (ties alphabetical). */
  tokens: z.array(z.string()).min(3),
  /** Texts are cut to this many tokens, and padded up to it (with sentences: each sentence). */
  maxLength: z.number().int().positive(),
  lowercase: z.boolean(),
  /**
   * For hierarchical models: a text is split into sentences, the first maxSentences of
   * them kept, and encoded as a [maxSentences × maxLength] matrix, one row per sentence.
   */
  maxSentences: z.number().int().positive().optional(),
});
export type Vocabulary = z.infer<typeof vocabularySchema>;

export interface VocabularyOptions {
  /** At most this many ids, PAD and UNK included. */
  size: number;
  /** Words seen fewer times in the training texts are left out (they become UNK). */
  minCount: number;
  maxLength: number;
  /** Split texts into sentences (see Vocabulary.maxSentences). */
  maxSentences?: number;
  lowercase?: boolean;
}

/**
 * A vocabulary from the training texts. `source` names the data in the error
 * raised when no word is frequent enough to keep.
 */
export function buildVocabulary(texts: Iterable<string>, opts: VocabularyOptions, source: string): Vocabulary {
  const lowercase = opts.lowercase ?? true;
  const counts = new Map<string, number>();
  for (const text of texts) for (const w of words(text, lowercase)) counts.set(w, (counts.get(w) ?? 0) + 1);
  const kept = [...counts]
    .filter(([, n]) => n >= opts.minCount)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, Math.max(0, opts.size - 2))
    .map(([w]) => w);
  if (kept.length === 0)
    throw new Error(
      counts.size === 0
        ? `${source}: the training texts hold no words, so the vocabulary would be empty`
        : `${source}: no word occurs at least ${opts.minCount} times in the training texts (${counts.size} distinct words), so the vocabulary would be empty; lower the minimum count`,
    );
  return {
    tokens: [PAD, UNK, ...kept],
    maxLength: opts.maxLength,
    lowercase,
    ...(opts.maxSentences !== undefined && { maxSentences: opts.maxSentences }),
  };
}

/** The tokens an id row stands for, without the padding: the labels of a word-attention view (every sentence's, in order). */
export function tokensOf(ids: ArrayLike<number>, vocab: Vocabulary): string[] {
  return sentenceTokens(ids, vocab).flat();
}

/**
 * The tokens of an encoded text by sentence (one row of maxLength ids each; a flat
 * text is one sentence), padding left out, and the empty rows after the last sentence too.
 */
export function sentenceTokens(ids: ArrayLike<number>, vocab: Vocabulary): string[][] {
  const out: string[][] = [];
  for (let at = 0; at < ids.length; at += vocab.maxLength) {
    const row: string[] = [];
    for (let i = at; i < Math.min(ids.length, at + vocab.maxLength) && ids[i] !== PAD_ID; i++) row.push(vocab.tokens[ids[i]] ?? UNK);
    out.push(row);
  }
  while (out.length > 1 && out[out.length - 1].length === 0) out.pop();
  return out;
}
