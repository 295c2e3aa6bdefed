// Captioned images: the built-in "digit-captions" (MNIST digits side by side on a
// wide canvas, captioned with their names in reading order) and the import of a
// folder of images with a captions CSV. A caption is a class per step: the words,
// then <end>, then IGNORE (padding that takes no part in the loss). The decoder is
// fed <start> before the first word; its output vocabulary is the class list.
import path from 'node:path';
import { ArrayDataset, EpochDataset, IGNORE, type Normalization } from './dataset.js';
import { loadBuiltin } from './builtin.js';
import { deriveSeed, permutation, randInt, rng, shuffleInPlace } from './random.js';
import { parseCsv } from './csv.js';
import { readRegularFile } from './files.js';
import { decodeImage, fitImage } from './image-folder.js';

export const PAD = '<pad>';
export const START = '<start>';
export const END = '<end>';
/** Token ids every caption vocabulary starts with. */
export const PAD_ID = 0;
export const START_ID = 1;
export const END_ID = 2;
const SPECIAL = [PAD, START, END];

export const DIGIT_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
/** digit-captions' classes: the special tokens, then the digits' names (digit d is class 3 + d). */
export const DIGIT_CAPTION_CLASSES = [...SPECIAL, ...DIGIT_WORDS];

/** digit-captions' fixed geometry: 14×14 digits (MNIST halved), 2–5 of them on a 16×96 canvas. */
export const DIGIT_CAPTIONS = {
  name: 'digit-captions',
  height: 16,
  width: 96,
  digit: 14,
  minDigits: 2,
  maxDigits: 5,
  /** Caption steps: the longest caption's words and <end>. */
  steps: 6,
  /** Canvases by default: 10,800 for training (about 38,000 digits), enough for 90% exact captions in 4 epochs. */
  size: 12_000,
  validation: 0.1,
} as const;

export const isCaptionDataset = (name: string): boolean => name === DIGIT_CAPTIONS.name;

/** Whether a CSV file's header names the columns of a captions file (image, caption) rather than a table's. */
export async function isCaptionsCsv(file: string): Promise<boolean> {
  const head = (await readRegularFile(file)).subarray(0, 4096).toString('utf8').split(/\r?\n/, 1)[0];
  const cols = head.split(',').map((c) => c.trim().replace(/^"|"$/g, '').toLowerCase());
  return cols.includes('image') && cols.includes('caption');
}

/** Where the word of step t should look: a box in input pixels, [x0, y0, x1, y1) (end exclusive). */
export type Box = [number, number, number, number];

export interface CaptionData {
  train: ArrayDataset;
  validation: ArrayDataset;
  classNames: readonly string[];
  /** Per sample of each split (same order), the box of each captioned word; absent for imported captions. */
  boxes?: { train: Box[][]; validation: Box[][] };
  normalization?: Normalization;
}

/** The words of a caption (a row of class ids), up to <end>; padding, <start> and <pad> are skipped. */
export function captionWords(ids: ArrayLike<number>, classNames: readonly string[]): string[] {
  const words: string[] = [];
  for (let t = 0; t < ids.length; t++) {
    const id = ids[t];
    if (id === END_ID) break;
    if (id === IGNORE || id === PAD_ID || id === START_ID) continue;
    words.push(classNames[id]);
  }
  return words;
}

/** MNIST's 28×28 digit halved to 14×14 by 2×2 averaging. */
function halve(src: Float32Array, at: number): Float32Array {
  const out = new Float32Array(14 * 14);
  for (let y = 0; y < 14; y++)
    for (let x = 0; x < 14; x++) {
      const i = at + 2 * y * 28 + 2 * x;
      out[y * 14 + x] = (src[i] + src[i + 1] + src[i + 28] + src[i + 29]) / 4;
    }
  return out;
}

/** `free` pixels cut at random into `parts` gaps (a random composition). */
function randomGaps(random: () => number, free: number, parts: number): number[] {
  const cuts = Array.from({ length: parts - 1 }, () => randInt(random, free + 1)).sort((a, b) => a - b);
  return [...cuts, free].map((c, i) => c - (i ? cuts[i - 1] : 0));
}

/**
 * `count` canvases, each with 2–5 digits from `pool` (MNIST rows), left to right with random gaps and a random
 * vertical offset, so that reading order is left to right and no two digits overlap.
 */
function composeDigits(
  mnist: ArrayDataset,
  pool: Int32Array,
  count: number,
  seed: number,
  into?: { x: Float32Array; labels: Int32Array },
): { x: Float32Array; labels: Int32Array; boxes: Box[][] } {
  const { height: H, width: W, digit: D, minDigits, maxDigits, steps } = DIGIT_CAPTIONS;
  const random = rng(seed);
  const x = into?.x.fill(0) ?? new Float32Array(count * H * W);
  const labels = (into?.labels ?? new Int32Array(count * steps)).fill(IGNORE);
  const boxes: Box[][] = [];
  let next = 0;
  for (let s = 0; s < count; s++) {
    const n = minDigits + randInt(random, maxDigits - minDigits + 1);
    const gaps = randomGaps(random, W - n * D, n + 1);
    const own: Box[] = [];
    let left = 0;
    for (let k = 0; k < n; k++) {
      left += gaps[k];
      const top = randInt(random, H - D + 1);
      const row = mnist.row(pool[next++ % pool.length]);
      const img = halve(mnist.x as Float32Array, row * 28 * 28);
      for (let y = 0; y < D; y++) for (let c = 0; c < D; c++) x[s * H * W + (top + y) * W + left + c] = img[y * D + c];
      labels[s * steps + k] = SPECIAL.length + mnist.labels[row];
      own.push([left, top, left + D, top + D]);
      left += D;
    }
    labels[s * steps + n] = END_ID;
    boxes.push(own);
  }
  return { x, labels, boxes };
}

