// The TypeScript that tfjs exports copy in: engine/export/tfjs/runtime.ts, a real
// source file that tsc checks with the project's settings, read from the package's
// source tree at run time (dist/ holds only its compiled JavaScript).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** engine/export/tfjs/ in the package root: this module compiles to dist/engine/export/. */
export const TFJS_DIR = fileURLToPath(new URL('../../../engine/export/tfjs/', import.meta.url));

let runtime: string | undefined;

/** Data, saving and the command line (engine/export/tfjs/runtime.ts), below its header comment and imports. */
export function tfjsRuntimeSource(): string {
  if (runtime === undefined) {
    const lines = readFileSync(`${TFJS_DIR}runtime.ts`, 'utf8').split('\n');
    let i = 0;
    while (i < lines.length && (lines[i].trim() === '' || lines[i].startsWith('//') || lines[i].startsWith('import '))) i++;
    runtime = lines.slice(i).join('\n').trimEnd();
  }
  return runtime;
}
