// The Python that PyTorch exports copy in: real source files under
// engine/export/torch/ (tested as code), read from the package's source tree at
// run time (tsc copies no .py files to dist/), so that a single exported file
// stays self-contained.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CodeHelper } from '../blocks/contract.js';

/** engine/export/torch/ in the package root: this module compiles to dist/engine/export/. */
const TORCH_DIR = fileURLToPath(new URL('../../../engine/export/torch/', import.meta.url));

const cache = new Map<string, string>();

/** A file's text below its module docstring and imports (the exported file has its own). */
export function torchSourceBody(file: string): string {
  let text = cache.get(file);
  if (text === undefined) {
    const raw = readFileSync(TORCH_DIR + file, 'utf8');
    const lines = raw.split('\n');
    let i = 0;
    if (lines[0].startsWith('"""')) {
      i = lines[0].trim().length > 3 && lines[0].trim().endsWith('"""') ? 1 : lines.findIndex((l, k) => k > 0 && l.trim().endsWith('"""')) + 1;
    }
    while (i < lines.length && (lines[i].trim() === '' || /^(import|from) /.test(lines[i]))) i++;
    text = lines.slice(i).join('\n');
    cache.set(file, text);
  }
  return text;
}

/** Loading, training and the command line (engine/export/torch/runtime.py). */
export const torchRuntimeSource = () => torchSourceBody('runtime.py');

/** A helper's code: its own text, or the class of that name in its source file. */
export function torchHelperSource(h: CodeHelper): string {
  return h.code;
}
