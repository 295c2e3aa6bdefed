// Training throughput of the compiled benchmark graph (templates/bench-se-cnn:
// conv-SE CNN, 21,042 parameters, batch 64, Adam) on MNIST through the real
// trainer, and what the attention probes cost: probes off, at the default rate,
// and after every batch; and the compiled graph against the same net written by
// hand in tfjs layers, through the same training step.
// benchBigNets: SE-ResNet-20 and ViT-tiny (templates/) on every backend.
//   node dist/bench/train.js [--backend auto|webgpu|wasm|cpu|...] [--samples N] [--big-nets]
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { adapterLabel, BACKEND_ORDER, selectBackend, type BackendChoice, type BackendOption } from '../engine/backends/select.js';
import { prepareData } from '../engine/data/index.js';
import { trainConfigSchema, type TrainConfigInput } from '../engine/schemas/train-config.js';
import { Trainer } from '../engine/train/trainer.js';
import { Optimizer } from '../engine/train/optimizers.js';
import { maskedLoss, oneHot } from '../engine/train/losses.js';
import { compileGraph } from '../engine/compile/compile.js';
import { parseGraphText } from '../engine/graph/schema.js';
import type { GraphFile } from '../engine/graph/types.js';
import type { TF, Tensor } from '../engine/blocks/contract.js';
import type { PreparedData } from '../engine/data/index.js';
import { benchSeCnn, selectOrSkip, type Skipped } from './backends.js';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { PytorchRun, type TorchOptions } from '../engine/pytorch/run.js';
import { findTorchPython } from '../engine/pytorch/python.js';

const templateFile = fileURLToPath(new URL('../../templates/bench-se-cnn.attn.json', import.meta.url));

type Model = ReturnType<typeof benchSeCnn>;

/**
 * The trainer's own training step (forward, masked cross-entropy,
 * variableGrads, our Adam) on a model, timed per step; the read of the loss
 * waits for the step to finish on any backend.
 */
function timedStep(tf: TF, model: Model, data: PreparedData) {
  const vars = model.trainableWeights.map((w) => w.read() as ReturnType<TF['variable']>);
  const optimizer = new Optimizer(tf, trainConfigSchema.parse({ lr: 1e-3 }), vars);
  const times: number[] = [];
  const step = async (indices: Int32Array) => {
    const t0 = performance.now();
    const { x, labels } = data.train.batch(tf, indices);
    const { y, mask } = oneHot(labels, 10);
    const yT = tf.tensor2d(y, [labels.length, 10]);
    const maskT = tf.tensor1d(mask);
    const { value, grads } = tf.variableGrads(
      () => maskedLoss(tf, 'categoricalCrossentropy', yT, model.apply(x, { training: true }) as Tensor, maskT) as never,
      vars,
    );
    tf.tidy(() =>
      optimizer.apply(
        vars.map((v) => grads[v.name]),
        1e-3,
      ),
    );
    await value.data();
    tf.dispose([x, yT, maskT, value, ...Object.values(grads)]);
    times.push(performance.now() - t0);
  };
  return { step, times, dispose: () => optimizer.dispose() };
}

const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];
const batchOf = (size: number, s: number, n: number) => Int32Array.from({ length: size }, (_, k) => (s * size + k) % n);

/**
 * The compiled graph against the same net written by hand in tfjs layers, each
 * trained by the trainer's own step on the same MNIST batches, steps
 * interleaved so that both see the same machine load. Medians of the per-step times.
 */
async function compiledVsHandWritten(tf: TF, graph: GraphFile, data: PreparedData, steps: number) {
  const nets: Record<string, Model> = { compiled: compileGraph(tf, graph).model, handWritten: benchSeCnn(tf) };
  const runners = Object.entries(nets).map(([name, model]) => ({ name, model, params: model.countParams(), ...timedStep(tf, model, data) }));
  const warmUp = 5;
  for (let s = 0; s < warmUp + steps; s++) for (const r of runners) await r.step(batchOf(64, s, data.train.size));
  const out: Record<string, { params: number; msPerStep: number; samplesPerSec: number }> = {};
  for (const r of runners) {
    const ms = median(r.times.slice(warmUp));
    out[r.name] = { params: r.params, msPerStep: +ms.toFixed(2), samplesPerSec: Math.round(64000 / ms) };
    r.dispose();
    r.model.dispose();
  }
  return { steps, ...out, compiledOverHandWritten: +(out.compiled.msPerStep / out.handWritten.msPerStep).toFixed(3) };
}

