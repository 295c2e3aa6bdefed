// The Python that PyTorch exports copy in: engine/export/torch/*.py.
import type { CodeHelper } from '../blocks/contract.js';
import { pythonSources } from './python-sources.js';

export { pythonDefinition } from './python-sources.js';

const torch = pythonSources('torch');

/** engine/export/torch/ in the package root. */
export const TORCH_DIR = torch.dir;

/** A file's text below its module docstring and imports (the exported file has its own). */
export const torchSourceBody = (file: string): string => torch.body(file);

/** Loading, training and the command line (engine/export/torch/runtime.py). */
export const torchRuntimeSource = () => torch.body('runtime.py');

/** A helper's code: its own text, or its definition in engine/export/torch/<source>. */
export const torchHelperSource = (h: CodeHelper): string => torch.helper(h);
