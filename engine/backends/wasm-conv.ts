// Stride-1 undilated Conv2D on tfjs-backend-wasm's heap in wasm SIMD (NHWC,
// output channels a multiple of 4), for the forward convolutions and input
// gradients of ResNets, where XNNPACK repacks the filter on every call (the
// weights change every step) and multiplies without fused multiply-adds.
// out[n, y, x, j] = Σ over (a, b, i) of in[n, y + a - top, x + b - left, i] ·
// F[a, b, i, j]: per output row, tiles of 4 pixels by 8 output channels in
// registers over the taps (pixels where a filter column falls in the padding
// one at a time); within one filter row the taps and input channels (b, i) are
// contiguous in both the input and the filter, so the inner loop walks them as
// one axis. Fused, each output is the cpu backend's sum in the cpu backend's
// order (taps a, b, channels i), each product exact and each step rounded once
// to float32, as cpu's Float32Array += product (a double) does but for its rare
// double rounding; with multiply and add, within (K + 1)·2⁻²⁴·Σ|x·F| of it.
import { assembleFused, heapMemory, I32, madd, op, V128, whileFits, type AsmFunction, type Code } from './wasm-asm.js';
import type { TensorInfo, WasmHeap } from './wasm-heap-kernels.js';
import type { ConvInfo } from './conv-grads.js';

const PIXELS = 4;
const VECTORS = 2;

const { get, set, tee } = op;
const [IN, F, OUT, COUNT, A_COUNT, K_COUNT, CO_BYTES, IN_ROW, F_ROW] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
const [IP, OP, C_OFF, IR, FR, A, FP, XP, END, PX] = [9, 10, 11, 12, 13, 14, 15, 16, 17, 18];
const D = 19;
const S = D + VECTORS;
const acc = (p: number, v: number) => S + 1 + p * VECTORS + v;

function tile(ci: number, pixels: number, vectors: number, fma: boolean): Code[] {
  const each = (f: (p: number, v: number) => Code[]) => Array.from({ length: pixels }, (_, p) => Array.from({ length: vectors }, (_, v) => f(p, v)));
  return [
    each((p, v) => [op.f32(0), op.f32x4Splat, set(acc(p, v))]),
    [get(IP), set(IR), get(F), get(C_OFF), op.i32Add, set(FR), get(A_COUNT), set(A)],
    op.block,
    op.loop, // filter rows
    [get(A), op.i32Eqz, op.brIf(1)],
    [get(FR), set(FP), get(IR), tee(XP), get(K_COUNT), op.i32(4), op.i32Mul, op.i32Add, set(END)],
    op.loop, // (b, i)
    Array.from({ length: vectors }, (_, v) => [get(FP), op.load(16 * v), set(D + v)]),
    Array.from({ length: pixels }, (_, p) => [
      get(XP),
      op.load32Splat(4 * ci * p),
      set(S),
      Array.from({ length: vectors }, (_, v) => madd(fma, S, D + v, acc(p, v))),
    ]),
    [get(FP), get(CO_BYTES), op.i32Add, set(FP)],
    [get(XP), op.i32(4), op.i32Add, tee(XP), get(END), op.i32LtU, op.brIf(0)],
    op.end,
    [get(IR), get(IN_ROW), op.i32Add, set(IR), get(FR), get(F_ROW), op.i32Add, set(FR)],
    [get(A), op.i32(1), op.i32Sub, set(A), op.br(0)],
    op.end,
    op.end,
    each((p, v) => [get(OP), get(CO_BYTES), op.i32(p), op.i32Mul, op.i32Add, get(acc(p, v)), op.store(16 * v)]),
  ];
}

/** Groups of `pixels` output pixels while they fit (from PX), each a tile of `vectors` vectors at C_OFF. */
function pixelPass(ci: number, pixels: number, vectors: number, fma: boolean): Code[] {
  return whileFits(
    PX,
    pixels,
    [get(COUNT)],
    [
      tile(ci, pixels, vectors, fma),
      [get(IP), op.i32(4 * ci * pixels), op.i32Add, set(IP), get(OP), get(CO_BYTES), op.i32(pixels), op.i32Mul, op.i32Add, set(OP)],
    ],
  );
}

/** Output channels by `vectors` vectors while they fit (from C_OFF): the row's pixels, 4 at a time and then one by one, with the filter's columns for them staying in L1. */
function channelPass(ci: number, vectors: number, fma: boolean): Code[] {
  return whileFits(
    C_OFF,
    16 * vectors,
    [get(CO_BYTES)],
    [[get(IN), set(IP), get(OUT), get(C_OFF), op.i32Add, set(OP), op.i32(0), set(PX)], pixelPass(ci, PIXELS, vectors, fma), pixelPass(ci, 1, vectors, fma)],
  );
}

