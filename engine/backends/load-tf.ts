// Loads tfjs on demand (the engine never imports it at module level).
import type { TF } from '../blocks/contract.js';
import { registerCpuConvGrads } from './cpu-conv-grads.js';
import { repairTfjs } from './repairs.js';

let imported: Promise<TF> | undefined;
let loaded: Promise<TF> | undefined;

/** tfjs greets Node users with advice to install tfjs-node on first use; we report the backend ourselves. */
function muteTfjsNodeAdvice(): void {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('looks like you are running TensorFlow.js in Node.js')) return;
    warn(...args);
  };
}

/**
 * The pure-JS tfjs namespace, backend not chosen yet (see engine/backends/select), with its
 * training gaps repaired and the cpu backend's slow convolution filter gradient replaced.
 */
export function importTf(): Promise<TF> {
  imported ??= (async () => {
    muteTfjsNodeAdvice();
    const tf = repairTfjs((await import('@tensorflow/tfjs')) as unknown as TF);
    registerCpuConvGrads(tf);
    return tf;
  })();
  return imported;
}

/** The pure-JS tfjs with the cpu backend; backend choice lives in engine/backends/select. */
export function loadTf(): Promise<TF> {
  loaded ??= (async () => {
    const tf = await importTf();
    await tf.setBackend('cpu');
    await tf.ready();
    return tf;
  })();
  return loaded;
}
