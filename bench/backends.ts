// Training throughput of the benchmark net (issue 4) on every backend this machine
// runs, written by hand in plain tfjs layers. `node dist/bench/backends.js` prints JSON.
import { pathToFileURL } from 'node:url';
import type { TF, Tensor } from '../engine/blocks/contract.js';
import { createRequire } from 'node:module';
import { selectBackend, BACKEND_ORDER, type BackendChoice } from '../engine/backends/select.js';
import { importTf } from '../engine/backends/load-tf.js';

const require = createRequire(import.meta.url);

export const BENCH_BATCH = 64;

/** conv3x3x16 → pool → conv3x3x32 → Squeeze-and-Excitation (r=4) → pool → dense 10: 21,042 parameters. */
export function benchSeCnn(tf: TF) {
  const seed = (s: number) => tf.initializers.glorotUniform({ seed: s });
  const input = tf.input({ shape: [28, 28, 1] });
  let x = tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: seed(1) }).apply(input);
  x = tf.layers.maxPooling2d({ poolSize: 2 }).apply(x);
  const feat = tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: seed(2) }).apply(x);
  let se = tf.layers.globalAveragePooling2d({}).apply(feat);
  se = tf.layers.dense({ units: 8, activation: 'relu', kernelInitializer: seed(3) }).apply(se);
  se = tf.layers.dense({ units: 32, activation: 'sigmoid', kernelInitializer: seed(4) }).apply(se);
  se = tf.layers.reshape({ targetShape: [1, 1, 32] }).apply(se);
  x = tf.layers.multiply().apply([feat, se] as never);
  x = tf.layers.maxPooling2d({ poolSize: 2 }).apply(x);
  x = tf.layers.flatten().apply(x);
  const out = tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: seed(5) }).apply(x);
  return tf.model({ inputs: input, outputs: out as ReturnType<TF['input']> });
}

/** A fixed batch of MNIST-shaped data: smooth random blobs in [0, 1] and one-hot labels. */
function benchBatch(tf: TF): { x: Tensor; y: Tensor } {
  return tf.tidy(() => {
    const x = tf.randomUniform([BENCH_BATCH, 7, 7, 1], 0, 1, 'float32', 7);
    const labels = tf.randomUniform([BENCH_BATCH], 0, 10, 'int32', 8);
    return { x: tf.image.resizeBilinear(x as ReturnType<TF['tensor4d']>, [28, 28]), y: tf.oneHot(labels as ReturnType<TF['tensor1d']>, 10).toFloat() };
  });
}

export interface BackendFigure {
  backend: string;
  samplesPerSec: number;
  msPerBatch: number;
  /** Process CPU time per batch: on a loaded machine, (batch * 1000 / cpuMsPerBatch) is what an idle core would do. */
  cpuMsPerBatch: number;
  batches: number;
  params: number;
  /** The slowest kernels of one training step, in ms. */
  topKernels?: { kernel: string; ms: number }[];
}

/** Trains `seconds` worth of batches after a warm-up and reports samples/s. */
export async function benchTraining(tf: TF, backend: string, seconds = 4): Promise<BackendFigure> {
  const model = benchSeCnn(tf);
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const { x, y } = benchBatch(tf);
  const slow = seconds === 0;
  for (let i = 0; i < (slow ? 1 : 3); i++) await model.trainOnBatch(x, y);
  let batches = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  while (performance.now() - t0 < seconds * 1000 || batches < (slow ? 1 : 3)) {
    await model.trainOnBatch(x, y);
    batches++;
  }
  const ms = (performance.now() - t0) / batches;
  const cpu = process.cpuUsage(c0);
  const cpuMs = (cpu.user + cpu.system) / 1000 / batches;
  let topKernels;
  if (!slow) {
    // Nested kernels (ours are made of wasm ops) count in their own line and in their caller's.
    const prof = await tf.profile(() => model.trainOnBatch(x, y) as unknown as Tensor);
    const byKernel = new Map<string, number>();
    for (const k of prof.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + (k.kernelTimeMs as number));
    topKernels = [...byKernel]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([kernel, ms]) => ({ kernel, ms: +ms.toFixed(2) }));
  }
  const params = model.countParams();
  tf.dispose([x, y]);
  model.dispose();
  return {
    backend,
    samplesPerSec: Math.round((BENCH_BATCH * 1000) / ms),
    msPerBatch: +ms.toFixed(1),
    cpuMsPerBatch: +cpuMs.toFixed(1),
    batches,
    params,
    topKernels,
  };
}

