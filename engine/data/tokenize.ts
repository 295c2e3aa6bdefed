// Texts to token ids with a saved vocabulary, in one implementation: the app's
// datasets, Inspect and `attn predict` encode with it, and the TypeScript text entry
// point of a tfjs export copies it (engine/export/text-entry.ts). So it imports nothing.

/** Id 0 pads a short text (and is masked by attention). */
export const PAD_ID = 0;
/** Id 1 stands for a word outside the vocabulary. */
export const UNK_ID = 1;

/** A saved vocabulary, the fields that encoding reads. */
export interface Vocabulary {
  /** The token of each id. */
  tokens: string[];
  /** Words kept per text (per sentence, with maxSentences). */
  maxLength: number;
  lowercase: boolean;
  /** Hierarchical models: sentences kept per text, each a row of maxLength ids. */
  maxSentences?: number;
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
