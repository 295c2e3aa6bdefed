// Words to token ids: the word tokenizer of the text datasets. The vocabulary is
// built from the training split only and saved with the run, so that Inspect,
// `attn predict` and the exports tokenise new text exactly as training did.
import { z } from 'zod';

export const PAD = '<pad>';
export const UNK = '<unk>';
/** Id 0 pads a short text (and is masked by attention); id 1 stands for a word outside the vocabulary. */
export const PAD_ID = 0;
export const UNK_ID = 1;

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

// A word is a run of letters and digits (with inner apostrophes: don't, o'clock); every other
// visible character is a token of its own, so "free!!!" is free, !, !, !.
const TOKEN = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*|[^\s\p{L}\p{N}]/gu;

/** The tokens of a text, in order. */
export function words(text: string, lowercase = true): string[] {
  return (lowercase ? text.toLowerCase() : text).match(TOKEN) ?? [];
}

/** Sentences for hierarchical models: split after . ! ? and at blank lines. */
export function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n\s*\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
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

/** The shape of one encoded text: [maxLength], or [maxSentences, maxLength] for hierarchical models. */
export const textShape = (vocab: Vocabulary): number[] => (vocab.maxSentences ? [vocab.maxSentences, vocab.maxLength] : [vocab.maxLength]);

/** Id lookup for a vocabulary, built once: a text to its ids, padded with PAD_ID (0) to textShape. */
export function tokenIds(vocab: Vocabulary): (text: string) => Int32Array {
  const id = new Map(vocab.tokens.map((t, i) => [t, i]));
  const fill = (out: Int32Array, ws: string[], at: number) => {
    for (let i = 0; i < Math.min(ws.length, vocab.maxLength); i++) out[at + i] = id.get(ws[i]) ?? UNK_ID;
  };
  const rows = vocab.maxSentences;
  if (!rows)
    return (text) => {
      const out = new Int32Array(vocab.maxLength);
      fill(out, words(text, vocab.lowercase), 0);
      return out;
    };
  return (text) => {
    const out = new Int32Array(rows * vocab.maxLength);
    // A "sentence" of spaces has no words: it takes no row.
    const split = sentences(text)
      .map((s) => words(s, vocab.lowercase))
      .filter((ws) => ws.length > 0);
    split.slice(0, rows).forEach((ws, r) => fill(out, ws, r * vocab.maxLength));
    return out;
  };
}

/** Texts to an [n × textShape] id array. */
export function encodeTexts(texts: readonly string[], vocab: Vocabulary): Int32Array {
  const encode = tokenIds(vocab);
  const size = textShape(vocab).reduce((a, b) => a * b, 1);
  const out = new Int32Array(texts.length * size);
  texts.forEach((t, i) => out.set(encode(t), i * size));
  return out;
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