type Kernel = { kernelFunc: (a: { inputs: object; attrs: object; backend: unknown }) => unknown };
interface KernelCase {
  kernel: string;
  inputs: Record<string, number[]>;
  attrs: Record<string, unknown>;
}
const KERNEL_CASES: KernelCase[] = [
  // The bench net's convolutions, then a strided and a depthwise one.
  {
    kernel: 'Conv2DBackpropFilter',
    inputs: { x: [64, 28, 28, 1], dy: [64, 28, 28, 16] },
    attrs: { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 1, 16] },
  },
  {
    kernel: 'Conv2DBackpropFilter',
    inputs: { x: [64, 14, 14, 16], dy: [64, 14, 14, 32] },
    attrs: { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 16, 32] },
  },
  {
    kernel: 'Conv2DBackpropFilter',
    inputs: { x: [64, 14, 14, 16], dy: [64, 7, 7, 32] },
    attrs: { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 16, 32] },
  },
  {
    kernel: 'Conv2DBackpropInput',
    inputs: { dy: [64, 14, 14, 32], filter: [3, 3, 16, 32] },
    attrs: { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [64, 14, 14, 16] },
  },
  {
    kernel: 'Conv2DBackpropInput',
    inputs: { dy: [64, 7, 7, 32], filter: [3, 3, 16, 32] },
    attrs: { strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: [64, 14, 14, 16] },
  },
  { kernel: 'Conv2D', inputs: { x: [64, 14, 14, 16], filter: [3, 3, 16, 32] }, attrs: { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1 } },
  {
    kernel: 'DepthwiseConv2dNativeBackpropFilter',
    inputs: { x: [64, 14, 14, 32], dy: [64, 14, 14, 32] },
    attrs: { strides: 1, pad: 'same', dilations: 1, filterShape: [3, 3, 32, 1] },
  },
  {
    kernel: 'DepthwiseConv2dNativeBackpropInput',
    inputs: { dy: [64, 14, 14, 32], filter: [3, 3, 32, 1] },
    attrs: { strides: 1, pad: 'same', dilations: 1, inputShape: [64, 14, 14, 32] },
  },
  {
    kernel: 'MaxPoolGrad',
    inputs: { dy: [64, 14, 14, 16], input: [64, 28, 28, 16], output: [64, 14, 14, 16] },
    attrs: { filterSize: 2, strides: 2, pad: 'valid' },
  },
  {
    kernel: 'MaxPoolGrad',
    inputs: { dy: [64, 7, 7, 32], input: [64, 14, 14, 32], output: [64, 7, 7, 32] },
    attrs: { filterSize: 2, strides: 2, pad: 'valid' },
  },
  // A bias gradient, the Squeeze-and-Excitation pooling, the dense layer's input gradient.
  { kernel: 'Sum', inputs: { x: [64, 28, 28, 16] }, attrs: { axis: [0, 1, 2], keepDims: false } },
  { kernel: 'Mean', inputs: { x: [64, 14, 14, 32] }, attrs: { axis: [1, 2], keepDims: false } },
  { kernel: 'BatchMatMul', inputs: { a: [1, 64, 10], b: [1, 1568, 10] }, attrs: { transposeA: false, transposeB: true } },
  { kernel: 'Slice', inputs: { x: [1, 64, 30, 30] }, attrs: { begin: [0, 0, 1, 2], size: [1, 64, 28, 28] } },
  { kernel: 'Identity', inputs: { x: [64, 28, 28, 16] }, attrs: {} },
  // The first conv's bias add, the padding of its filter gradient's input, the ReLU gradient's cast.
  { kernel: 'Add', inputs: { a: [64, 28, 28, 16], b: [16] }, attrs: {} },
  {
    kernel: 'PadV2',
    inputs: { x: [64, 28, 28, 1] },
    attrs: {
      paddings: [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ],
      constantValue: 0,
    },
  },
  { kernel: 'Cast', inputs: { x: [64, 28, 28, 16] }, attrs: { dtype: 'float32' } },
];

