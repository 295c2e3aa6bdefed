// Kernels in wasm SIMD on tfjs-backend-wasm's heap (assembled by wasm-asm):
// four float32 lanes per instruction where the heap kernels' JavaScript loops
// take one. Each gives exactly the values of the JavaScript it stands in for.
import { assemble, F32, I32, op, V128, wasmApi, type AsmFunction, type Code, type WasmMemory } from './wasm-asm.js';

/** The exported functions, on byte addresses of the heap. */
export type SimdKernels = PoolKernels & ExtremumKernels & Record<`${'sum' | 'mean'}${ColumnWidth}`, SumColumns>;

/** The gradient of a max or min, dy · (x == y), on float32 rows whose length is a multiple of 4 (see extremumGrad). */
interface ExtremumKernels {
  /** `rows` rows of x, each reduced to one y: dx = dy[r] · (x == y[r]). */
  extremumLast(x: number, dx: number, dy: number, y: number, rows: number, rowBytes: number): void;
  /** x as [outer, mid, row], reduced over mid: dx = dy[o] · (x == y[o]), row by row. */
  extremumMiddle(x: number, dx: number, dy: number, y: number, outer: number, mid: number, rowBytes: number): void;
}

/** See sumColumns. */
type SumColumns = (x: number, res: number, rows: number, rowBytes: number, divisor: number) => void;

interface PoolKernels {
  /**
   * One output row of 2x2, stride-2 max pooling's gradient (see maxPoolGrad2x2Row);
   * returns 1 where a window held a NaN (the row is then left to the general rule).
   */
  maxPoolGrad2x2Row(x: number, dx: number, dy: number, windows: number, channelBytes: number, rowBytes: number): number;
}

/** How many columns one call of a sum or mean adds up. */
export const COLUMN_WIDTHS = [16, 8, 4] as const;
export type ColumnWidth = (typeof COLUMN_WIDTHS)[number];

const { get, set, tee } = op;

/**
 * Params x, dx, dy, windows, channelBytes (C·4, a multiple of 16), rowBytes
 * (W·C·4). For each window and 4 channels: the winner of taps 0 and 1, of taps 2
 * and 3 (ties to the earlier: strict >), then of the two, as masks; each tap of
 * dx gets dy where it won and its max is above -Infinity, +0 elsewhere. That is
 * the first maximum in tap order wherever no tap is NaN (the cpu backend's rule).
 */
const maxPoolGrad2x2Row: AsmFunction = (() => {
  const [x, dx, dy, windows, c, down] = [0, 1, 2, 3, 4, 5];
  const [p, e, end, g, dd, q, downC] = [6, 7, 8, 9, 10, 11, 12];
  const [a0, a1, a2, a3, m01, m23, mb, t, bt, gv, nan, ninf] = [13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24];
  const isNan = (a: number) => [get(a), get(a), op.f32x4Ne, op.or];
  return {
    name: 'maxPoolGrad2x2Row',
    params: [I32, I32, I32, I32, I32, I32],
    results: [I32],
    locals: [I32, I32, I32, I32, I32, I32, I32, ...new Array<number>(12).fill(V128)],
    body: [
      [get(dx), get(x), op.i32Sub, set(dd)],
      [get(windows), get(c), op.i32Mul, set(end), get(x), get(end), get(end), op.i32Add, op.i32Add, set(end)],
      [get(down), get(c), op.i32Add, set(downC)],
      [get(x), set(p), get(dy), set(g)],
      [op.f32(-Infinity), op.f32x4Splat, set(ninf)],
      op.loop, // windows
      [get(p), get(c), op.i32Add, set(e)],
      op.loop, // 4 channels at a time
      [get(p), op.load(), set(a0)],
      [get(p), get(c), op.i32Add, op.load(), set(a1)],
      [get(p), get(down), op.i32Add, op.load(), set(a2)],
      [get(p), get(downC), op.i32Add, op.load(), set(a3)],
      [get(nan), ...isNan(a0), ...isNan(a1), ...isNan(a2), ...isNan(a3), set(nan)],
      [get(a1), get(a0), op.f32x4Gt, set(m01), get(a1), get(a0), get(m01), op.bitselect, set(t)],
      [get(a3), get(a2), op.f32x4Gt, set(m23), get(a3), get(a2), get(m23), op.bitselect, set(bt)],
      [get(bt), get(t), op.f32x4Gt, set(mb)],
      [get(g), op.load(), get(bt), get(t), get(mb), op.bitselect, get(ninf), op.f32x4Gt, op.and, set(gv)],
      [get(p), get(dd), op.i32Add, set(q)],
      [get(q), get(gv), get(m01), op.andNot, get(mb), op.andNot, op.store()],
      [get(q), get(c), op.i32Add, get(gv), get(m01), op.and, get(mb), op.andNot, op.store()],
      [get(q), get(down), op.i32Add, get(gv), get(m23), op.andNot, get(mb), op.and, op.store()],
      [get(q), get(downC), op.i32Add, get(gv), get(m23), op.and, get(mb), op.and, op.store()],
      [get(g), op.i32(16), op.i32Add, set(g)],
      [get(p), op.i32(16), op.i32Add, tee(p), get(e), op.i32LtU, op.brIf(0)],
      op.end,
      // past the window's second column
      [get(p), get(c), op.i32Add, tee(p), get(end), op.i32LtU, op.brIf(0)],
      op.end,
      [get(nan), op.anyTrue],
    ],
  };
})();

