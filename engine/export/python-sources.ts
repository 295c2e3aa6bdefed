// The Python that the PyTorch and Keras exports copy in: real source files under
// engine/export/torch/, engine/export/keras/ and engine/export/shared/ (tested as code), read from the
// package's source tree at run time (tsc copies no .py files to dist/), so that a
// single exported file stays self-contained.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CodeHelper } from '../blocks/contract.js';

export interface PythonSources {
  /** The folder, absolute, with a trailing slash. */
  dir: string;
  /** A file's text below its module docstring and imports (the exported file has its own). */
  body(file: string): string;
  /** A helper's code: its own text, or its definition in <dir>/<source>. */
  helper(h: CodeHelper): string;
}

/** The top-level definition `name` (class or def, with the comments and decorators just above it) in a file's text. */
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

/** The names a file's text defines at its top level: classes, functions and assignments, in order, once each. */
export function pythonTopLevelNames(text: string): string[] {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^(?:class|def)\s+([A-Za-z_]\w*)/.exec(line) ?? /^([A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=)/.exec(line);
    if (m) names.add(m[1]);
  }
  return [...names];
}

function stripHeader(raw: string): string {
  const lines = raw.split('\n');
  let i = 0;
  if (lines[0].startsWith('"""')) {
    i = lines[0].trim().length > 3 && lines[0].trim().endsWith('"""') ? 1 : lines.findIndex((l, k) => k > 0 && l.trim().endsWith('"""')) + 1;
  }
  while (i < lines.length && (lines[i].trim() === '' || /^(import|from) /.test(lines[i]))) i++;
  return lines.slice(i).join('\n');
}

/** The Python files of engine/export/`folder`/ (shared: those both the PyTorch and the Keras exports copy in). */
export function pythonSources(folder: 'torch' | 'keras' | 'shared'): PythonSources {
  // engine/export/<folder>/ in the package root: this module compiles to dist/engine/export/.
  const dir = fileURLToPath(new URL(`../../../engine/export/${folder}/`, import.meta.url));
  const cache = new Map<string, string>();
  const body = (file: string) => {
    let text = cache.get(file);
    if (text === undefined) cache.set(file, (text = stripHeader(readFileSync(dir + file, 'utf8'))));
    return text;
  };
  return {
    dir,
    body,
    helper: (h) => (h.source === undefined ? h.code : pythonDefinition(body(h.source), h.name, `engine/export/${folder}/${h.source}`)),
  };
}

const shared = pythonSources('shared');

/** The validation captions a captioner's main() prints (engine/export/shared/caption_report.py), for either Python export. */
export const captionReportSource = (): string => shared.body('caption_report.py');
