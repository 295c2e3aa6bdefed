// Batch norm's per-channel loops in wasm SIMD on tfjs-backend-wasm's heap
// (assembled by wasm-asm), for the first C − C mod 4 channels of x seen as
// [rows, C]: four float32 values per load, worked on as two float64 pairs with
// the same operations in the same order as wasm-batch-norm's JavaScript loops,
// so each gives exactly their values. Per-channel constants and running sums
// live in a scratch area on the heap, 128 bytes per four channels: slot t
// (0 to 3) of channels 4j..4j+3 holds two float64 pairs at byte 128j + 32t.
import { I32, onWasmHeap, op, V128, type AsmFunction, type Code } from './wasm-asm.js';

const { get, set, tee } = op;

/** The kernels' scratch, in float64 values per four channels. */
export const QUAD_SCRATCH = 16;
/** Index in the scratch (as float64) of slot t of channel k. */
export const scratchIndex = (k: number, t: number) => QUAD_SCRATCH * (k >> 2) + 4 * t + (k & 3);

/**
 * The exported functions, on byte addresses of the heap; each runs over `rows`
 * rows of rowBytes (4·C), the first widthBytes (a multiple of 16) of each.
 */
export interface BatchNormSimd {
  /** Slots 0 and 1 += x, x·x. */
  bnStats(x: number, scratch: number, rows: number, rowBytes: number, widthBytes: number): void;
  /** y = offset + (x − mean)·scale / root, with slots mean, scale, offset, root. */
  bnForward(x: number, y: number, scratch: number, rows: number, rowBytes: number, widthBytes: number): void;
  /** With slots mean and r: slots 2 and 3 += dy, dy·(x − mean)·r. */
  bnGradSums(x: number, dy: number, scratch: number, rows: number, rowBytes: number, widthBytes: number): void;
  /** dx = gain·(dy − meanDy − (x − mean)·meanDyXhat), with those slots in that order (mean first). */
  bnGradDx(x: number, dy: number, dx: number, scratch: number, rows: number, rowBytes: number, widthBytes: number): void;
}

/** What the body for one vector of four channels gets to work with. */
interface Quad {
  /** Pushes the address of pointer i (0: x) at the current four channels. */
  at(i: number): Code[];
  /** Pushes slot t's float64 pair for half h (0: channels 0 and 1 of the four, 1: channels 2 and 3). */
  slot(t: number, h: number): Code[];
  /** Adds the float64 pair that `value` pushes to slot t's half h. */
  accumulate(t: number, h: number, value: Code[]): Code[];
  /** Vector locals for the body's own use. */
  v128: number[];
}

/** Pushes half h of the float32 vector in local v, promoted to a float64 pair. */
const half = (v: number, h: number): Code[] => (h ? [get(v), get(v), op.highToLow, op.f64x2PromoteLow] : [get(v), op.f64x2PromoteLow]);

/**
 * A kernel whose params are `pointers` addresses (x first), the scratch, rows,
 * rowBytes and widthBytes, running `body` on every four channels of every row.
 */
