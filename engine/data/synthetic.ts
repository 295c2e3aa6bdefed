// Synthetic sequence tasks whose right attention is known, so that an attention
// map can be checked against the answer: every output position should look at
// the input position that `idealAttention` names.
//   copy     y[t] = x[t]                     (the diagonal)
//   reverse  y[t] = x[T-1-t]                 (the anti-diagonal)
//   sort     y = x sorted ascending, stably  (the position of the t-th smallest token)
//   recall   key/value pairs, then queries: each query's target is the value stored
//            under its key (associative recall); non-query positions are ignored.
import { ArrayDataset, IGNORE } from './dataset.js';
import { deriveSeed, randInt, rng } from './random.js';

import { isSyntheticTask, SYNTHETIC_TASK_NAMES, type SyntheticTask } from '../schemas/dataset.js';
export { isSyntheticTask, SYNTHETIC_TASK_NAMES, type SyntheticTask };

export interface SyntheticOptions {
  task: SyntheticTask;
  /** Sequence length T. */
  length?: number;
  /** Number of distinct tokens; inputs and targets are ids in [0, vocab). */
  vocab?: number;
  /** Number of sequences. */
  size?: number;
  seed?: number;
}

/** Number of key/value pairs in a recall sequence of length T (the rest are queries). */
export const recallPairs = (length: number): number => Math.floor(length / 3);

/** Stable ascending order of a sequence's positions by token. */
function sortOrder(x: ArrayLike<number>): number[] {
  return Array.from({ length: x.length }, (_, i) => i).sort((a, b) => x[a] - x[b] || a - b);
}

/**
 * The task's sequences `rows` (all of them by default). Each sequence has a seed
 * of its own, so that any few can be built without the rest (a preview of a
 * million sequences builds the ones it shows).
 */
export function syntheticDataset(opts: SyntheticOptions, rows?: ArrayLike<number>): ArrayDataset {
  const { task, length: T = 16, vocab: V = 16, size = 2048, seed = 0 } = opts;
  if (!isSyntheticTask(task)) throw new Error(`unknown synthetic task "${task}" (expected one of ${SYNTHETIC_TASK_NAMES.join(', ')})`);
  if (!(Number.isInteger(T) && T >= 2)) throw new Error(`sequence length must be an integer ≥ 2, got ${T}`);
  if (!(Number.isInteger(V) && V >= 2)) throw new Error(`vocabulary must be an integer ≥ 2, got ${V}`);
  if (!(Number.isInteger(size) && size >= 1)) throw new Error(`size must be a positive integer, got ${size}`);
  const pairs = recallPairs(T);
  if (task === 'recall' && (T < 3 || pairs > Math.floor(V / 2)))
    throw new Error(`recall with length ${T} stores ${pairs} distinct keys, which needs length ≥ 3 and vocab ≥ ${2 * pairs}, got vocab ${V}`);

  const n = rows ? rows.length : size;
  const x = new Int32Array(n * T);
  const y = new Int32Array(n * T);
  for (let i = 0; i < n; i++) {
    const s = rows ? rows[i] : i;
    if (!(s >= 0 && s < size)) throw new Error(`synthetic:${task} has ${size} sequences; there is no sequence ${s}`);
    const random = rng(deriveSeed(seed, s));
    const xs = x.subarray(i * T, (i + 1) * T);
    const ys = y.subarray(i * T, (i + 1) * T);
    if (task === 'recall') {
      fillRecall(xs, ys, V, random);
      continue;
    }
    for (let t = 0; t < T; t++) xs[t] = randInt(random, V);
    if (task === 'copy') ys.set(xs);
    else if (task === 'reverse') for (let t = 0; t < T; t++) ys[t] = xs[T - 1 - t];
    else sortOrder(xs).forEach((src, t) => (ys[t] = xs[src]));
  }
  const classNames = Array.from({ length: V }, (_, i) => String(i));
  return new ArrayDataset({ name: `synthetic:${task}`, inputShape: [T], inputDtype: 'int32', labelShape: [T], classNames, x, labels: y });
}

/** Keys come from the lower half of the vocabulary, values from the upper half. */
function fillRecall(xs: Int32Array, ys: Int32Array, V: number, random: () => number): void {
  const T = xs.length;
  const pairs = recallPairs(T);
  const half = Math.floor(V / 2);
  const keys = Array.from({ length: half }, (_, i) => i);
  for (let i = 0; i < pairs; i++) {
    const j = i + randInt(random, half - i);
    [keys[i], keys[j]] = [keys[j], keys[i]];
  }
  const values = new Map<number, number>();
  ys.fill(IGNORE);
  for (let i = 0; i < pairs; i++) {
    const v = half + randInt(random, V - half);
    xs[2 * i] = keys[i];
    xs[2 * i + 1] = v;
    values.set(keys[i], v);
  }
  for (let t = 2 * pairs; t < T; t++) {
    const k = keys[randInt(random, pairs)];
    xs[t] = k;
    ys[t] = values.get(k)!;
  }
}

/**
 * For one input sequence, the position each output position should attend to
 * (-1 where no position is right: the key/value part of a recall sequence).
 */
export function idealAttention(task: SyntheticTask, xs: ArrayLike<number>): Int32Array {
  const T = xs.length;
  const out = new Int32Array(T);
  switch (task) {
    case 'copy':
      out.forEach((_, t) => (out[t] = t));
      break;
    case 'reverse':
      out.forEach((_, t) => (out[t] = T - 1 - t));
      break;
    case 'sort':
      sortOrder(xs).forEach((src, t) => (out[t] = src));
      break;
    case 'recall': {
      const pairs = recallPairs(T);
      out.fill(-1);
      for (let t = 2 * pairs; t < T; t++) {
        for (let i = 0; i < pairs; i++) if (xs[2 * i] === xs[t]) out[t] = 2 * i + 1;
      }
      break;
    }
  }
  return out;
}
