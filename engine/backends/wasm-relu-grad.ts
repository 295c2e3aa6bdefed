// Relu's gradient on the wasm heap in one pass, dy · step(x), where tfjs's is
// a Step, a Cast and a Multiply, each a full-size pass and the step a
// full-size tensor (some 0.7 ms for a ResNet's [64, 28, 28, 16] map, seven
// times a step). wasm SIMD four values at a time where it compiles. The same
// float32 product as the cpu backend's Multiply of its Step (1 for x > 0, NaN
// for NaN, else 0), so the same values, -0 and NaN included.
import type { TF } from '../blocks/contract.js';
import { I32, onWasmHeap, op, V128, type AsmFunction } from './wasm-asm.js';
import type { KernelArgs, TensorInfo, WasmHeap } from './wasm-heap-kernels.js';

/** Kernel name of Relu's gradient on wasm (inputs { dy, x }). */
export const RELU_GRAD = 'ReluGrad';

const { get, set, tee } = op;

/** Params x, dy, dx, bytes (a multiple of 16): dx = dy · step(x), step(x) as a bit mask on 1, NaN kept. */
const reluGradSimd: AsmFunction = (() => {
  const [x, dy, dx, bytes] = [0, 1, 2, 3];
  const [p, end, toDy, toDx, v, one, zero] = [4, 5, 6, 7, 8, 9, 10];
  return {
    name: 'reluGrad',
    params: [I32, I32, I32, I32],
    locals: [I32, I32, I32, I32, V128, V128, V128],
    body: [
      [get(dy), get(x), op.i32Sub, set(toDy), get(dx), get(x), op.i32Sub, set(toDx)],
      [get(x), set(p), get(x), get(bytes), op.i32Add, set(end)],
      [op.f32(1), op.f32x4Splat, set(one), op.f32(0), op.f32x4Splat, set(zero)],
      op.loop,
      [get(p), get(toDx), op.i32Add], // dx's address
      [get(p), get(toDy), op.i32Add, op.load()],
      [get(p), op.load(), tee(v)], // x itself where it is NaN,
      [get(v), get(zero), op.f32x4Gt, get(one), op.and], // else 1 or +0
      [get(v), get(v), op.f32x4Ne, op.bitselect],
      [op.f32x4Mul, op.store()],
      [get(p), op.i32(16), op.i32Add, tee(p), get(end), op.i32LtU, op.brIf(0)],
      op.end,
    ],
  };
})();

const reluGradKernels = onWasmHeap<{ reluGrad(x: number, dy: number, dx: number, bytes: number): void }>(() => [reluGradSimd]);

function reluGrad(heap: WasmHeap, dyInfo: TensorInfo, xInfo: TensorInfo): TensorInfo {
  const out = heap.makeOutput(xInfo.shape, 'float32');
  const [dx, dy, x] = [out, dyInfo, xInfo].map((t) => heap.typedArrayFromHeap(t));
  const simd = reluGradKernels(heap);
  const vectors = simd ? x.length & ~3 : 0;
  if (vectors) simd!.reluGrad(x.byteOffset, dy.byteOffset, dx.byteOffset, 4 * vectors);
  for (let i = vectors; i < x.length; i++) dx[i] = dy[i] * (x[i] > 0 ? 1 : x[i] === x[i] ? 0 : NaN);
  return out;
}

/** Registers ReluGrad on wasm (gradients.ts sends Relu's gradient to it). */
export function registerWasmReluGrad(tf: TF): void {
  if (tf.getKernel(RELU_GRAD, 'wasm')) return;
  tf.registerKernel({
    kernelName: RELU_GRAD,
    backendName: 'wasm',
    kernelFunc: (({ inputs, backend }: KernelArgs) => reluGrad(backend as WasmHeap, inputs.dy, inputs.x)) as never,
  });
}