/** Best-of-n milliseconds of one kernel call on the current backend. */
function timeKernel(tf: TF, k: Kernel, c: KernelCase, reps = 8): number {
  const inputs = Object.fromEntries(Object.entries(c.inputs).map(([name, shape], i) => [name, tf.randomNormal(shape, 0, 1, 'float32', i + 1)]));
  let best = Infinity;
  const warmUp = reps > 1 ? 1 : 0;
  for (let r = 0; r < reps + warmUp; r++) {
    const t0 = performance.now();
    const out = tf.tidy(() => k.kernelFunc({ inputs, attrs: c.attrs, backend: tf.backend() }) as Tensor);
    const info = out as { dataId: object; shape: number[] };
    if (info instanceof tf.Tensor) {
      info.dataSync();
      info.dispose();
    } else {
      tf.backend().readSync(info.dataId);
      tf.backend().disposeData(info.dataId);
    }
    if (r >= warmUp) best = Math.min(best, performance.now() - t0);
  }
  tf.dispose(Object.values(inputs));
  return +best.toFixed(2);
}

/**
 * Per-kernel times: ours on wasm, wasm's own where it has one (all but the
 * backprop-filter kernels, which wasm lacks), and the cpu backend's.
 */
export async function benchKernels(): Promise<{ kernel: string; shapes: string; oursWasmMs?: number; stockWasmMs?: number; cpuMs: number }[]> {
  const tf = await importTf();
  require('@tensorflow/tfjs-backend-wasm');
  const stock = new Map(KERNEL_CASES.map((c) => [c.kernel, tf.getKernel(c.kernel, 'wasm') as Kernel | undefined]));
  await selectBackend({ backend: 'wasm' });
  const rows = [];
  for (const c of KERNEL_CASES) {
    await tf.setBackend('wasm');
    const ours = tf.getKernel(c.kernel, 'wasm') as Kernel;
    const before = stock.get(c.kernel);
    const row = {
      kernel: c.kernel,
      shapes:
        Object.entries(c.inputs)
          .map(([n, s]) => `${n} ${s.join('x')}`)
          .join(', ') + (typeof c.attrs.strides === 'number' && c.attrs.strides > 1 ? `, stride ${c.attrs.strides}` : ''),
      oursWasmMs: ours !== before ? timeKernel(tf, ours, c) : undefined,
      stockWasmMs: before ? timeKernel(tf, before, c) : undefined,
      cpuMs: 0,
    };
    await tf.setBackend('cpu');
    row.cpuMs = timeKernel(tf, tf.getKernel(c.kernel, 'cpu') as Kernel, c, 1);
    rows.push(row);
  }
  return rows;
}

export type Skipped = { backend: string; reason: string }[];

/** The backend, or undefined with the reason it cannot load added to `skipped`. */
export async function selectOrSkip(want: BackendChoice, skipped: Skipped) {
  try {
    return await selectBackend({ backend: want });
  } catch (e) {
    skipped.push({ backend: want, reason: (e as Error).message });
    return undefined;
  }
}

export async function benchBackends(opts: { seconds?: number; backends?: BackendChoice[] } = {}) {
  const figures: BackendFigure[] = [];
  const skipped: Skipped = [];
  for (const want of opts.backends ?? BACKEND_ORDER) {
    const sel = await selectOrSkip(want, skipped);
    if (!sel) continue;
    // The cpu backend needs seconds per batch on this net; one timed batch is enough to show it.
    figures.push(await benchTraining(sel.tf, want, want === 'cpu' ? 0 : opts.seconds));
  }
  return { net: 'bench-se-cnn (hand-written tfjs layers)', batch: BENCH_BATCH, figures, skipped };
}

export async function benchAll(opts: { seconds?: number; backends?: BackendChoice[] } = {}) {
  const kernels = await benchKernels();
  return { ...(await benchBackends(opts)), kernels };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const only = process.argv.slice(2) as BackendChoice[];
  console.log(JSON.stringify(await benchAll({ backends: only.length ? only : undefined }), null, 2));
}