/**
 * Params x, res, rows, rowBytes, divisor (f32; the means only): `width`
 * neighbouring columns of a [rows, ...] float32 matrix summed down the rows
 * from x, each in a float64 sum rounded to float32 at the end, as the heap
 * kernel's sumMiddle adds them (the cpu backend's order and precision); the
 * means divide each element in float32 first. Two float64 lanes per column
 * pair, one pass over the rows for every column.
 */
function sumColumns(width: ColumnWidth, mean: boolean): AsmFunction {
  const [x, res, rows, rowBytes, divisor] = [0, 1, 2, 3, 4];
  const [p, end, v, d] = [5, 6, 7, 8];
  const acc = (k: number) => 9 + k; // float64 pairs: k = 2j for columns 4j, 4j+1 and 2j + 1 for 4j+2, 4j+3
  const quads = width / 4;
  const add = (k: number, from: Code[]) => [...from, op.f64x2PromoteLow, get(acc(k)), op.f64x2Add, set(acc(k))];
  return {
    name: `${mean ? 'mean' : 'sum'}${width}`,
    params: [I32, I32, I32, I32, F32],
    locals: [I32, I32, V128, V128, ...new Array<number>(2 * quads).fill(V128)],
    body: [
      [get(x), set(p), get(rows), get(rowBytes), op.i32Mul, get(x), op.i32Add, set(end)],
      mean ? [get(divisor), op.f32x4Splat, set(d)] : [],
      op.loop,
      Array.from({ length: quads }, (_, j) => [
        [get(p), op.load(16 * j), ...(mean ? [get(d), op.f32x4Div] : []), tee(v)],
        add(2 * j, []),
        add(2 * j + 1, [get(v), get(v), op.highToLow]),
      ]),
      [get(p), get(rowBytes), op.i32Add, tee(p), get(end), op.i32LtU, op.brIf(0)],
      op.end,
      Array.from({ length: 2 * quads }, (_, k) => [get(res), get(acc(k)), op.f32x4DemoteF64x2Zero, op.store64Low(8 * k)]),
    ],
  };
}

/**
 * extremumLast (middle false) or extremumMiddle: dx = dy · (x == y ? 1 : 0) in
 * float32, as the heap kernel's loop multiplies (dy · 0 is -0 for a negative dy,
 * NaN for an infinite one, as there).
 */
