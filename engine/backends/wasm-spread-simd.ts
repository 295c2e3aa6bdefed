// A small operand spread over a big one, in wasm SIMD on tfjs-backend-wasm's
// heap: the big one seen as [outer, mid, inner] and the small one as
// [outer, inner], spread over mid. A row of inner values (a Squeeze-and-
// Excitation scale [N, 1, 1, C]) or a single value per row (CBAM's spatial
// map [N, H, W, 1] over C), multiplied with the big operand or only copied
// (a Tile). Each product is one float32 multiplication, as the cpu backend's.
import { I32, onWasmHeap, op, V128, type AsmFunction, type Code } from './wasm-asm.js';

const { get, set, tee } = op;

/** The exported functions, on byte addresses of the heap; a null x (0) is not read by the spread-only ones. */
export interface SpreadSimd {
  /** out[o, m, :] = x[o, m, :] · small[o, :], innerBytes a multiple of 16. */
  mulRows(x: number, small: number, out: number, outer: number, mid: number, innerBytes: number): void;
  /** out[o, :] = x[o, :] · small[o], midBytes a multiple of 16. */
  mulValues(x: number, small: number, out: number, outer: number, midBytes: number): void;
  /** out[o, :] = small[o], midBytes a multiple of 16. */
  spreadValues(x: number, small: number, out: number, outer: number, midBytes: number): void;
}

/**
 * Params x, small, out, outer, then mid and innerBytes (rows) or midBytes
 * (values); `body` gets the small operand's vector (rows: loaded per inner
 * vector, values: splat once per outer row) and pushes the value to store.
 */
function spread(name: string, rows: boolean, value: (xAt: Code[], smallVector: Code[]) => Code[]): AsmFunction {
  const [x, small, out, outer, mid] = [0, 1, 2, 3, 4];
  const bytes = rows ? 5 : 4; // innerBytes or midBytes
  const [p, rowEnd, toX, o, m, k, s] = [1, 2, 3, 4, 5, 6, 7].map((i) => bytes + i);
  const vectors = [
    // Over one row of `bytes` from p (out's address), k the offset in the small row (rows) or 0.
    [get(p), get(bytes), op.i32Add, set(rowEnd), op.i32(0), set(k)],
    op.loop,
    [get(p), ...value([get(p), get(toX), op.i32Add, op.load()], rows ? [get(small), get(k), op.i32Add, op.load()] : [get(s)]), op.store()],
    [get(k), op.i32(16), op.i32Add, set(k)],
    [get(p), op.i32(16), op.i32Add, tee(p), get(rowEnd), op.i32LtU, op.brIf(0)],
    op.end,
  ];
  return {
    name,
    params: new Array<number>(bytes + 1).fill(I32),
    locals: [I32, I32, I32, I32, I32, I32, V128],
    body: [
      [get(x), get(out), op.i32Sub, set(toX), get(out), set(p), get(outer), set(o)],
      op.loop, // outer
      rows
        ? [[get(mid), set(m)], op.loop, vectors, [get(m), op.i32(1), op.i32Sub, tee(m), op.brIf(0)], op.end, [get(small), get(bytes), op.i32Add, set(small)]]
        : [[get(small), op.f32Load(), op.f32x4Splat, set(s)], vectors, [get(small), op.i32(4), op.i32Add, set(small)]],
      [get(o), op.i32(1), op.i32Sub, tee(o), op.brIf(0)],
      op.end,
    ],
  };
}

const multiply = (xAt: Code[], smallVector: Code[]) => [...xAt, ...smallVector, op.f32x4Mul];

/** The kernels on this wasm backend's heap, or null where its memory is not reachable or wasm SIMD does not compile. */
export const spreadSimd = onWasmHeap<SpreadSimd>(() => [
  spread('mulRows', true, multiply),
  spread('mulValues', false, multiply),
  spread('spreadValues', false, (_, smallVector) => smallVector),
]);
