// Every small template trained through the real trainer on the backend in use,
// against the same graph exported to PyTorch and trained by the export's own
// train() on batches of the same size, in the same run (Debian's torch, default
// threads and one thread), runs interleaved (ours, torch, ours, torch) so both
// see the same machine load; and where a training step's time goes: kernels by
// name, framework overhead, data, probes.
//   npm run bench -- zoo [--templates a,b] [--limit N] [--backend wasm|cpu|...] [--cpu-workers N]
// Ours runs twice per pass: on one thread (cpuWorkers 1) and data-parallel over N
// threads (default: the cores, at most 2; engine/train/data-parallel.ts); the
// auto figures are those of the setting `attn train` takes by default
// (cpuWorkers 'auto').
// One template's step profile alone (no PyTorch): node dist/bench/zoo-profile.js TEMPLATE [steps]
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { selectBackend, type BackendOption } from '../engine/backends/select.js';
import type { TF } from '../engine/blocks/contract.js';
import { prepareData, type PreparedData } from '../engine/data/index.js';
import { exportPytorch } from '../engine/export/pytorch.js';
import { graphTrainingConfig } from '../engine/graph/training-section.js';
import { parseGraphText } from '../engine/graph/schema.js';
import type { GraphFile } from '../engine/graph/types.js';
import type { TrainConfigInput } from '../engine/schemas/train-config.js';
import { chooseWorkers, macsPerSample } from '../engine/train/data-parallel.js';
import { inputHint } from '../engine/train/setup.js';
import { Trainer } from '../engine/train/trainer.js';
import { timeKernels } from './kernel-timer.js';

/** The templates of issue #19's table: those that train on this machine in seconds. */
export const ZOO = [
  'bench-se-cnn',
  'cbam-mnist-small',
  'mnist-cnn',
  'se-resnet20-mnist',
  'cbam-resnet20-mnist',
  'sasa-resnet-mnist',
  'vit-tiny-mnist',
  'transformer-encoder-seq',
  'transformer-seq2seq',
  'gru-seq2seq-bahdanau',
  'memory-network-recall',
];

const PYTHON = '/usr/bin/python3';

/**
 * Why tfjs on wasm uses one core in Node (checked with tfjs-backend-wasm 4.22,
 * Node 20): its WASM_HAS_MULTITHREAD_SUPPORT flag answers false whenever
 * IS_NODE (tensorflow/tfjs#3830), so the single-threaded SIMD binary loads;
 * forcing the flag true loads the threaded binary, whose Emscripten glue hands
 * worker_threads a blob: URL for each pthread, which Node refuses.
 */
const WASM_THREADS =
  "wasm threads unavailable in Node: tfjs-backend-wasm 4.22's WASM_HAS_MULTITHREAD_SUPPORT is false under IS_NODE (tfjs#3830); " +
  "forced true, setBackend('wasm') fails with TypeError [ERR_WORKER_PATH]: The worker script or module filename must be an absolute path " +
  "or a relative path starting with './' or '../'. Received \"blob:nodedata:...\" (new Worker in the pthread pool)";
const templateFile = (name: string) => fileURLToPath(new URL(`../../templates/${name}.attn.json`, import.meta.url));
const torchScript = fileURLToPath(new URL('../../bench/zoo_torch.py', import.meta.url));
const round = (x: number, digits = 0) => +x.toFixed(digits);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const load1 = () => round(loadavg()[0], 2);

export interface ZooOptions {
  templates?: string[];
  /** Samples per template (training and validation together). */
  limit?: number;
  backend?: BackendOption;
  /** Steps the profile times (after one untimed step). */
  profileSteps?: number;
  /** Data-parallel shards measured beside one thread (default: the cores, at most 2); 1: one thread only. */
  cpuWorkers?: number;
}

/** One PyTorch process answering training requests line by line (importing torch takes seconds). */
class TorchRunner {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;

  constructor() {
    this.proc = spawn(PYTHON, [torchScript], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.resume();
    this.lines = createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }

  async train(request: object): Promise<{ samplesPerSec?: number; threads?: number; error?: string }> {
    this.proc.stdin.write(`${JSON.stringify(request)}\n`);
    const { value, done } = await this.lines.next();
    return done ? { error: 'the PyTorch process ended' } : JSON.parse(value);
  }

  close(): void {
    this.proc.stdin.end();
  }
}

function torchAvailable(): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
    p.on('error', () => resolve(false));
    p.on('exit', (code) => resolve(code === 0));
  });
}

