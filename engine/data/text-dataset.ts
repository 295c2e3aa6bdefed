// A text dataset as training sees it: the corpus (built in, a CSV with a text
// column, or a folder of .txt files per class), a stratified split, and token ids
// from a vocabulary built on the training split alone, so that no validation
// word leaks into what the model can name.
import { stat } from 'node:fs/promises';
import { ArrayDataset } from './dataset.js';
import { deriveSeed } from './random.js';
import { DATASET_LIMITS } from '../schemas/dataset.js';
import { loadSpam } from './spam.js';
import { isTextFolder, loadTextCsv, loadTextFolder, stratifiedSplit, type TextCorpus } from './text-corpus.js';
import { buildVocabulary, encodeTexts, textShape, type Vocabulary } from './text.js';

/** Built-in text datasets. */
export const TEXT_DATASETS = { spam: loadSpam } as const;
export const isBuiltinText = (name: string): name is keyof typeof TEXT_DATASETS => Object.hasOwn(TEXT_DATASETS, name);

/** Defaults when neither the dataset description nor the graph's input says. */
export const TEXT_DEFAULTS = { maxLength: 200, vocab: 10_000 } as const;

export interface TextSpec {
  name: string;
  limit?: number;
  seed: number;
  validationSplit: number;
  length?: number;
  vocab?: number;
  minCount: number;
  label?: string;
  text?: string;
  sentences?: number;
}

export interface TextData {
  /** All kept samples, encoded; `train` and `validation` are subsets of it. */
  all: ArrayDataset;
  train: ArrayDataset;
  validation: ArrayDataset;
  classNames: readonly string[];
  vocabulary: Vocabulary;
  /** The raw texts of `all`, by row. */
  texts: readonly string[];
}

/** The corpus a description names, or undefined when it names no text data (images, tables, synthetic tasks). */
export async function loadTextCorpus(spec: TextSpec): Promise<TextCorpus | undefined> {
  if (isBuiltinText(spec.name)) return TEXT_DATASETS[spec.name]();
  const info = await stat(spec.name).catch(() => undefined);
  if (info?.isFile() && /\.csv$/i.test(spec.name) && spec.text !== undefined) return loadTextCsv(spec.name, { text: spec.text, label: spec.label });
  if (info?.isDirectory() && (await isTextFolder(spec.name))) return loadTextFolder(spec.name);
  return undefined;
}

/** A [words] or, for hierarchical models, a [sentences, words] input: from the description, else the graph's input, else the defaults. */
function textLayout(spec: TextSpec, hint?: { shape: readonly number[] }): { maxLength: number; maxSentences?: number } {
  const hinted = hint?.shape.length === 2 ? { maxSentences: hint.shape[0], maxLength: hint.shape[1] } : { maxLength: hint?.shape[0] };
  const maxSentences = spec.sentences ?? hinted.maxSentences;
  return { maxLength: spec.length ?? hinted.maxLength ?? TEXT_DEFAULTS.maxLength, ...(maxSentences !== undefined && { maxSentences }) };
}

export function encodeCorpus(corpus: TextCorpus, spec: TextSpec, hint?: { shape: readonly number[]; vocab?: number }): TextData {
  const { maxLength, maxSentences } = textLayout(spec, hint);
  const size = spec.vocab ?? hint?.vocab ?? TEXT_DEFAULTS.vocab;
  if (maxLength > DATASET_LIMITS.maxLength)
    throw new Error(`dataset ${corpus.name}: maximum length ${maxLength} is over the limit of ${DATASET_LIMITS.maxLength}`);
  if (maxSentences !== undefined && maxSentences * maxLength > DATASET_LIMITS.maxLength)
    throw new Error(
      `dataset ${corpus.name}: ${maxSentences} sentences of ${maxLength} words are ${maxSentences * maxLength} tokens per text, over the limit of ${DATASET_LIMITS.maxLength}`,
    );
  if (size > DATASET_LIMITS.maxVocab) throw new Error(`dataset ${corpus.name}: vocabulary size ${size} is over the limit of ${DATASET_LIMITS.maxVocab}`);
  const n = corpus.texts.length;
  // A limit keeps a stratified, seeded choice, so a small run still sees both classes in proportion.
  const kept =
    spec.limit && spec.limit < n
      ? stratifiedSplit(corpus.labels, spec.limit / n, deriveSeed(spec.seed, 'limit')).chosen
      : Int32Array.from({ length: n }, (_, i) => i);
  const texts = Array.from(kept, (i) => corpus.texts[i]);
  const labels = Int32Array.from(kept, (i) => corpus.labels[i]);
  const { chosen: validation, rest: train } = stratifiedSplit(labels, spec.validationSplit, deriveSeed(spec.seed, 'split'));
  if (train.length === 0) throw new Error(`dataset ${corpus.name} has ${texts.length} text(s): too few to split`);
  const vocabulary = buildVocabulary(
    Array.from(train, (i) => texts[i]),
    { size, minCount: spec.minCount, maxLength, maxSentences },
    corpus.name,
  );
  const all = new ArrayDataset({
    name: corpus.name,
    inputShape: textShape(vocabulary),
    inputDtype: 'int32',
    classNames: corpus.classNames,
    x: encodeTexts(texts, vocabulary),
    labels,
  });
  return { all, train: all.subset(train), validation: all.subset(validation), classNames: corpus.classNames, vocabulary, texts };
}
