// A captioner's words in an exported tfjs model: its predictions [B, T, V] read as
// text with the word list that `attn export --weights RUN` writes beside the model
// (<model>.vocabulary.json), as `attn predict` prints them. The TypeScript exporter
// copies this file below its imports into exports with a caption decoder
// (engine/export/tfjs.ts), and tsc checks it here with the project's settings.
import * as tf from '@tensorflow/tfjs';

/** The caption's end token: the words after it are not read (the special tokens below it are left out). */
const END_TOKEN = 2;

/** The caption words by id from `path`, by default <this module>.vocabulary.json beside it (Node). */
export async function readCaptionVocabulary(path?: string): Promise<string[]> {
  const { readFileSync } = await import('node:fs');
  const { fileURLToPath } = await import('node:url');
  const file = path ?? fileURLToPath(import.meta.url).replace(/\.[cm]?[jt]s$/, '.vocabulary.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`${file}: no caption words beside the model; export it with \`attn export --weights RUN\`, or pass the words`);
  }
  const words = (JSON.parse(text) as { words?: unknown }).words;
  if (!Array.isArray(words) || !words.every((w) => typeof w === 'string')) throw new Error(`${file}: "words" is not a list of strings`);
  return words;
}

/** The greedy captions of a captioner's words [B, T, V] (each step's argmax, up to the end token) as text in `vocabulary`'s words. */
export function captionTexts(words: tf.Tensor, vocabulary: readonly string[], endToken = END_TOKEN): string[] {
  const ids = tf.tidy(() => tf.argMax(words, -1)).arraySync() as number[][];
  return ids.map((row) => {
    const end = row.indexOf(endToken);
    return (end < 0 ? row : row.slice(0, end))
      .filter((id) => id > endToken)
      .map((id) => vocabulary[id])
      .join(' ');
  });
}
