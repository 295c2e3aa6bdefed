// Reproducible test data and the closeness check the backend tests share.
import assert from 'node:assert/strict';
import type { Tensor, TF } from '../../engine/blocks/contract.js';

/** A seeded stream of uniform values in [-scale/2, scale/2): the same numbers on every run and machine. */
export function seededUniform(seed: number): (n: number, scale?: number) => Float32Array {
  return (n, scale = 1) =>
    Float32Array.from({ length: n }, () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return (seed / 2147483648 - 0.5) * scale;
    });
}

/** Largest difference relative to the expected values' largest magnitude, below `tol`. */
export function assertRelClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tol = 1e-4): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let diff = 0;
  let scale = 1e-6;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  assert.ok(diff / scale < tol, `${what}: relative error ${(diff / scale).toExponential(2)}`);
}

/** The largest difference between two maps, relative to the larger one's peak. */
export function relativeGap(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let peak = 0;
  let gap = 0;
  for (let i = 0; i < a.length; i++) {
    peak = Math.max(peak, Math.abs(a[i]), Math.abs(b[i]));
    gap = Math.max(gap, Math.abs(a[i] - b[i]));
  }
  return peak > 0 ? gap / peak : gap;
}

export interface ReadBack {
  dtype: string;
  shape: number[];
  data: number[];
}

/** Runs `f` on each backend in turn; its tensors are read back (dtype, shape, values) and disposed. */
export async function onBackends<B extends string>(tf: TF, backends: readonly B[], f: () => Tensor[]): Promise<Record<B, ReadBack[]>> {
  const out = {} as Record<B, ReadBack[]>;
  for (const b of backends) {
    await tf.setBackend(b);
    out[b] = tf.tidy(f).map((t) => {
      const r = { dtype: t.dtype, shape: t.shape, data: Array.from(t.dataSync() as Float32Array) };
      t.dispose();
      return r;
    });
  }
  return out;
}
