// Seeded initialisers: each node gets its own stream of seeds derived from the
// graph seed and the node id, so weights don't change when unrelated nodes do.
// Dropout sites get seeds by name, apart from that stream.
import type { Initializers, StepClock, TF } from './contract.js';

/** FNV-1a, 32-bit. */
export function hashString(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** `clock`: the compiled model's step clock, which its dropout masks follow. */
export function nodeInitializers(tf: TF, graphSeed: number, nodeId: string, clock: StepClock = { step: 0 }): Initializers {
  let counter = 0;
  const graphHash = hashString(String(graphSeed));
  const seed = () => hashString(`${nodeId}#${counter++}`, graphHash) % 2147483647;
  return {
    seed,
    dropoutSeed: (site) => ({ seed: hashString(`${nodeId}/dropout/${site}`, graphHash), clock }),
    glorotUniform: () => tf.initializers.glorotUniform({ seed: seed() }),
    heNormal: () => tf.initializers.heNormal({ seed: seed() }),
    orthogonal: () => tf.initializers.orthogonal({ seed: seed() }),
    uniform: (minval, maxval) => tf.initializers.randomUniform({ minval, maxval, seed: seed() }),
    normal: (stddev) => tf.initializers.truncatedNormal({ stddev, mean: 0, seed: seed() }),
  };
}
