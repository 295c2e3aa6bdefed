// The Dataset the trainer consumes: shapes, class names, and batches as tensors.
// Samples live in flat typed arrays; splits and subsets are index views on them.
import type { TF, Tensor } from '../blocks/contract.js';
import { permutation } from './random.js';

export type InputDtype = 'float32' | 'int32';

/** A label that takes no part in the loss or the metrics (PyTorch's ignore_index). */
export const IGNORE = -1;

export interface Batch {
  /** [n, ...inputShape]; the caller disposes it. */
  x: Tensor;
  /** Class indices, n × product(labelShape); IGNORE where a position has no target. */
  labels: Int32Array;
}

export interface Dataset {
  readonly name: string;
  /** One sample's shape, without the batch axis: [28, 28, 1], [T], [F]. */
  readonly inputShape: readonly number[];
  readonly inputDtype: InputDtype;
  /** One sample's label shape: [] for a class per sample, [T] for a class per step. */
  readonly labelShape: readonly number[];
  readonly classNames: readonly string[];
  readonly size: number;
  batch(tf: TF, indices: ArrayLike<number>): Batch;
  /** A dataset that makes new samples every epoch (augmentation) makes epoch `epoch`'s here; the trainer calls it before the epoch's first batch. */
  startEpoch?(epoch: number): void;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export interface ArrayDatasetInit {
  name: string;
  inputShape: readonly number[];
  inputDtype?: InputDtype;
  labelShape?: readonly number[];
  classNames: readonly string[];
  x: Float32Array | Int32Array;
  labels: Int32Array;
}

/** Samples in memory. `subset` shares the arrays, so splits cost an index, not a copy. */
export class ArrayDataset implements Dataset {
  readonly name: string;
  readonly inputShape: readonly number[];
  readonly inputDtype: InputDtype;
  readonly labelShape: readonly number[];
  readonly classNames: readonly string[];
  readonly x: Float32Array | Int32Array;
  readonly labels: Int32Array;
  private readonly index: Int32Array | null;
  startEpoch?(epoch: number): void;

  constructor(init: ArrayDatasetInit, index: Int32Array | null = null) {
    this.name = init.name;
    this.inputShape = init.inputShape;
    this.inputDtype = init.inputDtype ?? (init.x instanceof Int32Array ? 'int32' : 'float32');
    this.labelShape = init.labelShape ?? [];
    this.classNames = init.classNames;
    this.x = init.x;
    this.labels = init.labels;
    this.index = index;
    const n = init.x.length / sizeOf(this.inputShape);
    if (!Number.isInteger(n) || n * sizeOf(this.labelShape) !== init.labels.length)
      throw new Error(
        `dataset ${init.name}: ${init.x.length} input values and ${init.labels.length} labels do not make whole samples of ${JSON.stringify(this.inputShape)}`,
      );
  }

  get size(): number {
    return this.index ? this.index.length : this.x.length / sizeOf(this.inputShape);
  }

  /** Position of sample i in the backing arrays. */
  row(i: number): number {
    return this.index ? this.index[i] : i;
  }

  subset(indices: ArrayLike<number>): ArrayDataset {
    const index = Int32Array.from(indices, (i) => this.row(i));
    return new ArrayDataset(this, index);
  }

  /** The same samples with transformed inputs (normalisation); labels are shared. */
  mapInputs(f: (x: Float32Array | Int32Array) => Float32Array | Int32Array): ArrayDataset {
    return new ArrayDataset({ ...this, x: f(this.x) }, this.index);
  }

  /** The inputs and labels of these samples (indices into this dataset), copied out in that order. */
  gather(indices: ArrayLike<number>): { x: Float32Array | Int32Array; labels: Int32Array } {
    const xs = sizeOf(this.inputShape);
    const ls = sizeOf(this.labelShape);
    const n = indices.length;
    const x = this.inputDtype === 'int32' ? new Int32Array(n * xs) : new Float32Array(n * xs);
    const labels = new Int32Array(n * ls);
    for (let k = 0; k < n; k++) {
      const r = this.row(indices[k]);
      x.set(this.x.subarray(r * xs, (r + 1) * xs), k * xs);
      labels.set(this.labels.subarray(r * ls, (r + 1) * ls), k * ls);
    }
    return { x, labels };
  }

