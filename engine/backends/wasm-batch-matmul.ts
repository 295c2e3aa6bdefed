// Batched matrix products on the wasm heap, for attention's small matrices
// (scores Q·Kᵀ, weights·V and their gradients: [batch·heads, T, T] by
// [batch·heads, T, d]). wasm's BatchMatMul with a batch above 1 takes a naive
// loop with a fixed cost per call: 0.41 ms for [64, 17, 17] by [64, 17, 16],
// and 0.58 ms with a transposed operand (a Transpose first), where this loop
// takes about 0.2 ms (0.13 ms since it works on two output rows at a time) and
// reads transposed operands in place. It gives the cpu
// backend's values to the bit: the cpu kernel's float64 dot products over
// blocks of 48 along the shared axis, each block's sum added to the float32
// result in block order.
import type { TensorInfo, WasmHeap } from './wasm-heap-kernels.js';

/** The cpu backend's block along the shared axis (its MathBackendCPU.blockSize). */
const CPU_BLOCK = 48;

const sizeOf = (dims: number[]) => dims.reduce((p, d) => p * d, 1);

/** The batch axes of a product: the longer list, each axis the larger of the two (right-aligned). */
const broadcastOuter = (a: number[], b: number[]) => {
  const [long, short] = a.length >= b.length ? [a, b] : [b, a];
  return long.map((d, i) => Math.max(d, short[i - (long.length - short.length)] ?? 1));
};

/**
 * Whether batchMatMulOnHeap takes this product: float32, rank 3 or more, a
 * batch above 1 (where wasm takes its naive loop), and batch axes that are
 * equal or one side's all 1 (a shared matrix).
 */
export function takesBatchMatMul(a: TensorInfo, b: TensorInfo): boolean {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 3 || b.shape.length < 3) return false;
  if (a.shape.includes(0) || b.shape.includes(0)) return false;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = sizeOf(outerA);
  const batchB = sizeOf(outerB);
  const same = outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
  return Math.max(batchA, batchB) > 1 && (same || batchA === 1 || batchB === 1);
}

/**
 * Products of one matrix pair up to this many multiply-adds go to the heap loop
 * too. wasm's own (XNNPACK) sets up an operator and packs the right operand for
 * every new right operand, a fixed 0.1 to 1 ms: a Squeeze-and-Excitation MLP's
 * gradients ([64, 8] by [32, 8]ᵀ, 16k multiply-adds) take 0.1 to 1.1 ms CPU there
 * and 0.02 ms here; the loop's 1 ns or so per multiply-add passes that cost near 100k.
 */
export const SMALL_MATMUL_MACS = 65536;

/** Whether batchMatMulOnHeap takes a single product (no batch above 1) of at most SMALL_MATMUL_MACS float32 multiply-adds. */
export function takesSmallMatMul(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): boolean {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return false;
  if (sizeOf(a.shape.slice(0, -2)) !== 1 || sizeOf(b.shape.slice(0, -2)) !== 1) return false;
  const [a0, a1] = a.shape.slice(-2);
  const [b0, b1] = b.shape.slice(-2);
  const macs = (transposeA ? a1 : a0) * (transposeA ? a0 : a1) * (transposeB ? b0 : b1);
  return macs > 0 && macs <= SMALL_MATMUL_MACS && (transposeA ? a0 : a1) === (transposeB ? b1 : b0);
}

/**
 * a·b over the leading (batch) axes, either operand transposed in its last two
 * axes; a batch of 1 on one side is shared by every batch of the other (the
 * cpu kernel's batch index modulo each side's batch count). Only for products
 * that takesBatchMatMul accepts.
 */
