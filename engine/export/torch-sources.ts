// The Python that PyTorch exports copy in: real source files under
// engine/export/torch/ (tested as code), read from the package's source tree at
// run time (tsc copies no .py files to dist/), so that a single exported file
// stays self-contained.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CodeHelper } from '../blocks/contract.js';

/** engine/export/torch/ in the package root: this module compiles to dist/engine/export/. */
export const TORCH_DIR = fileURLToPath(new URL('../../../engine/export/torch/', import.meta.url));

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

/** The top-level definition `name` (class or def, with the comments just above it) in a file's text. */
export function pythonDefinition(text: string, name: string, file = 'the file'): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`class ${name}(`) || l.startsWith(`class ${name}:`) || l.startsWith(`def ${name}(`));
  if (start < 0) throw new Error(`${file} defines no ${name}`);
  let first = start;
  while (first > 0 && /^(#|@)/.test(lines[first - 1])) first--;
  let end = start + 1;
  while (end < lines.length && (lines[end] === '' || /^\s/.test(lines[end]))) end++;
  return lines.slice(first, end).join('\n').trimEnd();
}

/** A helper's code: its own text, or its definition in engine/export/torch/<source>. */
export function torchHelperSource(h: CodeHelper): string {
  return h.source === undefined ? h.code : pythonDefinition(torchSourceBody(h.source), h.name, `engine/export/torch/${h.source}`);
}