function rowQuads(name: string, pointers: number, temps: number, body: (q: Quad) => Code[]): AsmFunction {
  const [scratch, rows, rowBytes, widthBytes] = [0, 1, 2, 3].map((i) => pointers + i);
  const delta = (i: number) => pointers + 3 + i; // pointer i − x, for i ≥ 1
  const [p, q, e, rc] = [0, 1, 2, 3].map((i) => pointers + 4 + (pointers - 1) + i);
  const first = rc + 1;
  const quad: Quad = {
    at: (i) => (i ? [get(p), get(delta(i)), op.i32Add] : [get(p)]),
    slot: (t, h) => [get(q), op.load(32 * t + 16 * h)],
    accumulate: (t, h, value) => [get(q), get(q), op.load(32 * t + 16 * h), ...value, op.f64x2Add, op.store(32 * t + 16 * h)],
    v128: Array.from({ length: temps }, (_, i) => first + i),
  };
  return {
    name,
    params: new Array<number>(pointers + 4).fill(I32),
    locals: [...new Array<number>(pointers - 1 + 4).fill(I32), ...new Array<number>(temps).fill(V128)],
    body: [
      Array.from({ length: pointers - 1 }, (_, i) => [get(i + 1), get(0), op.i32Sub, set(delta(i + 1))]),
      [get(0), set(p), get(rows), set(rc)],
      op.loop, // rows
      [get(scratch), set(q), get(p), get(widthBytes), op.i32Add, set(e)],
      op.loop, // four channels at a time
      body(quad),
      [get(q), op.i32(8 * QUAD_SCRATCH), op.i32Add, set(q)],
      [get(p), op.i32(16), op.i32Add, tee(p), get(e), op.i32LtU, op.brIf(0)],
      op.end,
      [get(p), get(rowBytes), op.i32Add, get(widthBytes), op.i32Sub, set(p)],
      [get(rc), op.i32(1), op.i32Sub, tee(rc), op.brIf(0)],
      op.end,
    ],
  };
}

const HALVES = [0, 1];

/** The running sum (slot 0) and sum of squares (slot 1), as batchStats adds them. */
const bnStats = rowQuads('bnStats', 1, 2, ({ at, accumulate, v128: [v, w] }) => [
  [...at(0), op.load(), set(v)],
  HALVES.map((h) => [...half(v, h), set(w), accumulate(0, h, [get(w)]), accumulate(1, h, [get(w), get(w), op.f64x2Mul])]),
]);

/** offset + ((x − mean)·scale) / root, as batchNorm's per-channel loop; slots mean, scale, offset, root. */
const bnForward = rowQuads('bnForward', 2, 1, ({ at, slot, v128: [v] }) => [
  [...at(0), op.load(), set(v), ...at(1)],
  HALVES.map((h) => [
    [...slot(2, h), ...half(v, h), ...slot(0, h), op.f64x2Sub, ...slot(1, h), op.f64x2Mul, ...slot(3, h), op.f64x2Div, op.f64x2Add],
    op.f32x4DemoteF64x2Zero,
  ]),
  [op.lowHalves, op.store()],
]);

/** batchNormTrainingGrad's first pass: Σ dy (slot 2) and Σ dy·(x − mean)·r (slot 3); slots 0 and 1 mean and r. */
const bnGradSums = rowQuads('bnGradSums', 2, 3, ({ at, slot, accumulate, v128: [v, gv, g] }) => [
  [...at(0), op.load(), set(v), ...at(1), op.load(), set(gv)],
  HALVES.map((h) => [
    [...half(gv, h), set(g)],
    accumulate(2, h, [get(g)]),
    accumulate(3, h, [get(g), ...half(v, h), ...slot(0, h), op.f64x2Sub, op.f64x2Mul, ...slot(1, h), op.f64x2Mul]),
  ]),
]);

/** batchNormTrainingGrad's second pass: gain·(dy − meanDy − (x − mean)·meanDyXhat); slots mean, gain, meanDy, meanDyXhat. */
const bnGradDx = rowQuads('bnGradDx', 3, 2, ({ at, slot, v128: [v, gv] }) => [
  [...at(0), op.load(), set(v), ...at(1), op.load(), set(gv), ...at(2)],
  HALVES.map((h) => [
    [...slot(1, h), ...half(gv, h), ...slot(2, h), op.f64x2Sub, ...half(v, h), ...slot(0, h), op.f64x2Sub, ...slot(3, h), op.f64x2Mul],
    [op.f64x2Sub, op.f64x2Mul, op.f32x4DemoteF64x2Zero],
  ]),
  [op.lowHalves, op.store()],
]);

/** The kernels on this wasm backend's heap, or null where its memory is not reachable or wasm SIMD does not compile. */
export const batchNormSimd = onWasmHeap<BatchNormSimd>(() => [bnStats, bnForward, bnGradSums, bnGradDx]);