/**
 * digit-captions: `size` canvases (default 12,000), a fixed 10% of them for validation. The validation canvases
 * are made of MNIST images that no training canvas uses, so an exact caption is not a remembered digit.
 */
export async function digitCaptions(opts: { size?: number; seed?: number; freshEachEpoch?: boolean } = {}): Promise<CaptionData> {
  const size = opts.size ?? DIGIT_CAPTIONS.size;
  const seed = opts.seed ?? 0;
  const nVal = Math.max(1, Math.round(size * DIGIT_CAPTIONS.validation));
  const nTrain = size - nVal;
  if (nTrain < 1) throw new Error(`dataset ${DIGIT_CAPTIONS.name}: ${size} sample(s) are too few to split`);
  // Enough digits for every canvas, at most all of MNIST.
  const mnist = await loadBuiltin('mnist', { limit: Math.min(70000, Math.ceil(size * DIGIT_CAPTIONS.maxDigits * 1.1)), seed: deriveSeed(seed, 'digits') });
  const order = permutation(mnist.size, deriveSeed(seed, 'pools'));
  const cut = Math.round(mnist.size * (nTrain / size));
  const classNames = DIGIT_CAPTION_CLASSES;
  const make = (pool: Int32Array, count: number, purpose: string, fresh = false) => {
    const c = composeDigits(mnist, pool, count, deriveSeed(seed, purpose));
    const init = {
      name: DIGIT_CAPTIONS.name,
      inputShape: [DIGIT_CAPTIONS.height, DIGIT_CAPTIONS.width, 1],
      labelShape: [DIGIT_CAPTIONS.steps],
      classNames,
      x: c.x,
      labels: c.labels,
    };
    if (!fresh) return { ds: new ArrayDataset(init), boxes: c.boxes };
    // Epoch e > 0: the same training digits, shuffled, on new canvases (written over the old ones).
    const recompose = (epoch: number) => {
      const shuffled = epoch === 0 ? pool : shuffleInPlace(pool.slice(), rng(deriveSeed(seed, purpose, 'pool', epoch)));
      const again = composeDigits(mnist, shuffled, count, epoch === 0 ? deriveSeed(seed, purpose) : deriveSeed(seed, purpose, epoch), c);
      c.boxes.splice(0, c.boxes.length, ...again.boxes);
    };
    return { ds: new EpochDataset(init, recompose), boxes: c.boxes };
  };
  const train = make(order.subarray(0, cut), nTrain, 'train', opts.freshEachEpoch);
  const validation = make(order.subarray(cut), nVal, 'validation');
  return { train: train.ds, validation: validation.ds, classNames, boxes: { train: train.boxes, validation: validation.boxes } };
}

export interface CaptionFolderOptions {
  height: number;
  width: number;
  channels: 1 | 3;
  /** Caption steps, <end> included; longer captions are refused. */
  steps: number;
}

/** A caption's words: lower case, split at anything that is not a letter, digit or apostrophe. */
export const captionTokens = (caption: string): string[] => caption.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];

/**
 * A folder of images with a captions CSV (columns `image` and `caption`, a header row first; the image
 * path relative to the CSV's folder). Every word of the captions is in the vocabulary, after <pad>,
 * <start> and <end>, in order of first appearance. Bad rows are refused with the file and row.
 */
