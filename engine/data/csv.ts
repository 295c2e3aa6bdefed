// Import of a CSV file: numeric feature columns and one label column (by name,
// the last column by default). A header row is required. Errors name the file,
// the line and the column.
import { ArrayDataset } from './dataset.js';
import { readRegularFile } from './files.js';

export interface CsvOptions {
  /** The label column's header; default: the last column. */
  label?: string;
}

/** RFC 4180 fields: quotes, doubled quotes, separators and newlines inside quotes. Yields [line, fields]. */
export function* parseCsv(text: string): Generator<[number, string[]]> {
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    let field = '';
    for (;;) {
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) throw new Error(`line ${start}: unterminated quoted field`);
          if (text[i] === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (text[i] === '\n') line++;
          field += text[i++];
        }
      }
      while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') field += text[i++];
      fields.push(field);
      field = '';
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '\r') i++;
      if (text[i] === '\n') i++;
      break;
    }
    line++;
    if (!(fields.length === 1 && fields[0].trim() === '')) yield [start, fields];
  }
}

/** Plain decimal notation (1, -2.5, .5, 1e-3): Number() would also take 0x10, 0b1, Infinity and blanks. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** A field's number, or undefined when it is not a finite decimal. */
export function decimal(field: string): number | undefined {
  const t = field.trim();
  if (!DECIMAL.test(t)) return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}

export async function loadCsv(file: string, opts: CsvOptions = {}): Promise<ArrayDataset> {
  const text = (await readRegularFile(file)).toString('utf8');
  const rows = (() => {
    try {
      return [...parseCsv(text)];
    } catch (e) {
      throw new Error(`${file}:${(e as Error).message}`);
    }
  })();
  if (rows.length < 2) throw new Error(`${file}: needs a header row and at least one data row`);
  const header = rows[0][1].map((h) => h.trim());
  const labelCol = opts.label === undefined ? header.length - 1 : header.indexOf(opts.label);
  if (labelCol < 0) throw new Error(`${file}: no column named "${opts.label}" (columns: ${header.join(', ')})`);
  if (header.length < 2) throw new Error(`${file}: needs at least one feature column and a label column`);
  const features = header.length - 1;
  const x = new Float32Array((rows.length - 1) * features);
  const rawLabels: string[] = [];
  rows.slice(1).forEach(([line, fields], r) => {
    if (fields.length !== header.length) throw new Error(`${file}:${line}: row ${r + 1} has ${fields.length} fields, the header has ${header.length}`);
    let k = 0;
    fields.forEach((f, c) => {
      if (c === labelCol) {
        const label = f.trim();
        if (label === '') throw new Error(`${file}:${line}: row ${r + 1}, label column "${header[c]}" is empty`);
        return void rawLabels.push(label);
      }
      const v = decimal(f);
      if (v === undefined) throw new Error(`${file}:${line}: row ${r + 1}, column "${header[c]}": "${f}" is not a number`);
      x[r * features + k++] = v;
    });
  });
  const distinct = [...new Set(rawLabels)];
  const numeric = distinct.every((l) => decimal(l) !== undefined);
  const classNames = distinct.sort(numeric ? (a, b) => Number(a) - Number(b) : undefined);
  if (classNames.length < 2)
    throw new Error(`${file}: the label column "${header[labelCol]}" has ${classNames.length} distinct value(s); a classifier needs at least two`);
  const index = new Map(classNames.map((c, i) => [c, i]));
  const labels = Int32Array.from(rawLabels, (l) => index.get(l)!);
  return new ArrayDataset({ name: file.replace(/^.*[\\/]/, '').replace(/\.csv$/i, ''), inputShape: [features], classNames, x, labels });
}
