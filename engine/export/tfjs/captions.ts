// A captioner's words in an exported tfjs model: its predictions [B, T, V] read as
// text with the word list that `attn export --weights RUN` writes beside the model
// (<model>.vocabulary.json), as `attn predict` prints them, and the validation
// captions that main() prints after training. The TypeScript exporter
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

/** A caption's word ids before the end token (the special tokens below it and -1 padding left out), and whether it ended. */
function captionIds(ids: readonly number[], endToken: number): { words: number[]; ended: boolean } {
  const end = ids.indexOf(endToken);
  return { words: (end < 0 ? ids : ids.slice(0, end)).filter((id) => id > endToken), ended: end >= 0 };
}

/**
 * Prints the greedy captions of the first `shown` validation samples beside their true ones, then the share of exact
 * captions, and returns that share. `predicted` [N, T]: each step's most likely word id; `truth` [N, T]: the true
 * next word at each step, -1 once the caption has ended. Words are `vocabulary`'s, by default those beside the model
 * (readCaptionVocabulary); where that file is missing the ids are printed. A caption is exact, as Attention Studio
 * scores it, when the decoder wrote the end token and, before it, exactly the true words.
 */
export async function reportCaptions(
  predicted: number[][],
  truth: number[][],
  vocabulary?: readonly string[],
  shown = 5,
  endToken = END_TOKEN,
): Promise<number> {
  let words = vocabulary;
  if (!words)
    try {
      words = await readCaptionVocabulary();
    } catch (err) {
      console.log(`(${err instanceof Error ? err.message : String(err)}: captions as word ids)`);
    }
  const text = (ids: number[]) => ids.map((id) => (words ? words[id] : String(id))).join(' ');
  let exact = 0;
  predicted.forEach((got, i) => {
    const [p, t] = [captionIds(got, endToken), captionIds(truth[i], endToken)];
    if (p.ended && p.words.join() === t.words.join()) exact++;
  });
  const lines = predicted.slice(0, shown).map((got, i) => {
    const [p, t] = [captionIds(got, endToken), captionIds(truth[i], endToken)];
    return `  predicted: ${text(p.words) || '(nothing)'}${p.ended ? '' : ' (no end)'} | truth: ${text(t.words)}`;
  });
  console.log(`validation captions, greedy (the first ${lines.length} of ${predicted.length}):\n${lines.join('\n')}`);
  const rate = predicted.length ? exact / predicted.length : 0;
  console.log(`exact captions: ${rate.toFixed(4)} (${exact} of ${predicted.length})`);
  return rate;
}