/**
 * One epoch through the real trainer (probes at their default rate). The
 * steady rate leaves out the first step, which builds the model's kernels.
 */
export async function measureOurs(tf: TF, graph: GraphFile, data: PreparedData, config: TrainConfigInput) {
  const ends: number[] = [];
  /** Process CPU ms (every thread, replicas included) at each step's end. */
  const cpuEnds: number[] = [];
  let batch = 0;
  const trainer = new Trainer({
    tf,
    graph,
    data: { ...data, validation: data.validation.subset([]) },
    config,
    onEvent: (e) => {
      if (e.type === 'progress') {
        ends.push(performance.now());
        const c = process.cpuUsage();
        cpuEnds.push((c.user + c.system) / 1000);
        batch = e.batch;
      }
    },
  });
  const done = await trainer.run();
  const macs = macsPerSample(trainer.model);
  const probe = trainer.probeStats;
  const parallel = trainer.parallelStats;
  const losses = trainer.compiled.outputs.map((o) => o.loss);
  trainer.dispose();
  const batchSize = config.batchSize!;
  // Every batch after the first is full but maybe the last; count the samples those steps trained.
  const trainSize = data.train.size;
  const steadySamples = Math.min(trainSize, batch * batchSize) - batchSize;
  return {
    samplesPerSec: (steadySamples / (ends[ends.length - 1] - ends[0])) * 1000,
    trainerSamplesPerSec: done.samplesPerSec,
    steps: batch,
    probeRuns: probe.runs,
    probeMs: probe.ms,
    losses,
    /** Process CPU ms per step after the first (every thread, replicas included; the last step may be short). */
    cpuMsPerStep: (cpuEnds[cpuEnds.length - 1] - cpuEnds[0]) / (cpuEnds.length - 1),
    workers: trainer.workers.workers,
    macsPerSample: macs,
    copyMsPerStep: parallel.steps ? parallel.copyMs / parallel.steps : 0,
    copyCpuMsPerStep: parallel.steps ? parallel.copyCpuMs / parallel.steps : 0,
    /** After each replica's first step (a fresh thread's warm-up): the wait for replicas, and the trainer's own shard and the slowest replica's, wall ms per step. */
    waitMsPerStep: parallel.timedSteps ? parallel.waitMs / parallel.timedSteps : 0,
    shardMs: parallel.timedSteps ? [parallel.localMs / parallel.timedSteps, parallel.replicaMs / parallel.timedSteps] : null,
  };
}

/**
 * Where one training step's time goes, from the real trainer with probes off,
 * over `steps` steps after an untimed first: kernels by name (self time), the
 * batch's making (data), and the rest (framework: tape, gradients' bookkeeping,
 * allocation, the trainer's own work between kernels).
 */
export async function profileOurs(tf: TF, graph: GraphFile, data: PreparedData, config: TrainConfigInput & { batchSize: number }, steps: number) {
  const b = config.batchSize;
  const indices = Array.from({ length: (steps + 1) * b }, (_, i) => i % data.train.size);
  let reset = () => {};
  let start = 0;
  let end = 0;
  // Process CPU time too: on a loaded machine wall time mostly measures the wait for a core.
  let cpuStart = process.cpuUsage();
  let cpu = { user: 0, system: 0 };
  const trainer = new Trainer({
    tf,
    graph,
    data: { ...data, train: data.train.subset(indices), validation: data.validation.subset([]) },
    config: { ...config, probe: { enabled: false } },
    onEvent: (e) => {
      if (e.type !== 'progress') return;
      end = performance.now();
      cpu = process.cpuUsage(cpuStart);
      if (e.batch === 1) {
        reset();
        start = end;
        cpuStart = process.cpuUsage();
      }
    },
  });
  const kernels = await timeKernels(tf, async (r) => {
    reset = r;
    await trainer.run();
  });
  trainer.dispose();
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) data.train.batch(tf, indices.slice(s * b, (s + 1) * b)).x.dispose();
  const dataMs = (performance.now() - t0) / steps;
  const stepMs = (end - start) / steps;
  const kernelMs = kernels.kernelMs / steps;
  return {
    stepMs: round(stepMs, 2),
    cpuMsPerStep: round((cpu.user + cpu.system) / 1000 / steps, 2),
    kernelMs: round(kernelMs, 2),
    dataMs: round(dataMs, 2),
    frameworkMs: round(stepMs - kernelMs - dataMs, 2),
    kernelCallsPerStep: Math.round(kernels.calls / steps),
    kernels: kernels.byKernel.slice(0, 25).map((k) => ({ kernel: k.kernel, msPerStep: round(k.ms / steps, 2), callsPerStep: round(k.calls / steps, 1) })),
  };
}

