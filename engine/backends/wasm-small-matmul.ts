// Batched products of many tiny matrices on the wasm heap: local attention's
// per-pixel query-times-keys ([25088, 1, 8] × [25088, 8, 25]) and their
// gradients. wasm's BatchMatMul runs its blocked loops matrix by matrix, and
// transposes an operand first where asked to use it transposed: 8–25 ms a call
// for these, where a plain loop that reads either operand transposed in place
// takes a few. Sums in float64, rounded once, in the cpu backend's order.
import type { TensorInfo, WasmHeap } from './wasm-heap-kernels.js';

/** The most multiply-adds per matrix for which the loop beats XNNPACK. */
const SMALL_PRODUCT = 2048;
/** The fewest matrices in the batch for which the loop is taken. */
const MIN_BATCH = 16;

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * a · b (each maybe transposed) batch by batch, when the matrices are tiny and
 * many; undefined otherwise, and where the batch shapes differ other than by
 * one side having a single matrix (left to wasm's own broadcasting).
 */
export function smallBatchMatMul(heap: WasmHeap, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): TensorInfo | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const [m, k] = transposeA ? [a.shape[ra - 1], a.shape[ra - 2]] : [a.shape[ra - 2], a.shape[ra - 1]];
  const [kb, n] = transposeB ? [b.shape[rb - 1], b.shape[rb - 2]] : [b.shape[rb - 2], b.shape[rb - 1]];
  const batchShapeA = a.shape.slice(0, -2);
  const batchShapeB = b.shape.slice(0, -2);
  const batchA = sizeOf(batchShapeA);
  const batchB = sizeOf(batchShapeB);
  const sameBatch = batchShapeA.length === batchShapeB.length && batchShapeA.every((d, i) => d === batchShapeB[i]);
  if (k !== kb || m * n * k > SMALL_PRODUCT || m * n * k === 0) return undefined;
  if (!sameBatch && batchA !== 1 && batchB !== 1) return undefined;
  const batch = Math.max(batchA, batchB);
  if (batch < MIN_BATCH) return undefined;
  const batchShape = batchA >= batchB ? batchShapeA : batchShapeB;
  const out = heap.makeOutput([...batchShape, m, n], 'float32');
  const c = heap.typedArrayFromHeap(out);
  const x = heap.typedArrayFromHeap(a);
  const y = heap.typedArrayFromHeap(b);
  // Element (i, p) of a matrix of a at i·aRow + p·aCol; (p, j) of b at p·bRow + j·bCol.
  const [aRow, aCol] = transposeA ? [1, m] : [k, 1];
  const [bRow, bCol] = transposeB ? [1, k] : [n, 1];
  const aStep = batchA === 1 ? 0 : m * k;
  const bStep = batchB === 1 ? 0 : k * n;
  let o = 0;
  if (k === 1) {
    // Outer products (the gradient of a one-row product): one multiplication per output.
    for (let t = 0; t < batch; t++) {
      const b0 = t * bStep;
      for (let i = 0, ai = t * aStep; i < m; i++, ai += aRow) {
        const xi = x[ai];
        for (let j = 0, bj = b0; j < n; j++, bj += bCol) c[o++] = xi * y[bj];
      }
    }
    return out;
  }
  for (let t = 0; t < batch; t++) {
    const a0 = t * aStep;
    const b0 = t * bStep;
    for (let i = 0; i < m; i++) {
      const ai = a0 + i * aRow;
      for (let j = 0; j < n; j++, o++) {
        let s = 0;
        for (let p = 0, pa = ai, pb = b0 + j * bCol; p < k; p++, pa += aCol, pb += bRow) s += x[pa] * y[pb];
        c[o] = s;
      }
    }
  }
  return out;
}
