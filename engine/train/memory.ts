// How much memory a training step takes, estimated before the first batch, so
// that a batch that cannot fit is refused with a size that would ("this needs
// about 12.4 GB at batch 60000; try batch ≤ 9000") instead of ending as wasm's
// bare `Aborted()` or a cpu process that grows until the machine swaps.
//
//   need = weights × (1 + 1 gradient + optimizer slots) × 4 bytes
//        + batch × activation bytes per sample × ACTIVATION_FACTOR
//
// The activations per sample are the model's layer outputs (the analysis'
// shapes, compiled: repeats expanded), all of which the backward pass keeps.
import os from 'node:os';
import type * as tfjs from '@tensorflow/tfjs';
import type { TF } from '../blocks/contract.js';

/**
 * Per kept activation: itself, its gradient in the backward pass, and the
 * temporaries the kernels make around it (a softmax's exponentials, a
 * convolution's im2col rows). Measured steps use 2–3 times the layer outputs.
 */
export const ACTIVATION_FACTOR = 3;
/** The wasm backend's heap cannot grow past 4 GiB (32-bit addresses). */
export const WASM_HEAP_BYTES = 4 * 2 ** 30;
/** The cpu and native backends may use this share of the machine's memory. */
export const SYSTEM_MEMORY_SHARE = 0.5;
/** Sets the budget in GB whatever the backend (e.g. ATTN_MEMORY_BUDGET_GB=8). */
export const BUDGET_ENV = 'ATTN_MEMORY_BUDGET_GB';

const BYTES = 4; // float32 and int32 alike

export interface MemoryNeed {
  /** Weights, their gradients and the optimizer's slots: the same at any batch. */
  fixedBytes: number;
  /** The part of fixedBytes the gradients take (allocated by each step; the rest lives as long as the model). */
  gradientBytes: number;
  /** What one more sample in the batch adds. */
  perSampleBytes: number;
}

export const GB = 1e9;
const gb = (bytes: number) => (bytes / GB >= 10 ? (bytes / GB).toFixed(0) : (bytes / GB).toPrecision(2));

/** Elements of every layer output, per sample (the batch axis left out). */
export function activationsPerSample(model: tfjs.LayersModel): number {
  let total = 0;
  for (const layer of model.layers) {
    const out = layer.outputShape as (number | null)[] | (number | null)[][];
    const shapes = Array.isArray(out[0]) ? (out as (number | null)[][]) : [out as (number | null)[]];
    for (const s of shapes) total += s.slice(1).reduce<number>((a, d) => a * (d ?? 1), 1);
  }
  return total;
}

export function trainingNeed(model: tfjs.LayersModel, optimizerSlots: number): MemoryNeed {
  const count = (ws: { shape: (number | null)[] }[]) => ws.reduce((n, w) => n + w.shape.reduce<number>((a, d) => a * (d ?? 1), 1), 0);
  const params = count(model.trainableWeights);
  const frozen = count(model.weights) - params;
  return {
    fixedBytes: (params * (2 + optimizerSlots) + frozen) * BYTES,
    gradientBytes: params * BYTES,
    perSampleBytes: activationsPerSample(model) * BYTES * ACTIVATION_FACTOR,
  };
}

/**
 * What a backend may use, in bytes: the environment's override, else wasm's
 * heap limit, else a share of the machine's memory. `inUse`: what this process
 * already holds there that the estimate does not count.
 */
export function memoryBudget(backend: string, inUse = 0, env: NodeJS.ProcessEnv = process.env): number {
  const override = env[BUDGET_ENV];
  if (override !== undefined && override !== '') {
    const v = Number(override);
    if (!(v > 0)) throw new Error(`${BUDGET_ENV} must be a positive number of GB, got "${override}"`);
    return v * GB;
  }
  const limit = backend === 'wasm' ? WASM_HEAP_BYTES : os.totalmem() * SYSTEM_MEMORY_SHARE;
  return Math.max(0, limit - inUse);
}

/** The largest batch that fits (0: not even one sample). */
export const maxBatch = (need: MemoryNeed, budget: number): number => Math.max(0, Math.floor((budget - need.fixedBytes) / need.perSampleBytes));

/** Refuses a batch that does not fit the budget, naming the batch that would. */
export function checkMemory(need: MemoryNeed, batch: number, budget: number, backend: string): void {
  const total = need.fixedBytes + batch * need.perSampleBytes;
  if (total <= budget) return;
  const k = maxBatch(need, budget);
  const where = `the ${backend} backend's budget is about ${gb(budget)} GB (${BUDGET_ENV} sets it)`;
  if (k < 1)
    throw new Error(
      `this needs about ${gb(total)} GB at batch ${batch}, and even batch 1 needs about ${gb(need.fixedBytes + need.perSampleBytes)} GB; ${where}`,
    );
  throw new Error(`this needs about ${gb(total)} GB at batch ${batch}; try batch ≤ ${k} (${where})`);
}

/** What each runtime throws when memory runs out: wasm's abort, V8's typed-array and buffer failures. */
const OUT_OF_MEMORY = /Aborted\(|out of memory|Array buffer allocation failed|Invalid (typed )?array( buffer)? length|Cannot enlarge memory/i;

export function isOutOfMemory(err: unknown): boolean {
  return OUT_OF_MEMORY.test(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
}

/**
 * Before the first batch: refuses a batch the backend cannot hold. The weights
 * and optimizer slots already allocated are part of the estimate; whatever else
 * the backend holds comes off the budget.
 */
export function guardTrainingMemory(tf: TF, model: tfjs.LayersModel, optimizerSlots: number, batch: number, backend: string): void {
  const need = trainingNeed(model, optimizerSlots);
  const held = need.fixedBytes - need.gradientBytes;
  checkMemory(need, batch, memoryBudget(backend, Math.max(0, tf.memory().numBytes - held)), backend);
}
