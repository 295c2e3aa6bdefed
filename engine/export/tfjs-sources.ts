// The TypeScript that tfjs exports copy in, all of it real source files that tsc
// checks with the project's settings, read from the package's source tree at run
// time (dist/ holds only their compiled JavaScript):
// - engine/export/tfjs/runtime.ts: data, saving and the command line;
// - engine/export/tfjs/teacher-forcing.ts: the training loop of a caption decoder;
// - engine/export/tfjs/captions.ts: a captioner's words as text;
// - the blocks' tfjs code that the engine itself builds with (files written
//   against engine/blocks/tfjs-kit.ts): an emitter names the definition it calls,
//   and the export copies it with every definition it uses, each once.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CodeHelper } from '../blocks/contract.js';

/** engine/export/tfjs/ in the package root: this module compiles to dist/engine/export/. */
export const TFJS_DIR = fileURLToPath(new URL('../../../engine/export/tfjs/', import.meta.url));

/** engine/blocks/ in the package root, where the source of a tfjs helper (a path below it) lives. */
export const BLOCKS_DIR = fileURLToPath(new URL('../../../engine/blocks/', import.meta.url));

/** A file's lines below its header comment and imports. */
function body(text: string): string[] {
  const lines = text.split('\n');
  let i = 0;
  while (i < lines.length && (lines[i].trim() === '' || lines[i].startsWith('//') || lines[i].startsWith('import '))) i++;
  return lines.slice(i);
}

const runtimeFiles = new Map<string, string>();

/** engine/export/tfjs/`file` below its header comment and imports. */
function runtimeFile(file: string): string {
  let text = runtimeFiles.get(file);
  if (text === undefined)
    runtimeFiles.set(
      file,
      (text = body(readFileSync(`${TFJS_DIR}${file}`, 'utf8'))
        .join('\n')
        .trimEnd()),
    );
  return text;
}

/** Data, saving and the command line (engine/export/tfjs/runtime.ts), below its header comment and imports. */
export const tfjsRuntimeSource = (): string => runtimeFile('runtime.ts');

/** The training loop of models whose layers read the labels (engine/export/tfjs/teacher-forcing.ts). */
export const tfjsTeacherForcingSource = (): string => runtimeFile('teacher-forcing.ts');

/** A captioner's words as text, with the word list beside the model (engine/export/tfjs/captions.ts). */
export const tfjsCaptionsSource = (): string => runtimeFile('captions.ts');

const DEFINITION = /^(?:export )?(?:async )?(?:function\*? |class |const |let |type |interface )([A-Za-z_$][\w$]*)/;

/** Where a line continues the definition above it: indented, a closing bracket, or a blank line inside it. */
const continues = (line: string | undefined) => line !== undefined && /^[\s})\]]/.test(line) && line.trim() !== '';

/** The top-level definitions of a TypeScript file's text (prettier-formatted): name -> its text, with the doc comment above it, without `export`. */
export function tsDefinitions(text: string): Map<string, string> {
  const lines = body(text);
  const defs = new Map<string, string>();
  for (let i = 0; i < lines.length; i++) {
    const name = DEFINITION.exec(lines[i])?.[1];
    if (!name) continue;
    let first = i;
    while (first > 0 && /^(\/\*\*|\s\*|\/\/)/.test(lines[first - 1])) first--;
    let end = i + 1;
    while (end < lines.length && (continues(lines[end]) || (lines[end].trim() === '' && continues(lines[end + 1])))) end++;
    defs.set(name, [...lines.slice(first, i), lines[i].replace(/^export /, ''), ...lines.slice(i + 1, end)].join('\n'));
    i = end - 1;
  }
  return defs;
}

interface SourceFile {
  /** Its definitions, by name. */
  defs: Map<string, string>;
  /** Names it imports from other helper files (relative imports), by name: the file, below engine/blocks/. */
  imports: Map<string, string>;
}

const files = new Map<string, SourceFile>();

function sourceFile(path: string): SourceFile {
  let file = files.get(path);
  if (!file) {
    const text = readFileSync(join(BLOCKS_DIR, path), 'utf8');
    const imports = new Map<string, string>();
    for (const m of text.matchAll(/^import (?:type )?\{([^}]*)\} from '(\.[^']*)\.js';/gm)) {
      const from = join(dirname(path), `${m[2]}.ts`);
      for (const n of m[1].split(',')) imports.set(n.replace(/^\s*type\s+/, '').trim(), from);
    }
    files.set(path, (file = { defs: tsDefinitions(text), imports }));
  }
  return file;
}

/** The files (below engine/blocks/) that hold the tfjs code the engine and the export share. */
export const TFJS_SHARED_FILES = [
  'tfjs-kit.ts',
  'window-sizes.ts',
  'core-layers.ts',
  'padded-pool.ts',
  'dilated-depthwise.ts',
  'batch-norm-layer.ts',
  'layer-norm-layer.ts',
  'unfused-conv-layer.ts',
  'seeded-dropout.ts',
  'attention/ops/attend.ts',
  'attention/ops/tokens.ts',
  'attention/ops/sequence-attention.ts',
  'attention/ops/transformer-layers.ts',
  'attention/vision-ops/vision-attention.ts',
  'attention/structured-ops/structured-attention.ts',
];

/** Every name those files define: an export names no variable after them, so that no helper is shadowed. */
export const tfjsHelperNames = (): string[] => TFJS_SHARED_FILES.flatMap((f) => [...sourceFile(f).defs.keys()]);

/** The code of a definition without its comments, to find the names it uses. */
const code = (text: string) =>
  text
    .split('\n')
    .filter((l) => !/^\s*(\/\*\*|\*|\/\/)/.test(l))
    .join('\n');

/**
 * The tfjs helpers' code in the order a file needs it: a helper's own text, or the definition it names in
 * engine/blocks/<source> after every definition that one uses (in its file or the helper files it imports), each once.
 */
export function tfjsHelperSources(helpers: CodeHelper[]): string[] {
  const out: string[] = [];
  const done = new Set<string>();
  const visit = (name: string, path: string) => {
    const key = `${path}#${name}`;
    if (done.has(key)) return;
    done.add(key);
    const file = sourceFile(path);
    const text = file.defs.get(name);
    if (text === undefined) throw new Error(`engine/blocks/${path} defines no ${name}`);
    const used = code(text);
    for (const other of [...file.defs.keys(), ...file.imports.keys()]) {
      if (other === name || !new RegExp(`\\b${other.replace(/\$/g, '\\$')}\\b`).test(used)) continue;
      visit(other, file.defs.has(other) ? path : file.imports.get(other)!);
    }
    out.push(text.trimEnd());
  };
  for (const h of helpers) {
    if (h.source === undefined) out.push(h.code.trimEnd());
    else visit(h.name, h.source);
  }
  // The engine makes (and registers) a custom layer class on first use; an exported file registers every one at
  // import, so that a trained model.json loads without building the model first (the text entry relies on it).
  const factories = out.flatMap((text) => [...text.matchAll(/^(?:export )?const (\w+) = \(tf: TF\) =>\s*customLayer\(/gm)].map((m) => m[1]));
  if (factories.length > 0) out.push(['// Register the custom layers for tf.loadLayersModel.', ...factories.map((f) => `${f}(tf);`)].join('\n'));
  return out;
}