  batch(tf: TF, indices: ArrayLike<number>): Batch {
    const { x, labels } = this.gather(indices);
    return { x: tf.tensor(x, [indices.length, ...this.inputShape], this.inputDtype), labels };
  }
}

/**
 * Samples in memory that are made anew for every epoch (same count, same shapes): `make(epoch)` writes epoch
 * `epoch`'s samples over the arrays. Subsets share the arrays, and so see the current epoch's samples.
 */
export class EpochDataset extends ArrayDataset {
  private epoch = 0;

  constructor(
    init: ArrayDatasetInit,
    private readonly make: (epoch: number) => void,
  ) {
    super(init);
  }

  override startEpoch(epoch: number): void {
    if (epoch === this.epoch) return;
    this.make(epoch);
    this.epoch = epoch;
  }
}

/** The sample indices of a seeded train/validation split of `size` samples. */
export function splitIndices(name: string, size: number, validation: number, seed: number): { train: Int32Array; validation: Int32Array } {
  if (!(validation >= 0 && validation < 1)) throw new Error(`the validation fraction must be in [0, 1), got ${validation}`);
  const order = permutation(size, seed);
  const k = validation > 0 ? Math.max(1, Math.round(size * validation)) : 0;
  if (size - k < 1) throw new Error(`dataset ${name} has ${size} sample(s): too few to split`);
  return { train: order.subarray(k), validation: order.subarray(0, k) };
}

/** A seeded train/validation split. */
export function splitDataset(ds: ArrayDataset, validation: number, seed: number): { train: ArrayDataset; validation: ArrayDataset } {
  const split = splitIndices(ds.name, ds.size, validation, seed);
  return { train: ds.subset(split.train), validation: ds.subset(split.validation) };
}

export interface Normalization {
  /** Per channel (the last input axis): mean and standard deviation over the training split. */
  mean: number[];
  std: number[];
}

/** Mean and standard deviation of each channel (last axis) over a dataset's samples. */
export function channelStats(ds: ArrayDataset): Normalization {
  const c = ds.inputShape[ds.inputShape.length - 1] ?? 1;
  const xs = sizeOf(ds.inputShape);
  const sum = new Float64Array(c);
  const sq = new Float64Array(c);
  for (let i = 0; i < ds.size; i++) {
    const base = ds.row(i) * xs;
    for (let j = 0; j < xs; j++) {
      const v = ds.x[base + j];
      sum[j % c] += v;
      sq[j % c] += v * v;
    }
  }
  const n = (ds.size * xs) / c;
  const mean = Array.from(sum, (s) => s / n);
  const std = Array.from(sq, (s, k) => Math.sqrt(Math.max(s / n - mean[k] ** 2, 0)) || 1);
  return { mean, std };
}

/** Standardises float inputs per channel with statistics of the training split only. */
/** Samples (any number, channels last) standardised with a dataset's statistics: what training saw. */
export function normalizeInputs(x: ArrayLike<number>, stats: Normalization): Float32Array {
  const c = stats.mean.length;
  return Float32Array.from(x, (v, j) => (v - stats.mean[j % c]) / stats.std[j % c]);
}

export function standardize(
  train: ArrayDataset,
  validation: ArrayDataset,
  stats = channelStats(train),
): { train: ArrayDataset; validation: ArrayDataset; stats: Normalization } {
  if (train.inputDtype !== 'float32') throw new Error(`dataset ${train.name} has token inputs, which are not normalised`);
  // Both splits share one backing array, so transform it once.
  const x = normalizeInputs(train.x, stats);
  return { train: train.mapInputs(() => x), validation: validation.mapInputs(() => x), stats };
}