/** Bigger nets than the bench net, from templates/, on MNIST. */
export const BIG_NETS = ['se-resnet20-mnist', 'vit-tiny-mnist'];

/**
 * Samples/s of the bigger nets on every backend that loads (each forced, so
 * webgpu runs on a software adapter too, named as such), in one run: the
 * median of `steps` training steps of batch `batch` after one warm-up step
 * (which on a GPU compiles the shaders). The cpu backend is left out: it
 * trains the small bench net at about 6 samples/s.
 */
export async function benchBigNets(opts: { backends?: BackendChoice[]; steps?: number; batch?: number } = {}) {
  const steps = opts.steps ?? 5;
  const batch = opts.batch ?? 32;
  const data = await prepareData({ name: 'mnist', limit: batch * (steps + 1) * 2, seed: 1 });
  const graphs = BIG_NETS.map(
    (name) => parseGraphText(readFileSync(fileURLToPath(new URL(`../../templates/${name}.attn.json`, import.meta.url)), 'utf8')).graph!,
  );
  const figures = [];
  const skipped: Skipped = [{ backend: 'cpu', reason: 'left out: too slow for these nets' }];
  for (const want of opts.backends ?? BACKEND_ORDER.filter((b) => b !== 'cpu')) {
    const sel = await selectOrSkip(want, skipped);
    if (!sel) continue;
    const { tf, adapter } = sel;
    const nets = [];
    for (const graph of graphs) {
      const model = compileGraph(tf, graph).model;
      const r = timedStep(tf, model, data);
      for (let s = 0; s <= steps; s++) await r.step(batchOf(batch, s, data.train.size));
      const ms = median(r.times.slice(1));
      nets.push({
        net: graph.name,
        params: model.countParams(),
        firstStepMs: Math.round(r.times[0]),
        msPerStep: +ms.toFixed(1),
        samplesPerSec: +((batch * 1000) / ms).toFixed(1),
      });
      r.dispose();
      model.dispose();
    }
    figures.push({ backend: want, ...(adapter && { adapter: adapterLabel(adapter) }), nets });
  }
  return { batch, steps, figures, skipped };
}

export async function benchTrain(opts: { backend?: BackendOption; samples?: number; steps?: number } = {}) {
  const graph = parseGraphText(readFileSync(templateFile, 'utf8')).graph!;
  const { tf, backend, adapter, skipped } = await selectBackend({ backend: opts.backend ?? 'auto' });
  const data = await prepareData({ name: 'mnist', limit: Math.round((opts.samples ?? 2048) / 0.9), seed: 1 });

  async function measure(probe: TrainConfigInput['probe']) {
    const trainer = new Trainer({ tf, graph, data, config: trainConfigSchema.parse({ epochs: 1, batchSize: 64, lr: 1e-3, probe }) });
    const done = await trainer.run();
    const { runs, ms } = trainer.probeStats;
    trainer.dispose();
    return {
      samplesPerSec: Math.round(done.samplesPerSec),
      probeRuns: runs,
      probeMsPerRun: runs ? +(ms / runs).toFixed(2) : 0,
      valAccuracy: +done.metrics.val_accuracy.toFixed(4),
    };
  }

  await measure({ enabled: false }); // warm-up: kernels, JIT
  const off = await measure({ enabled: false });
  const defaultRate = await measure({});
  const everyBatch = await measure({ everyBatches: 1, minIntervalMs: 0 });
  const off2 = await measure({ enabled: false });
  const base = (off.samplesPerSec + off2.samplesPerSec) / 2;
  return {
    backend,
    ...(adapter && { adapter: adapterLabel(adapter) }),
    skipped,
    trainSamples: data.train.size,
    batchSize: 64,
    compiledVsHandWritten: await compiledVsHandWritten(tf, graph, data, opts.steps ?? 40),
    probesOff: { ...off, samplesPerSecRepeat: off2.samplesPerSec },
    probesDefaultRate: { ...defaultRate, slowdown: +(1 - defaultRate.samplesPerSec / base).toFixed(3) },
    probesEveryBatch: { ...everyBatch, slowdown: +(1 - everyBatch.samplesPerSec / base).toFixed(3) },
    note: 'samplesPerSec counts the batch loop (steps, probes), not validation. slowdown is relative to the mean of the two probes-off runs; compare it with their spread.',
  };
}