export function batchMatMulOnHeap(heap: WasmHeap, aInfo: TensorInfo, bInfo: TensorInfo, transposeA: boolean, transposeB: boolean): TensorInfo {
  const ra = aInfo.shape.length;
  const rb = bInfo.shape.length;
  const [a0, a1] = aInfo.shape.slice(-2);
  const [b0, b1] = bInfo.shape.slice(-2);
  const m = transposeA ? a1 : a0;
  const k = transposeA ? a0 : a1;
  const n = transposeB ? b0 : b1;
  if ((transposeB ? b1 : b0) !== k) throw new Error(`matMul: inner sizes ${k} and ${transposeB ? b1 : b0} of [${aInfo.shape}] and [${bInfo.shape}] differ`);
  const outerA = aInfo.shape.slice(0, ra - 2);
  const outerB = bInfo.shape.slice(0, rb - 2);
  const batchA = sizeOf(outerA);
  const batchB = sizeOf(outerB);
  const batch = Math.max(batchA, batchB);
  const out = heap.makeOutput([...broadcastOuter(outerA, outerB), m, n], 'float32');
  // Views after the allocation: a heap that grows detaches the views made before.
  const c = heap.typedArrayFromHeap(out);
  const a = heap.typedArrayFromHeap(aInfo);
  const b = heap.typedArrayFromHeap(bInfo);
  const aRow = transposeA ? 1 : k; // step to a's next output row
  const aShared = transposeA ? m : 1; // step along the shared axis in a
  const bShared = transposeB ? 1 : n;
  const bCol = transposeB ? k : 1;
  for (let bi = 0; bi < batch; bi++) {
    const aBase = (bi % batchA) * m * k;
    const bBase = (bi % batchB) * k * n;
    const cBase = bi * m * n;
    for (let k0 = 0; k0 < k; k0 += CPU_BLOCK) {
      const k1 = Math.min(k, k0 + CPU_BLOCK);
      const first = k0 === 0;
      let i = 0;
      // Two output rows by four columns at a time: each load of a serves four products, each of b two.
      for (; i + 2 <= m; i += 2) {
        const aAt = aBase + i * aRow + k0 * aShared;
        const cAt = cBase + i * n;
        let j = 0;
        for (; j + 4 <= n; j += 4) {
          let s0 = 0,
            s1 = 0,
            s2 = 0,
            s3 = 0,
            t0 = 0,
            t1 = 0,
            t2 = 0,
            t3 = 0;
          for (let kk = k0, p = aAt, q = bBase + j * bCol + k0 * bShared; kk < k1; kk++, p += aShared, q += bShared) {
            const x = a[p];
            const y = a[p + aRow];
            const w0 = b[q];
            const w1 = b[q + bCol];
            const w2 = b[q + 2 * bCol];
            const w3 = b[q + 3 * bCol];
            s0 += x * w0;
            s1 += x * w1;
            s2 += x * w2;
            s3 += x * w3;
            t0 += y * w0;
            t1 += y * w1;
            t2 += y * w2;
            t3 += y * w3;
          }
          const d = cAt + n;
          if (first) {
            c[cAt + j] = s0;
            c[cAt + j + 1] = s1;
            c[cAt + j + 2] = s2;
            c[cAt + j + 3] = s3;
            c[d + j] = t0;
            c[d + j + 1] = t1;
            c[d + j + 2] = t2;
            c[d + j + 3] = t3;
          } else {
            c[cAt + j] += s0;
            c[cAt + j + 1] += s1;
            c[cAt + j + 2] += s2;
            c[cAt + j + 3] += s3;
            c[d + j] += t0;
            c[d + j + 1] += t1;
            c[d + j + 2] += t2;
            c[d + j + 3] += t3;
          }
        }
        for (; j < n; j++) {
          let s = 0;
          let t = 0;
          for (let kk = k0, p = aAt, q = bBase + j * bCol + k0 * bShared; kk < k1; kk++, p += aShared, q += bShared) {
            s += a[p] * b[q];
            t += a[p + aRow] * b[q];
          }
          if (first) {
            c[cAt + j] = s;
            c[cAt + n + j] = t;
          } else {
            c[cAt + j] += s;
            c[cAt + n + j] += t;
          }
        }
      }
      for (; i < m; i++) {
        const aAt = aBase + i * aRow + k0 * aShared;
        const cAt = cBase + i * n;
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let kk = k0, p = aAt, q = bBase + j * bCol + k0 * bShared; kk < k1; kk++, p += aShared, q += bShared) s += a[p] * b[q];
          if (first) c[cAt + j] = s;
          else c[cAt + j] += s;
        }
      }
    }
  }
  return out;
}