export async function loadCaptionFolder(csvFile: string, opts: CaptionFolderOptions): Promise<ArrayDataset> {
  const text = (await readRegularFile(csvFile)).toString('utf8');
  let rows: [number, string[]][];
  try {
    rows = [...parseCsv(text)];
  } catch (err) {
    throw new Error(`${csvFile}, ${(err as Error).message}`);
  }
  if (rows.length === 0) throw new Error(`${csvFile}: the captions file is empty; it needs a header row "image,caption" and one row per image`);
  const header = rows[0][1].map((h) => h.trim().toLowerCase());
  const imageCol = header.indexOf('image');
  const captionCol = header.indexOf('caption');
  if (imageCol < 0 || captionCol < 0)
    throw new Error(`${csvFile}, row ${rows[0][0]}: the header must name the columns "image" and "caption", and it is "${rows[0][1].join(',')}"`);
  const body = rows.slice(1).filter(([, fields]) => fields.some((f) => f.trim() !== ''));
  if (body.length === 0) throw new Error(`${csvFile}: no captioned images after the header row`);
  const dir = path.dirname(csvFile);
  const classNames = [...SPECIAL];
  const ids = new Map(classNames.map((w, i) => [w, i]));
  const pixels = opts.height * opts.width * opts.channels;
  const x = new Float32Array(body.length * pixels);
  const labels = new Int32Array(body.length * opts.steps).fill(IGNORE);
  for (const [k, [line, fields]] of body.entries()) {
    const where = `${csvFile}, row ${line}`;
    const file = fields[imageCol]?.trim();
    const caption = fields[captionCol] ?? '';
    if (!file) throw new Error(`${where}: no image file named`);
    const words = captionTokens(caption);
    if (words.length === 0) throw new Error(`${where}: the caption of ${file} has no words`);
    if (words.length + 1 > opts.steps)
      throw new Error(`${where}: the caption of ${file} has ${words.length} words; the model writes at most ${opts.steps - 1} (and <end>)`);
    const imagePath = path.resolve(dir, file);
    let buf: Buffer;
    try {
      buf = await readRegularFile(imagePath);
    } catch (err) {
      throw new Error(`${where}: cannot read image ${file}: ${(err as Error).message}`);
    }
    try {
      fitImage(decodeImage(buf), opts, x.subarray(k * pixels, (k + 1) * pixels));
    } catch (err) {
      throw new Error(`${where}: image ${file} cannot be decoded: ${(err as Error).message}`);
    }
    words.forEach((w, t) => {
      if (!ids.has(w)) ids.set(w, classNames.push(w) - 1);
      labels[k * opts.steps + t] = ids.get(w)!;
    });
    labels[k * opts.steps + words.length] = END_ID;
  }
  return new ArrayDataset({
    name: path.basename(path.resolve(dir)),
    inputShape: [opts.height, opts.width, opts.channels],
    labelShape: [opts.steps],
    classNames,
    x,
    labels,
  });
}

/** The class names a run trained on `dataset` (its config's dataset name) wrote captions in, where they can be known. */
export async function captionClasses(dataset: string): Promise<readonly string[] | undefined> {
  if (isCaptionDataset(dataset)) return DIGIT_CAPTION_CLASSES;
  if (!/\.csv$/i.test(dataset) || !(await isCaptionsCsv(dataset).catch(() => false))) return undefined;
  const rows = [...parseCsv((await readRegularFile(dataset)).toString('utf8'))];
  const col = rows[0][1].map((h) => h.trim().toLowerCase()).indexOf('caption');
  const classNames = [...SPECIAL];
  for (const [, fields] of rows.slice(1)) for (const w of captionTokens(fields[col] ?? '')) if (!classNames.includes(w)) classNames.push(w);
  return classNames;
}

export interface CaptionScores {
  samples: number;
  /** Samples whose greedy caption (up to <end>) is exactly the true one. */
  exact: number;
  /** The other samples by kind of error: a wrong number of words, or the right number with some of them wrong. */
  wrongLength: number;
  wrongWords: number;
  /** True words (digits) whose step's attention peak lies inside that digit's box. */
  words: number;
  inBox: number;
}

/**
 * How a captioner did on samples with known boxes: exact captions, and for every true word the step's
 * attention peak (the centre of the grid cell of largest weight, in input pixels) inside its digit's box.
 * `probs` is [n, T, V], `attention` [n, T, h, w] over an input of `height` × `width` pixels.
 */
export function scoreCaptions(
  probs: Float32Array,
  attention: Float32Array,
  labels: Int32Array,
  boxes: Box[][],
  shape: { steps: number; vocab: number; gridHeight: number; gridWidth: number; height: number; width: number },
): CaptionScores {
  const { steps, vocab, gridHeight: gh, gridWidth: gw, height, width } = shape;
  const scores: CaptionScores = { samples: boxes.length, exact: 0, wrongLength: 0, wrongWords: 0, words: 0, inBox: 0 };
  const cells = gh * gw;
  const argmax = (a: Float32Array, from: number, n: number) => {
    let best = 0;
    for (let k = 1; k < n; k++) if (a[from + k] > a[from + best]) best = k;
    return best;
  };
  for (let s = 0; s < boxes.length; s++) {
    const predicted = Array.from({ length: steps }, (_, t) => argmax(probs, (s * steps + t) * vocab, vocab));
    const truth = labels.subarray(s * steps, (s + 1) * steps);
    const [want, got] = [captionWords(truth, DIGIT_CAPTION_CLASSES), captionWords(predicted, DIGIT_CAPTION_CLASSES)];
    if (want.length !== got.length || !predicted.includes(END_ID)) scores.wrongLength++;
    else if (want.join(' ') !== got.join(' ')) scores.wrongWords++;
    else scores.exact++;
    boxes[s].forEach(([x0, y0, x1, y1], t) => {
      const peak = argmax(attention, (s * steps + t) * cells, cells);
      const [y, x] = [((Math.floor(peak / gw) + 0.5) * height) / gh, (((peak % gw) + 0.5) * width) / gw];
      scores.words++;
      if (x >= x0 && x < x1 && y >= y0 && y < y1) scores.inBox++;
    });
  }
  return scores;
}
