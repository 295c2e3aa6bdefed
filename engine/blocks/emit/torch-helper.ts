// Export helpers live as real Python in engine/export/torch/*.py and
// engine/export/keras/*.py (one file per family, tested as code); an emitter names
// the class (or function) it needs and its file, and the exporter of that target
// copies the definition into the exported file.
import type { CodeHelper } from '../contract.js';

/** The definition `name` (a class or a def) of engine/export/torch/`file`. */
export const torchHelper = (name: string, file: string): CodeHelper => ({ name, source: file });

/** The definition `name` (a class or a def) of engine/export/keras/`file`. */
export const kerasHelper = (name: string, file: string): CodeHelper => ({ name, source: file });
