// Conv2DBackpropFilter on tfjs-backend-wasm's heap in wasm SIMD, for NHWC x and
// dy as they lie: dW[a, b, i, o] = Σ over (n, oh, ow) of
// x[n, oh·sh + a·dh - top, ow·sw + b·dw - left, i] · dy[n, oh, ow, o], taps
// that fall in the padding skipped. Done as a convolution of transposed x with
// dy as its filter (conv-grads' conv2dFilterGrad), XNNPACK packs dy anew on
// every call and runs a product with a tiny output and a huge shared axis,
// behind two transposes; ResNet-20's filter gradients ran at about half the
// forward convolutions' speed there.
//
// Here each tap's [Ci, Co] block is a sum of outer products, one per output
// pixel, computed tile by tile: 4 input channels by 8 output channels (two
// f32x4 vectors) held in 8 registers while the tap's pixels of a few output
// rows stream past (a chunk that stays in L1), then added to dW. Each tile's
// sum starts from zero per call, so a filter element is a float32 sum of at
// most CHUNK pixels' products added to the float32 total once per chunk: it
// differs from the cpu backend's float64 sum by at most (L + C)·2⁻²⁴·Σ|x·dy|
// over its terms (L products per chunk, C chunks; L + C ≤ terms + 1).
// With relaxed SIMD (an experimental V8 flag in Node 20) the multiply-add is
// fused: one rounding per product instead of two, within the same bound.
// CPU ms per call, batch 64, 3x3 'same' (old path: transposes and XNNPACK):
// 28x28x16 to 16: 5.3 fused, 8.0 mul + add, 17.8 old; 14x14x32 to 32: 4.9 /
// 6.8 / 12.0; 7x7x64 to 64: 4.3 / 6.7 / 11.5; stride 2, 28x28x16 to 32: 3.0 /
// 5.2 / 9.3.
import { assembleFused, heapMemory, I32, madd, op, V128, whileFits, type AsmFunction, type Code } from './wasm-asm.js';
import type { TensorInfo, WasmHeap } from './wasm-heap-kernels.js';
import type { ConvInfo } from './conv-grads.js';

/** Input channels by output-channel vectors (4 lanes each) of one register tile. */
const TILE_ROWS = 4;
const TILE_VECTORS = 2;

/** About the bytes of x and dy one chunk of output rows reads per tap (kept in L1 across the tiles). */
const CHUNK_BYTES = 16384;

/**
 * filterGradTap(x, dy, dw, rows, cols, ci, coBytes, xColStep, xRowStep, dyRowStep, pixelBytes):
 * adds to the tap's dW block at dw ([ci, co] float32, rows pixelBytes apart) the products
 * of `rows` runs of `cols` pixels: x from byte address x (channel 0; the next pixel xColStep
 * bytes on, the next run xRowStep), dy from byte address dy (pixelBytes = co·4 a pixel,
 * dyRowStep a run); coBytes = co·4, a multiple of 16.
 */
type FilterGradTap = (...args: number[]) => void;

const { get, set, tee } = op;
const [X, DY, DW, ROWS, COLS, CI, CO_BYTES, X_COL, X_ROW, DY_ROW, PIX] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const [I0, C_OFF, XR, DR, XP, DP, END, R, AT] = [11, 12, 13, 14, 15, 16, 17, 18, 19];
const D = 20; // dy vectors d0..d(TILE_VECTORS-1), then the splatted x, then the accumulators
const S = D + TILE_VECTORS;
const acc = (r: number, v: number) => S + 1 + r * TILE_VECTORS + v;

/** A tile of `rows` input channels (from I0) by `vectors` output-channel vectors (from byte C_OFF), summed over the chunk and added to dW. */
function tile(rows: number, vectors: number, fma: boolean): Code[] {
  const each = (f: (r: number, v: number) => Code[]) => Array.from({ length: rows }, (_, r) => Array.from({ length: vectors }, (_, v) => f(r, v)));
  return [
    each((r, v) => [op.f32(0), op.f32x4Splat, set(acc(r, v))]),
    [get(X), get(I0), op.i32(4), op.i32Mul, op.i32Add, set(XR), get(DY), get(C_OFF), op.i32Add, set(DR), get(ROWS), set(R)],
    op.loop, // runs
    [get(XR), set(XP), get(DR), tee(DP), get(COLS), get(PIX), op.i32Mul, op.i32Add, set(END)],
    op.loop, // pixels
    Array.from({ length: vectors }, (_, v) => [get(DP), op.load(16 * v), set(D + v)]),
    Array.from({ length: rows }, (_, r) => [get(XP), op.load32Splat(4 * r), set(S), Array.from({ length: vectors }, (_, v) => madd(fma, S, D + v, acc(r, v)))]),
    [get(XP), get(X_COL), op.i32Add, set(XP)],
    [get(DP), get(PIX), op.i32Add, tee(DP), get(END), op.i32LtU, op.brIf(0)],
    op.end,
    [get(XR), get(X_ROW), op.i32Add, set(XR), get(DR), get(DY_ROW), op.i32Add, set(DR)],
    [get(R), op.i32(1), op.i32Sub, tee(R), op.brIf(0)],
    op.end,
    [get(DW), get(I0), get(PIX), op.i32Mul, op.i32Add, get(C_OFF), op.i32Add, set(AT)],
    Array.from({ length: rows }, (_, r) => [
      Array.from({ length: vectors }, (_, v) => [get(AT), get(AT), op.load(16 * v), get(acc(r, v)), op.f32x4Add, op.store(16 * v)]),
      [get(AT), get(PIX), op.i32Add, set(AT)],
    ]),
  ];
}

