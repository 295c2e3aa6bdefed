import { loadTf } from '../../engine/backends/load-tf.js';
export const tfReady = loadTf();
