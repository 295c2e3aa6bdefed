// One entry point from a dataset description (what the CLI and the app send) to a
// shuffled, split and normalised pair of datasets.
import { stat } from 'node:fs/promises';
import { z } from 'zod';
import path from 'node:path';
import { ArrayDataset, splitDataset, splitIndices, standardize, type Normalization } from './dataset.js';
import { BUILTIN_DATASETS, isBuiltinDataset, loadBuiltin } from './builtin.js';
import { isSyntheticTask, syntheticDataset, SYNTHETIC_TASK_NAMES } from './synthetic.js';
import { listImageFolder, readImageFolder } from './image-folder.js';
import { loadCsv } from './csv.js';
import { deriveSeed } from './random.js';
import { encodeCorpus, loadTextCorpus, TEXT_DATASETS } from './text-dataset.js';
import type { Vocabulary } from './text.js';
import { DIGIT_CAPTIONS, digitCaptions, isCaptionDataset, isCaptionsCsv, loadCaptionFolder } from './captions.js';

export * from './dataset.js';

export { DATASET_LIMITS, datasetSpecSchema, type DatasetSpec } from '../schemas/dataset.js';
import { DATASET_LIMITS, datasetSpecSchema, type DatasetSpec } from '../schemas/dataset.js';

/** What the model's input wants: the sample shape (no batch axis) and, for tokens, the vocabulary. */
export interface InputHint {
  shape: readonly number[];
  vocab?: number;
}

export interface PreparedData {
  train: ArrayDataset;
  validation: ArrayDataset;
  classNames: readonly string[];
  /** Set when inputs were standardised: apply the same to new inputs. */
  normalization?: Normalization;
  /** Text data: the tokenizer's vocabulary, built on the training split. */
  vocabulary?: Vocabulary;
}

export const datasetNames = (): string[] => [...Object.keys(BUILTIN_DATASETS), DIGIT_CAPTIONS.name, ...Object.keys(TEXT_DATASETS), ...SYNTHETIC_TASK_NAMES];

export type ParsedDatasetSpec = z.output<typeof datasetSpecSchema>;

/** A dataset whose samples are built on demand, so that a preview builds the few it shows. */
export interface LazyDataset {
  name: string;
  size: number;
  /** Each sample's class, where known without building it (image folders); none for sequences. */
  labels?: Int32Array;
  classNames: readonly string[];
  /** Samples `rows` (all of them by default), in that order. */
  build(rows?: ArrayLike<number>): Promise<ArrayDataset>;
}

/** Samples a generated dataset (a synthetic task, digit captions) makes: its size, but at most the limit. */
const generatedCount = (size: number | undefined, limit: number | undefined) =>
  size !== undefined && limit !== undefined ? Math.min(size, limit) : (size ?? limit);

/** A described dataset: in memory (built-in, CSV), or built on demand (synthetic, image folder). */
export async function datasetSource(spec: ParsedDatasetSpec, hint?: InputHint): Promise<ArrayDataset | LazyDataset> {
  const { name, limit, seed } = spec;
  if (isBuiltinDataset(name)) return loadBuiltin(name, { limit, seed: deriveSeed(seed, 'limit') });
  if (isCaptionDataset(name)) {
    const { train, validation } = await digitCaptions({ size: generatedCount(spec.size, limit), seed });
    return concatSplits(train, validation);
  }
  const task = name.replace(/^synthetic:/, '');
  if (isSyntheticTask(task)) {
    const length = spec.length ?? hint?.shape[0] ?? 16;
    const vocab = spec.vocab ?? hint?.vocab ?? 16;
    const size = generatedCount(spec.size, limit) ?? 2048;
    checkSynthetic(name, length, vocab, size);
    const opts = { task, length, vocab, size, seed: deriveSeed(seed, 'synthetic') };
    const classNames = syntheticDataset({ ...opts, size: 1 }, []).classNames;
    return { name: `synthetic:${task}`, size, classNames, build: async (rows) => syntheticDataset(opts, rows) };
  }
  const info = await stat(name).catch(() => undefined);
  if (!info) throw new Error(`unknown dataset "${name}": not one of ${datasetNames().join(', ')}, and no such file or folder`);
  if (info.isDirectory()) {
    const [height, width, channels] = hint?.shape.length === 3 ? hint.shape : [28, 28, 1];
    if (channels !== 1 && channels !== 3) throw new Error(`image folder ${name}: the model's input has ${channels} channels; images give 1 (grey) or 3 (RGB)`);
    const listing = await listImageFolder(name);
    const n = listing.files.length;
    // A limit keeps a seeded choice of the images.
    const kept = limit && limit < n ? splitIndices(name, n, 1 - limit / n, deriveSeed(seed, 'limit')).train : Int32Array.from(listing.files, (_, i) => i);
    return {
      name: path.basename(path.resolve(name)),
      size: kept.length,
      labels: kept.map((i) => listing.labels[i]),
      classNames: listing.classNames,
      build: (rows) =>
        readImageFolder(
          listing,
          { height, width, channels, centreCrop: centreCropOf(spec) },
          Array.from(rows ?? kept.keys(), (r) => kept[r]),
        ),
    };
  }
  if (!info.isFile()) throw new Error(`dataset ${name} is neither a folder nor a regular file`);
  if (/\.csv$/i.test(name) && (await isCaptionsCsv(name))) {
    const [height, width, channels] = hint?.shape.length === 3 ? hint.shape : [DIGIT_CAPTIONS.height, DIGIT_CAPTIONS.width, 1];
    if (channels !== 1 && channels !== 3) throw new Error(`captions ${name}: the model's input has ${channels} channels; images give 1 (grey) or 3 (RGB)`);
    return loadCaptionFolder(name, { height, width, channels, steps: spec.length ?? DIGIT_CAPTIONS.steps });
  }
  if (/\.csv$/i.test(name)) {
    const ds = await loadCsv(name, { label: spec.label });
    return limit && limit < ds.size ? ds.subset(Array.from({ length: limit }, (_, i) => i)) : ds;
  }
  throw new Error(`dataset ${name}: a file dataset must be a .csv file (or pass a folder of class folders)`);
}