/** Tiles of `rows` input channels while they fit: output channels by `vectors` vectors, then one at a time. */
function channelPass(rows: number, fma: boolean): Code[] {
  const coPass = (vectors: number) => whileFits(C_OFF, 16 * vectors, [get(CO_BYTES)], tile(rows, vectors, fma));
  return whileFits(I0, rows, [get(CI)], [[op.i32(0), set(C_OFF)], coPass(TILE_VECTORS), TILE_VECTORS > 1 ? coPass(1) : []]);
}

function filterGradTap(fma: boolean): AsmFunction {
  return {
    name: 'filterGradTap',
    params: new Array<number>(11).fill(I32),
    locals: [...new Array<number>(9).fill(I32), ...new Array<number>(TILE_VECTORS + 1 + TILE_ROWS * TILE_VECTORS).fill(V128)],
    body: [channelPass(TILE_ROWS, fma), TILE_ROWS > 1 ? channelPass(1, fma) : []],
  };
}

export interface FilterGradKernel {
  tap: FilterGradTap;
  /** Whether the multiply-add is fused (relaxed SIMD). */
  fused: boolean;
}

/** The kernels compiled on each backend's heap: fused (or mul + add where that failed), and mul + add. */
const compiled = { fused: new WeakMap<object, FilterGradKernel | null>(), plain: new WeakMap<object, FilterGradKernel | null>() };

/** The kernel on this backend's heap: fused where relaxed SIMD compiles (unless `fused` is false), else mul + add; null without wasm SIMD. */
export function filterGradKernel(backend: unknown, fused = true): FilterGradKernel | null {
  const cache = fused ? compiled.fused : compiled.plain;
  const key = backend as object;
  if (cache.has(key)) return cache.get(key)!;
  const memory = heapMemory(backend);
  const built = memory && assembleFused(memory, (fma) => [filterGradTap(fma)], fused);
  const kernel = built ? { tap: built.exports.filterGradTap, fused: built.fused } : null;
  cache.set(key, kernel);
  return kernel;
}

/** The output positions o in [0, outSize) whose input o·stride + offset lies in [0, inSize). */
function validRange(outSize: number, inSize: number, stride: number, offset: number): [number, number] {
  return [Math.max(0, Math.ceil(-offset / stride)), Math.min(outSize, Math.floor((inSize - 1 - offset) / stride) + 1)];
}

/** dW of a float32 NHWC conv2d from x and dy on the heap (any stride, dilation and padding; output channels a multiple of 4). */
export function conv2dFilterGradOnHeap(heap: WasmHeap, kernel: FilterGradKernel, xInfo: TensorInfo, dyInfo: TensorInfo, c: ConvInfo): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: ho, outWidth: wo, outChannels: co } = c;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = c;
  const { top, left } = c.padInfo;
  const out = heap.makeOutput([kh, kw, ci, co], 'float32');
  // Views after the allocation: a heap that grows detaches the views made before.
  const dW = heap.typedArrayFromHeap(out).fill(0);
  const x = heap.typedArrayFromHeap(xInfo);
  const dy = heap.typedArrayFromHeap(dyInfo);
  if (co % 4) throw new Error(`conv2dFilterGradOnHeap: ${co} output channels, not a multiple of 4`);
  const columns = Array.from({ length: kw }, (_, b) => validRange(wo, w, sw, b * dw - left));
  const chunk = Math.max(1, Math.floor(CHUNK_BYTES / (4 * (wo * co + sh * w * ci))));
  for (let img = 0; img < n; img++) {
    for (let oh0 = 0; oh0 < ho; oh0 += chunk) {
      for (let a = 0; a < kh; a++) {
        const [lo0, hi0] = validRange(ho, h, sh, a * dh - top);
        const lo = Math.max(lo0, oh0);
        const hi = Math.min(hi0, oh0 + chunk);
        if (lo >= hi) continue;
        const ih = lo * sh + a * dh - top;
        for (let b = 0; b < kw; b++) {
          const [c0, c1] = columns[b];
          if (c0 >= c1) continue;
          const xAt = ((img * h + ih) * w + c0 * sw + b * dw - left) * ci;
          const dyAt = ((img * ho + lo) * wo + c0) * co;
          const dwAt = (a * kw + b) * ci * co;
          kernel.tap(
            x.byteOffset + 4 * xAt,
            dy.byteOffset + 4 * dyAt,
            dW.byteOffset + 4 * dwAt,
            hi - lo,
            c1 - c0,
            ci,
            4 * co,
            4 * sw * ci,
            4 * sh * w * ci,
            4 * wo * co,
            4 * co,
          );
        }
      }
    }
  }
  return out;
}
