// Counts parameters off the main thread: tfjs and the layer building stay out
// of the editor's frame budget.
import * as tf from '@tensorflow/tfjs';
import { registry } from '../../../engine/blocks/registry.js';
import { countBlockParams, type CountRequest } from './count.js';

const ready = tf.setBackend('cpu');

self.onmessage = async (e: MessageEvent<CountRequest[]>) => {
  await ready;
  const results: Record<string, number | string> = {};
  for (const req of e.data) {
    const block = registry.get(req.type);
    try {
      results[req.key] = block ? tf.tidy(() => countBlockParams(tf, block, req)) : `unknown block ${req.type}`;
    } catch (err) {
      results[req.key] = (err as Error).message;
    }
  }
  (self as unknown as Worker).postMessage(results);
};
