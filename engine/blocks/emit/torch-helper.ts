// Export helpers live as real source files: Python in engine/export/torch/*.py and
// engine/export/keras/*.py (one file per family, tested as code), TypeScript in the
// blocks' own tfjs files (engine/blocks/tfjs-kit.ts and those written against it,
// which the engine builds with). An emitter names the class (or function) it needs
// and its file, and the exporter of that target copies the definition into the
// exported file.
import type { CodeHelper } from '../contract.js';

/** The definition `name` (a class or a def) of engine/export/torch/`file`. */
export const torchHelper = (name: string, file: string): CodeHelper => ({ name, source: file });

/** The definition `name` (a class or a def) of engine/export/keras/`file`. */
export const kerasHelper = (name: string, file: string): CodeHelper => ({ name, source: file });

/** The definition `name` of engine/blocks/`file` (a path below engine/blocks/), with the definitions it uses. */
export const tfjsHelper = (name: string, file: string): CodeHelper => ({ name, source: file });