const plainLoop = fileURLToPath(new URL('../../bench/pytorch_plain_loop.py', import.meta.url));

/**
 * The pytorch backend on the same net and data: samples/s of our PyTorch run
 * (protocol, metrics, probes at the default rate) against a plain PyTorch loop
 * over the same exported module and the run's own prepared arrays. The two
 * alternate (plain, ours, plain, ours, …, plain) and each of our runs is set
 * against the mean of the plain loops on either side of it, since a shared
 * machine's speed drifts from minute to minute. Then the run on 2 ranks (gloo
 * on CPU, NCCL on CUDA). Skipped, with the reason, where no Python with torch
 * is found.
 */
export async function benchPytorch(opts: { samples?: number; device?: TorchOptions['device']; repeats?: number } = {}) {
  let python;
  try {
    python = await findTorchPython();
  } catch (err) {
    return { skipped: (err as Error).message };
  }
  const graph = parseGraphText(readFileSync(templateFile, 'utf8')).graph!;
  const dataset = { name: 'mnist', limit: Math.round((opts.samples ?? 2048) / 0.9), seed: 1 };
  const config = { epochs: 1, batchSize: 64, lr: 1e-3 };
  const plain = (spec: string) => {
    const out = execFileSync(python.python, [plainLoop, spec], { encoding: 'utf8' });
    return (JSON.parse(out.trim().split('\n').at(-1)!) as { samplesPerSec: number }).samplesPerSec;
  };
  const ours = async (nproc: number, plains?: number[]) => {
    const run = await PytorchRun.setup({ graph, dataset, config, out: null, pytorch: { device: opts.device ?? 'auto', nproc } });
    try {
      const spec = path.join(run.folder, 'pytorch', 'spec.json');
      // The first loop after the files are written runs cold (about 30% slower every time): a warm-up, not counted.
      if (plains?.length === 0) {
        plain(spec);
        plains.push(plain(spec));
      }
      const done = await run.run();
      plains?.push(plain(spec));
      return done;
    } finally {
      run.dispose();
    }
  };
  const plains: number[] = [];
  const runs = [];
  for (let i = 0; i < (opts.repeats ?? 2); i++) runs.push(await ours(1, plains));
  const overheads = runs.map((r, i) => 1 - r.samplesPerSec / ((plains[i] + plains[i + 1]) / 2));
  const sorted = [...overheads].sort((a, b) => a - b);
  // With an even count, the mean of the middle two (not the lower one, which would flatter us).
  const median = (sorted[Math.floor((sorted.length - 1) / 2)] + sorted[Math.ceil((sorted.length - 1) / 2)]) / 2;
  const one = runs.at(-1)!;
  const two = await ours(2);
  return {
    python: python.python,
    torch: python.torch,
    device: one.device,
    samples: one.steps * 64,
    plainLoop: { samplesPerSec: plains.map(Math.round) },
    ourRun: {
      samplesPerSec: runs.map((r) => Math.round(r.samplesPerSec)),
      valAccuracy: +one.metrics.val_accuracy.toFixed(4),
      overheads: overheads.map((o) => +o.toFixed(3)),
      overhead: +median.toFixed(3),
    },
    twoRanks: {
      samplesPerSec: Math.round(two.samplesPerSec),
      valAccuracy: +two.metrics.val_accuracy.toFixed(4),
      speedup: +(two.samplesPerSec / one.samplesPerSec).toFixed(3),
    },
    note: 'samplesPerSec counts the batch loop, not validation. One uncounted plain loop warms up first; then the plain loops and our runs alternate; overheads[i] = 1 - ourRun[i] / mean(plainLoop[i], plainLoop[i+1]), overhead is their median. Two ranks on one machine share its cores.',
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name: string, fallback: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  const result =
    arg('backend', 'auto') === 'pytorch'
      ? await benchPytorch({ samples: Number(arg('samples', '2048')), repeats: Number(arg('repeats', '2')) })
      : await benchTrain({ backend: arg('backend', 'auto') as BackendOption, samples: Number(arg('samples', '2048')) });
  const bigNets = process.argv.includes('--big-nets') ? await benchBigNets() : undefined;
  console.log(JSON.stringify({ bench: 'train', ...result, bigNets }, null, 2));
}