export async function benchZoo(opts: ZooOptions = {}) {
  const names = opts.templates ?? ZOO;
  for (const n of names) if (!ZOO.includes(n)) throw new Error(`unknown zoo template "${n}" (expected some of ${ZOO.join(', ')})`);
  const { tf, backend } = await selectBackend({ backend: opts.backend ?? 'auto' });
  const torch = (await torchAvailable()) ? new TorchRunner() : null;
  const dir = mkdtempSync(join(tmpdir(), 'attn-zoo-'));
  const rows: Record<string, unknown>[] = [];
  try {
    for (const name of names) rows.push(await benchTemplate(tf, name, torch, dir, opts));
  } finally {
    torch?.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const ratios = rows.map((r) => r.ratio as number).filter((r) => r > 0);
  const parallelRatios = rows.map((r) => (r.dataParallel as { ratio: number | null } | null)?.ratio ?? 0).filter((r) => r > 0);
  const autoRatios = rows.map((r) => (r.auto as { ratio: number | null }).ratio ?? 0).filter((r) => r > 0);
  const geometricMean = (xs: number[]) => (xs.length ? round(Math.exp(mean(xs.map(Math.log))), 3) : null);
  return {
    backend,
    torch: torch ? PYTHON : 'not available (apt-get install python3-torch): no PyTorch figures',
    table: rows.map((r) => ({
      template: r.template,
      ours: r.samplesPerSec,
      torch: r.torchSamplesPerSec,
      torch1Thread: r.torch1ThreadSamplesPerSec,
      ratio: r.ratio,
      dataParallel: (r.dataParallel as { samplesPerSec: number } | null)?.samplesPerSec ?? null,
      dataParallelRatio: (r.dataParallel as { ratio: number | null } | null)?.ratio ?? null,
      autoWorkers: (r.auto as { workers: number }).workers,
      autoRatio: (r.auto as { ratio: number | null }).ratio,
      autoPickedFaster: (r.auto as { faster: boolean | null }).faster,
      load: r.load,
    })),
    threads: backend === 'wasm' ? WASM_THREADS : undefined,
    geometricMeanRatio: geometricMean(ratios),
    geometricMeanDataParallelRatio: geometricMean(parallelRatios),
    geometricMeanAutoRatio: geometricMean(autoRatios),
    templates: rows,
    note: 'samples/s over the steps after the first, both sides; ours: one thread (cpuWorkers 1); dataParallel: cpuWorkers N; auto: what attn train runs (cpuWorkers auto), its ratio that of the setting it picks (null where that setting was not measured), faster: whether it picked the faster of the two measured; ratio = ours / PyTorch default threads; load = 1-minute load average around the runs',
  };
}

/** A zoo template's graph, `limit` samples of its dataset (seed 1) and its training settings for one epoch. */
export async function loadZooCase(name: string, limit: number) {
  const graph = parseGraphText(readFileSync(templateFile(name), 'utf8')).graph!;
  const spec = (graph as { dataset?: Record<string, unknown> }).dataset ?? {};
  const data = await prepareData({ ...spec, name: String(spec.name), limit, size: spec.size ? limit : undefined, seed: 1 } as never, inputHint(graph));
  const config = { ...graphTrainingConfig(graph.training), epochs: 1 } as TrainConfigInput & { batchSize: number };
  config.batchSize ??= 32;
  return { graph, data, config };
}

async function benchTemplate(tf: TF, name: string, torch: TorchRunner | null, dir: string, opts: ZooOptions) {
  const { graph, data, config } = await loadZooCase(name, opts.limit ?? 640);
  const loads = [load1()];

  // PyTorch: the export in its own folder, trained on as many steps as ours times.
  const single = { ...config, cpuWorkers: 1 };
  const workers = opts.cpuWorkers ?? Math.min(2, availableParallelism());
  const split = workers > 1 ? { ...config, cpuWorkers: workers } : null;
  const ours = [await measureOurs(tf, graph, data, single)];
  const parallel = split ? [await measureOurs(tf, graph, data, split)] : [];
  loads.push(load1());
  let request: Record<string, unknown> | null = null;
  if (torch) {
    const caseDir = join(dir, name);
    mkdirSync(caseDir, { recursive: true });
    writeFileSync(join(caseDir, 'model.py'), exportPytorch(graph).code);
    request = {
      dir: caseDir,
      batch: config.batchSize,
      steps: Math.max(2, ours[0].steps - 1),
      warmup: 2,
      inputs: [{ int: data.train.inputDtype === 'int32', vocab: inputHint(graph)?.vocab ?? 2 }],
      losses: ours[0].losses,
    };
  }
  const theirs: number[] = [];
  let torchError: string | undefined;
  // ours, torch, ours, torch
  for (let pass = 0; pass < 2; pass++) {
    if (pass > 0) {
      ours.push(await measureOurs(tf, graph, data, single));
      if (split) parallel.push(await measureOurs(tf, graph, data, split));
    }
    if (request) {
      const r = await torch!.train({ ...request, threads: null });
      if (r.error) torchError = r.error;
      else theirs.push(r.samplesPerSec!);
    }
    loads.push(load1());
  }
  const oneThread = request && !torchError ? await torch!.train({ ...request, threads: 1 }) : null;
  const profile = await profileOurs(tf, graph, data, single, opts.profileSteps ?? 3);
  const samplesPerSec = round(mean(ours.map((o) => o.samplesPerSec)));
  const torchSps = theirs.length ? round(mean(theirs)) : null;
  const parallelSps = parallel.length ? round(mean(parallel.map((o) => o.samplesPerSec))) : null;
  const auto = chooseWorkers('auto', { backend: tf.getBackend(), batchSize: config.batchSize, macsPerSample: ours[0].macsPerSample, customBlocks: false });
  const autoSps = auto.workers === 1 ? samplesPerSec : auto.workers === workers ? parallelSps : null;
  return {
    template: name,
    batchSize: config.batchSize,
    trainSamples: data.train.size,
    samplesPerSec,
    runs: ours.map((o) => round(o.samplesPerSec)),
    trainerSamplesPerSec: ours.map((o) => round(o.trainerSamplesPerSec)),
    torchSamplesPerSec: torchSps,
    torchRuns: theirs.map((t) => round(t)),
    torch1ThreadSamplesPerSec: oneThread?.samplesPerSec ? round(oneThread.samplesPerSec) : null,
    torchError,
    ratio: torchSps ? round(samplesPerSec / torchSps, 3) : null,
    dataParallel: parallelSps
      ? {
          workers,
          samplesPerSec: parallelSps,
          runs: parallel.map((o) => round(o.samplesPerSec)),
          ratio: torchSps ? round(parallelSps / torchSps, 3) : null,
          speedup: round(parallelSps / samplesPerSec, 3),
          cpuMsPerStep: round(mean(parallel.map((o) => o.cpuMsPerStep)), 1),
          oneThreadCpuMsPerStep: round(mean(ours.map((o) => o.cpuMsPerStep)), 1),
          copyMsPerStep: round(mean(parallel.map((o) => o.copyMsPerStep)), 2),
          copyCpuMsPerStep: round(mean(parallel.map((o) => o.copyCpuMsPerStep)), 2),
          shardMs: parallel[0].shardMs?.map((x) => round(x, 1)),
          waitMsPerStep: round(mean(parallel.map((o) => o.waitMsPerStep)), 2),
        }
      : null,
    auto: {
      ...auto,
      samplesPerSec: autoSps,
      ratio: autoSps && torchSps ? round(autoSps / torchSps, 3) : null,
      faster: autoSps && parallelSps ? autoSps === Math.max(samplesPerSec, parallelSps) : null,
    },
    load: Math.max(...loads),
    profile: {
      ...profile,
      probeMsPerStep: round(mean(ours.map((o) => o.probeMs / o.steps)), 2),
    },
  };
}