function extremumGrad(middle: boolean): AsmFunction {
  // Params x, dx, dy, y, outer (rows), [mid,] rowBytes; then the locals.
  const [x, dx, dy, y, outer, mid] = [0, 1, 2, 3, 4, 5];
  const rowBytes = middle ? 6 : 5;
  const [p, rowEnd, o, m, k, one, ys, gs] = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => rowBytes + i);
  // One vector of the row: the extremum and dy come at offset k of their rows, or splatted.
  const vector = [
    [get(p), get(dx), op.i32Add, get(x), op.i32Sub], // dx's address
    middle ? [get(dy), get(k), op.i32Add, op.load()] : get(gs),
    [get(p), op.load(), ...(middle ? [get(y), get(k), op.i32Add, op.load()] : [get(ys)]), op.f32x4Eq, get(one), op.and],
    [op.f32x4Mul, op.store()],
  ];
  const row = [
    [op.i32(0), set(k), get(p), get(rowBytes), op.i32Add, set(rowEnd)],
    op.loop,
    vector,
    [get(k), op.i32(16), op.i32Add, set(k)],
    [get(p), op.i32(16), op.i32Add, tee(p), get(rowEnd), op.i32LtU, op.brIf(0)],
    op.end,
  ];
  return {
    name: middle ? 'extremumMiddle' : 'extremumLast',
    params: new Array<number>(rowBytes + 1).fill(I32),
    locals: [I32, I32, I32, I32, I32, V128, V128, V128],
    body: middle
      ? [
          [get(x), set(p), op.f32(1), op.f32x4Splat, set(one), get(outer), set(o)],
          op.loop, // outer
          [get(mid), set(m)],
          op.loop, // mid: each row against the same extremum row
          row,
          [get(m), op.i32(1), op.i32Sub, tee(m), op.brIf(0)],
          op.end,
          [get(y), get(rowBytes), op.i32Add, set(y), get(dy), get(rowBytes), op.i32Add, set(dy)],
          [get(o), op.i32(1), op.i32Sub, tee(o), op.brIf(0)],
          op.end,
        ]
      : [
          [get(x), set(p), op.f32(1), op.f32x4Splat, set(one), get(outer), set(o)],
          op.loop, // rows, here `outer`
          [get(y), op.f32Load(), op.f32x4Splat, set(ys), get(dy), op.f32Load(), op.f32x4Splat, set(gs)],
          row,
          [get(y), op.i32(4), op.i32Add, set(y), get(dy), op.i32(4), op.i32Add, set(dy)],
          [get(o), op.i32(1), op.i32Sub, tee(o), op.brIf(0)],
          op.end,
        ],
  };
}

/** What these kernels need of tfjs-backend-wasm's backend: its Emscripten module, whose exports hold the heap's memory. */
interface WasmBackendModule {
  wasm?: { asm?: { memory?: unknown } };
}

/** This wasm backend's heap memory, or null where it is not reachable. */
export function heapMemory(backend: unknown): WasmMemory | null {
  const memory = (backend as WasmBackendModule).wasm?.asm?.memory;
  return wasmApi && memory instanceof wasmApi.Memory ? memory : null;
}

const compiled = new WeakMap<object, SimdKernels | null>();

/** The SIMD kernels on this wasm backend's heap, or null where its memory is not reachable or wasm SIMD does not compile. */
export function simdKernels(backend: unknown): SimdKernels | null {
  const b = backend as WasmBackendModule;
  if (compiled.has(b)) return compiled.get(b)!;
  let kernels: SimdKernels | null = null;
  const memory = heapMemory(b);
  if (memory) {
    try {
      kernels = assemble(memory, [
        maxPoolGrad2x2Row,
        extremumGrad(false),
        extremumGrad(true),
        ...COLUMN_WIDTHS.flatMap((w) => [sumColumns(w, false), sumColumns(w, true)]),
      ]) as unknown as SimdKernels;
    } catch {
      kernels = null;
    }
  }
  compiled.set(b, kernels);
  return kernels;
}
