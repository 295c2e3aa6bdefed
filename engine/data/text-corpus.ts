// Labelled texts from files: a CSV with a text column and a label column, or a
// folder with one sub-folder of .txt files per class. Files must be UTF-8;
// errors name the file and, in a CSV, the line.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { readRegularFile } from './files.js';
import { parseCsv } from './csv.js';
import { deriveSeed, permutation } from './random.js';

export interface TextCorpus {
  name: string;
  texts: string[];
  labels: Int32Array;
  classNames: string[];
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const looseUtf8 = new TextDecoder('utf-8');

/** The text of a UTF-8 file (a BOM is dropped); otherwise an error naming the file and the line of the first bad byte. */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return strictUtf8.decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    const text = looseUtf8.decode(bytes);
    const at = text.indexOf('\uFFFD');
    const line = text.slice(0, Math.max(0, at)).split('\n').length;
    throw new Error(`${file}: not UTF-8 text (an invalid byte sequence on line ${line}); save it as UTF-8`);
  }
}

export interface TextCsvOptions {
  /** The text column's header (default "text"). */
  text?: string;
  /** The label column's header (default "label"). */
  label?: string;
}

/** A CSV file with a header row: one text column and one label column; the labels' distinct values become the classes, sorted. */
export async function loadTextCsv(file: string, opts: TextCsvOptions = {}): Promise<TextCorpus> {
  const text = decodeUtf8(await readRegularFile(file), file);
  const rows = parseCsvOrThrow(text, file);
  const first = rows.next();
  if (first.done) throw new Error(`${file}: empty file (a header row with a text and a label column is needed)`);
  const header = first.value[1].map((h) => h.trim());
  const column = (name: string, what: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`${file}: no ${what} column "${name}" in the header (columns: ${header.join(', ')})`);
    return i;
  };
  const ti = column(opts.text ?? 'text', 'text');
  const li = column(opts.label ?? 'label', 'label');
  const texts: string[] = [];
  const raw: string[] = [];
  for (const [line, fields] of rows) {
    if (fields.length !== header.length) throw new Error(`${file}, line ${line}: ${fields.length} fields where the header has ${header.length}`);
    const label = fields[li].trim();
    if (label === '') throw new Error(`${file}, line ${line}: the label column "${header[li]}" is empty`);
    texts.push(fields[ti]);
    raw.push(label);
  }
  if (texts.length === 0) throw new Error(`${file}: a header row but no texts`);
  const classNames = [...new Set(raw)].sort();
  const index = new Map(classNames.map((c, i) => [c, i]));
  return { name: path.basename(file), texts, labels: Int32Array.from(raw, (c) => index.get(c)!), classNames };
}

function* parseCsvOrThrow(text: string, file: string) {
  try {
    yield* parseCsv(text);
  } catch (e) {
    throw new Error(`${file}, ${(e as Error).message}`);
  }
}

/** Whether a folder holds class sub-folders of .txt files (rather than images). */
export async function isTextFolder(dir: string): Promise<boolean> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const files = await readdir(path.join(dir, entry.name));
    if (files.some((f) => /\.txt$/i.test(f))) return true;
  }
  return false;
}

/** One sub-folder per class, each holding .txt files (file-name order); other files are skipped. */
export async function loadTextFolder(dir: string): Promise<TextCorpus> {
  const classNames = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  const texts: string[] = [];
  const labels: number[] = [];
  for (const [k, cls] of classNames.entries()) {
    const files = (await readdir(path.join(dir, cls))).filter((f) => /\.txt$/i.test(f)).sort();
    for (const f of files) {
      const file = path.join(dir, cls, f);
      texts.push(decodeUtf8(await readRegularFile(file), file));
      labels.push(k);
    }
  }
  if (classNames.length < 2) throw new Error(`text folder ${dir}: ${classNames.length} class folder(s); at least 2 are needed`);
  if (texts.length === 0) throw new Error(`text folder ${dir}: no .txt files in its class folders`);
  return { name: path.basename(path.resolve(dir)), texts, labels: Int32Array.from(labels), classNames };
}

/**
 * Per class, a seeded choice of round(n_c · fraction) samples: the same class
 * proportions in both parts. Returns the chosen and the other indices, each in
 * a seeded order.
 */
export function stratifiedSplit(labels: Int32Array, fraction: number, seed: number): { chosen: Int32Array; rest: Int32Array } {
  const chosen: number[] = [];
  const rest: number[] = [];
  const byClass = new Map<number, number[]>();
  labels.forEach((c, i) => (byClass.get(c) ?? byClass.set(c, []).get(c)!).push(i));
  for (const [c, rows] of [...byClass].sort((a, b) => a[0] - b[0])) {
    const order = permutation(rows.length, deriveSeed(seed, 'class', c));
    const k = fraction > 0 ? Math.max(1, Math.round(rows.length * fraction)) : 0;
    order.forEach((j, n) => (n < k ? chosen : rest).push(rows[j]));
  }
  const shuffle = (xs: number[], s: number) => Int32Array.from(permutation(xs.length, s), (j) => xs[j]);
  return { chosen: shuffle(chosen, deriveSeed(seed, 'chosen')), rest: shuffle(rest, deriveSeed(seed, 'rest')) };
}
