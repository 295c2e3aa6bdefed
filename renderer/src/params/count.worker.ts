// Counts parameters off the main thread: tfjs and the layer building stay out
// of the editor's frame budget.
import * as tf from '@tensorflow/tfjs';
import { registry } from '../../../engine/blocks/registry.js';
import { countBlockWeights, trainableKey, type CountRequest } from './count.js';

const ready = tf.setBackend('cpu');

self.onmessage = async (e: MessageEvent<CountRequest[]>) => {
  await ready;
  const results: Record<string, number | string> = {};
  for (const req of e.data) {
    const block = registry.get(req.type);
    try {
      if (!block) {
        results[req.key] = `unknown block ${req.type}`;
        continue;
      }
      const n = tf.tidy(() => countBlockWeights(tf, block, req));
      results[req.key] = n.all;
      results[trainableKey(req.key)] = n.trainable;
    } catch (err) {
      results[req.key] = (err as Error).message;
    }
  }
  (self as unknown as Worker).postMessage(results);
};
