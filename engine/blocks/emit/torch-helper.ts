// PyTorch helpers live as real Python in engine/export/torch/*.py (one file per
// family, tested as code); an emitter names the class (or function) it needs and
// its file, and the exporter copies that definition into the exported file.
import type { CodeHelper } from '../contract.js';

/** The definition `name` (a class or a def) of engine/export/torch/`file`. */
export const torchHelper = (name: string, file: string): CodeHelper => ({ name, source: file });