function convRow(ci: number, fma: boolean): AsmFunction {
  return {
    name: 'convRow',
    params: new Array<number>(9).fill(I32),
    locals: [...new Array<number>(10).fill(I32), ...new Array<number>(VECTORS + 1 + PIXELS * VECTORS).fill(V128)],
    body: [channelPass(ci, VECTORS, fma), channelPass(ci, 1, fma)],
  };
}

type ConvRow = (...args: number[]) => void;
const compiled = new WeakMap<object, Map<string, ConvRow | null>>();

/** The row kernel for `ci` input channels on this backend's heap (fused multiply-add where relaxed SIMD compiles, unless `fused` is false), or null. */
export function convKernel(backend: unknown, ci: number, fused = true): ConvRow | null {
  const key = backend as object;
  let byCi = compiled.get(key);
  if (!byCi) compiled.set(key, (byCi = new Map()));
  const which = `${ci} ${fused}`;
  if (byCi.has(which)) return byCi.get(which)!;
  const memory = heapMemory(backend);
  const fn = (memory && assembleFused(memory, (fma) => [convRow(ci, fma)], fused)?.exports.convRow) || null;
  byCi.set(which, fn);
  return fn;
}

/** Output columns [x0, x1) see every filter column; those outside see some (one pixel at a time). */
function interior(c: ConvInfo): [number, number] {
  const x0 = Math.min(c.outWidth, c.padInfo.left);
  return [x0, Math.max(x0, Math.min(c.outWidth, c.inWidth + c.padInfo.left - c.filterWidth + 1))];
}

/**
 * Whether conv2dOnHeap beats XNNPACK on this convolution: while at least 3/4 of
 * each row goes in tiles of 4 pixels (CPU ms, batch 64, 3x3 same, a new filter
 * each call as in training: 28x28x16 to 16: 5.6 against 6.7; 14x14x32 to 32:
 * 5.2 / 6.7; 7x7x64 to 64, 4 of 7 pixels in tiles: 7.6 / 6.8).
 */
export function convOnHeapPays(c: ConvInfo): boolean {
  const [x0, x1] = interior(c);
  return 4 * PIXELS * Math.floor((x1 - x0) / PIXELS) >= 3 * c.outWidth;
}

/** A stride-1, undilated NHWC conv2d on the heap (output channels a multiple of 4). */
export function conv2dOnHeap(heap: WasmHeap, row: ConvRow, xInfo: TensorInfo, fInfo: TensorInfo, c: ConvInfo): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: ho, outWidth: wo, outChannels: co, filterHeight: kh, filterWidth: kw } = c;
  const { top, left } = c.padInfo;
  const out = heap.makeOutput([n, ho, wo, co], 'float32');
  const o = heap.typedArrayFromHeap(out);
  const x = heap.typedArrayFromHeap(xInfo);
  const f = heap.typedArrayFromHeap(fInfo);
  const [xb, fb, ob] = [x.byteOffset, f.byteOffset, o.byteOffset];
  const [x0, x1] = interior(c);
  const call = (img: number, y: number, aLo: number, aHi: number, xs: number, count: number) => {
    const bLo = Math.max(0, left - xs);
    const bHi = Math.min(kw, w + left - xs - count + 1);
    const rows = bLo < bHi ? aHi - aLo : 0;
    const inAt = ((img * h + y - top + aLo) * w + xs + bLo - left) * ci;
    row(
      xb + 4 * inAt,
      fb + 4 * (aLo * kw + bLo) * ci * co,
      ob + 4 * ((img * ho + y) * wo + xs) * co,
      count,
      Math.max(0, rows),
      Math.max(1, bHi - bLo) * ci,
      4 * co,
      4 * w * ci,
      4 * kw * ci * co,
    );
  };
  for (let img = 0; img < n; img++) {
    for (let y = 0; y < ho; y++) {
      const aLo = Math.max(0, top - y);
      const aHi = Math.min(kh, h + top - y);
      for (let xs = 0; xs < x0; xs++) call(img, y, aLo, aHi, xs, 1);
      if (x1 > x0) call(img, y, aLo, aHi, x0, x1 - x0);
      for (let xs = x1; xs < wo; xs++) call(img, y, aLo, aHi, xs, 1);
    }
  }
  return out;
}
