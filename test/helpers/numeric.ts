// Reproducible test data and the closeness check the backend tests share.
import assert from 'node:assert/strict';

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