/** The length and vocabulary may come from the graph's input, past the schema: checked here whatever their source. */
function checkSynthetic(name: string, length: number, vocab: number, size: number): void {
  const { maxLength, maxVocab, maxSize, maxSyntheticTokens } = DATASET_LIMITS;
  const over = (what: string, v: number, max: number) => new Error(`dataset ${name}: ${what} ${v} is over the limit of ${max}`);
  if (length > maxLength) throw over('sequence length', length, maxLength);
  if (vocab > maxVocab) throw over('vocabulary', vocab, maxVocab);
  if (size > maxSize) throw over('size', size, maxSize);
  if (size * length > maxSyntheticTokens)
    throw new Error(
      `dataset ${name}: ${size} sequences of length ${length} are ${size * length} tokens, over the limit of ${maxSyntheticTokens}; ask for at most ${Math.floor(maxSyntheticTokens / length)} sequences`,
    );
}

export async function prepareData(input: DatasetSpec, hint?: InputHint): Promise<PreparedData> {
  const spec = datasetSpecSchema.parse(input);
  if (spec.freshEachEpoch && !isCaptionDataset(spec.name))
    throw new Error(`dataset ${spec.name}: freshEachEpoch makes new samples only for ${DIGIT_CAPTIONS.name}; leave it out for this dataset`);
  const corpus = await loadTextCorpus(spec);
  if (corpus) {
    const { train, validation, classNames, vocabulary } = encodeCorpus(corpus, spec, hint);
    return { train, validation, classNames, vocabulary };
  }
  // digit-captions keeps its own split: its validation canvases use MNIST images no training canvas uses.
  if (isCaptionDataset(spec.name)) {
    const { train, validation, classNames } = await digitCaptions({
      size: generatedCount(spec.size, spec.limit),
      seed: spec.seed,
      freshEachEpoch: spec.freshEachEpoch,
    });
    return { train, validation, classNames };
  }
  const source = await datasetSource(spec, hint);
  return prepareFrom(spec, source instanceof ArrayDataset ? source : await source.build());
}

/** Images arrive in [0, 1] and tokens are ids: only tables are standardised unless asked. */
export const standardizes = (spec: ParsedDatasetSpec, ds: { inputShape: readonly number[]; inputDtype: string }): boolean =>
  spec.normalize === 'standardize' || spec.normalize === 'imagenet' || (spec.normalize === 'auto' && ds.inputShape.length === 1 && ds.inputDtype === 'float32');

/** torchvision's ImageNet preprocessing: Resize(256) + CenterCrop(224), then Normalize with these (RGB, inputs in [0, 1]). */
export const IMAGENET_CROP = 224 / 256;
export const IMAGENET_STATS: Normalization = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** The centre crop a dataset's images take (ImageNet's preset), or none: for its image folder and for an image inspected against it. */
export const centreCropOf = (spec: Pick<DatasetSpec, 'normalize'>): number | undefined => (spec.normalize === 'imagenet' ? IMAGENET_CROP : undefined);

export function prepareFrom(spec: ParsedDatasetSpec, all: ArrayDataset): PreparedData {
  const { train, validation } = splitDataset(all, spec.validationSplit, deriveSeed(spec.seed, 'split'));
  if (spec.normalize === 'imagenet' && (all.inputShape.length !== 3 || all.inputShape[2] !== 3 || all.inputDtype !== 'float32'))
    throw new Error(`dataset ${all.name}: normalize 'imagenet' is for RGB images, and it gives ${all.inputDtype} [${all.inputShape.join(', ')}]`);
  if (!standardizes(spec, all)) return { train, validation, classNames: all.classNames };
  const s = standardize(train, validation, spec.normalize === 'imagenet' ? IMAGENET_STATS : undefined);
  return { train: s.train, validation: s.validation, classNames: all.classNames, normalization: s.stats };
}

/** digit-captions' two splits (each backed by its own arrays) as one dataset, training samples first: what a preview lists. */
function concatSplits(a: ArrayDataset, b: ArrayDataset): ArrayDataset {
  const x = new Float32Array(a.x.length + b.x.length);
  x.set(a.x, 0);
  x.set(b.x, a.x.length);
  const labels = new Int32Array(a.labels.length + b.labels.length);
  labels.set(a.labels, 0);
  labels.set(b.labels, a.labels.length);
  return new ArrayDataset({ ...a, x, labels });
}
