// What the CLI and the app send to name a dataset. A module of its own (zod only, no
// Node imports) so that the host API, which the renderer loads too, can name its type.
import { z } from 'zod';

/** The synthetic sequence tasks (synthetic.ts makes them) and what their right attention is. */
export const SYNTHETIC_TASKS = {
  copy: 'Copy the input sequence: each output step should attend to the same input step (the diagonal).',
  reverse: 'Reverse the sequence: output step t should attend to input step T-1-t (the anti-diagonal).',
  sort: 'Sort the tokens: each output step should attend to the position of the t-th smallest token.',
  recall: 'Associative recall: key/value pairs, then queries; each query should attend to the value stored under its key.',
} as const;
export type SyntheticTask = keyof typeof SYNTHETIC_TASKS;
export const SYNTHETIC_TASK_NAMES = Object.keys(SYNTHETIC_TASKS) as SyntheticTask[];
export const isSyntheticTask = (s: string): s is SyntheticTask => Object.hasOwn(SYNTHETIC_TASKS, s);

/**
 * Bounds on what a dataset description may ask to be built (a synthetic task is
 * built in memory, in the app's process for a preview): 2^24 tokens are two
 * 64 MiB arrays. Larger data belongs in files.
 */
export const DATASET_LIMITS = {
  /** Synthetic tasks: sequence length, vocabulary, number of sequences. */
  maxLength: 4096,
  maxVocab: 65_536,
  maxSize: 1_000_000,
  /** Sequences × length, whatever the two are. */
  maxSyntheticTokens: 2 ** 24,
  /** A limit (samples kept) beyond any dataset's size. */
  maxLimit: 100_000_000,
} as const;

export const datasetSpecSchema = z.object({
  /** mnist, fashion-mnist, spam, a synthetic task (copy, reverse, sort, recall; also as synthetic:NAME), an image or text folder, or a .csv file. */
  name: z.string().min(1),
  /** Use at most this many samples (training and validation together). */
  limit: z.number().int().positive().max(DATASET_LIMITS.maxLimit).optional(),
  seed: z.number().int().min(0).default(0),
  validationSplit: z.number().min(0).max(0.9).default(0.1),
  /**
   * auto: tables standardised, images in [0, 1]; imagenet: torchvision's ImageNet preprocessing for
   * pretrained networks (an image folder is resized and centre-cropped, 224 of 256, then every split
   * is normalised with ImageNet's RGB mean and standard deviation).
   */
  normalize: z.enum(['auto', 'none', 'standardize', 'imagenet']).default('auto'),
  /** Synthetic tasks: sequence length, vocabulary and number of sequences (default: from the graph's input). */
  length: z.number().int().min(2).max(DATASET_LIMITS.maxLength).optional(),
  vocab: z.number().int().min(2).max(DATASET_LIMITS.maxVocab).optional(),
  size: z.number().int().positive().max(DATASET_LIMITS.maxSize).optional(),
  /**
   * digit-captions: new training canvases every epoch (augmentation), the same training digits placed afresh;
   * the validation canvases stay as they are.
   */
  freshEachEpoch: z.boolean().default(false),
  /** CSV: the label column. */
  label: z.string().optional(),
  /** CSV: the text column; naming it makes the CSV a text dataset. */
  text: z.string().min(1).optional(),
  /** Text: words seen fewer times in the training texts become the unknown token (`length` is the maximum length, `vocab` the vocabulary size). */
  minCount: z.number().int().min(1).max(1_000_000).default(1),
  /** Text: split each text into sentences and keep the first this many, each cut to `length` words (hierarchical models; default: from the graph's input). */
  sentences: z.number().int().min(1).max(DATASET_LIMITS.maxLength).optional(),
});
export type DatasetSpec = z.input<typeof datasetSpecSchema>;

/** One sample of a preview. */
export interface PreviewSample {
  /** The input, flattened. */
  x: Float32Array | Int32Array;
  label: number[];
}

/** A dataset as training would see it, shown before training (engine/data/preview.ts builds it). */
export interface DataPreview {
  name: string;
  inputShape: number[];
  inputDtype: 'float32' | 'int32';
  /** [] for a class per sample, [T] for a class per position. */
  labelShape: number[];
  classNames: string[];
  /** Samples per class (train and validation) for a class per sample; [] for a class per position. */
  classCounts: number[];
  trainSamples: number;
  validationSamples: number;
  /** Inputs were standardised (tables). */
  normalized: boolean;
  /** The first training samples: the input, flattened, and the label(s). */
  samples: PreviewSample[];
  /** The first validation samples (training ones without a validation split): the ones training probes. */
  probes: PreviewSample[];
  /** Text data: the vocabulary's size and its tokens (by id), to show the samples' words. */
  vocabulary?: { size: number; tokens: string[] };
}
