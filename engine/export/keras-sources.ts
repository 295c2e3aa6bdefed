// The Python that Keras exports copy in: engine/export/keras/*.py.
import type { CodeHelper } from '../blocks/contract.js';
import { pythonSources } from './python-sources.js';

const keras = pythonSources('keras');

/** engine/export/keras/ in the package root. */
export const KERAS_DIR = keras.dir;

/** Loading weights, training and the command line (engine/export/keras/runtime.py). */
export const kerasRuntimeSource = () => keras.body('runtime.py');

/** A helper's code: its own text, or its definition in engine/export/keras/<source>. */
export const kerasHelperSource = (h: CodeHelper): string => keras.helper(h);
