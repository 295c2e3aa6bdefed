// Every small template trained through the real trainer on the backend in use,
// against the same graph exported to PyTorch and trained by the export's own
// train() on batches of the same size, in the same run (Debian's torch, default
// threads and one thread); and where a training step's time goes: kernels by
// name, framework overhead, data, probes.
//   npm run bench -- zoo [--quick] [--templates a,b] [--rounds R] [--seconds S] [--limit N] [--backend wasm|cpu|...] [--cpu-workers N]
// Per template, after a warm-up of each side (ours 2S s and 5 steps), R rounds of:
// ours (what `attn train` runs: cpuWorkers 'auto', probes at their default rate),
// PyTorch at its default threads, PyTorch on one thread (every other round in the
// reverse order); each side trains >= S seconds and >= 3 steps a round, its model
// kept warm across rounds. Interleaving puts both sides under the same machine
// load; the ratio reported is the median of the per-round ratios (ours / PyTorch
// default threads), with their min, max and IQR.
// Defaults: 6 rounds of 1.5 s (about 45 s a template, 8 min in all); --quick: 3 rounds of 1 s.
// One template's step profile alone (no PyTorch): node dist/bench/zoo-profile.js TEMPLATE [steps]
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
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
import { inputHint } from '../engine/train/setup.js';
import { Trainer } from '../engine/train/trainer.js';
import { timeKernels } from './kernel-timer.js';
import { TrainerRounds, type Round } from './zoo-rounds.js';
import { geometricMean, round, spread } from './zoo-stats.js';

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
const load1 = () => round(loadavg()[0], 2);

export interface ZooOptions {
  templates?: string[];
  /** Samples per template (training and validation together). */
  limit?: number;
  backend?: BackendOption;
  /** Steps the profile times (after one untimed step); 0: no profile. */
  profileSteps?: number;
  /** Ours' cpuWorkers (default 'auto', as `attn train`). */
  cpuWorkers?: number;
  /** Interleaved rounds per template (default 6; quick 3). */
  rounds?: number;
  /** Least seconds each side trains a round (default 1.5; quick 1), and at least `minSteps` steps (3). */
  seconds?: number;
  minSteps?: number;
  /** 3 rounds of 1 s, no profile. */
  quick?: boolean;
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

  async train(request: object): Promise<{ samplesPerSec?: number; steps?: number; threads?: number; error?: string }> {
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
 * Where one training step's time goes, from the real trainer with probes off,
 * over `steps` steps after an untimed first: kernels by name (self time), the
 * batch's making (data), and the rest (framework: tape, gradients' bookkeeping,
 * allocation, the trainer's own work between kernels).
 */
export async function profileOurs(
  tf: TF,
  graph: GraphFile,
  data: PreparedData,
  config: TrainConfigInput & { batchSize: number },
  steps: number,
  opts: { byShape?: boolean; cpuClock?: boolean; top?: number } = {},
) {
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
  const kernels = await timeKernels(
    tf,
    async (r) => {
      reset = r;
      await trainer.run();
    },
    opts,
  );
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
    kernels: kernels.byKernel
      .slice(0, opts.top ?? 25)
      .map((k) => ({ kernel: k.kernel, msPerStep: round(k.ms / steps, 2), callsPerStep: round(k.calls / steps, 1) })),
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

export async function benchZoo(opts: ZooOptions = {}) {
  const names = opts.templates ?? ZOO;
  for (const n of names) if (!ZOO.includes(n)) throw new Error(`unknown zoo template "${n}" (expected some of ${ZOO.join(', ')})`);
  const { tf, backend } = await selectBackend({ backend: opts.backend ?? 'auto' });
  const torch = (await torchAvailable()) ? new TorchRunner() : null;
  const dir = mkdtempSync(join(tmpdir(), 'attn-zoo-'));
  const rows: Awaited<ReturnType<typeof benchTemplate>>[] = [];
  const start = performance.now();
  try {
    for (const name of names) {
      const row = await benchTemplate(tf, name, torch, dir, opts);
      rows.push(row);
      // Progress on stderr: the JSON comes at the end, minutes later.
      const r = row.ratio;
      process.stderr.write(
        `zoo: ${name}: ours ${row.samplesPerSec.median}/s, torch ${row.torchSamplesPerSec?.median ?? '-'}/s, ratio ${r ? `${r.median} [${r.min}, ${r.max}]` : '-'}, ${round((performance.now() - start) / 1000)} s\n`,
      );
    }
  } finally {
    torch?.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const ratios = rows.flatMap((r) => (r.ratio ? [r.ratio.median] : []));
  return {
    backend,
    torch: torch ? PYTHON : 'not available (apt-get install python3-torch): no PyTorch figures',
    table: rows.map((r) => ({
      template: r.template,
      workers: r.workers,
      ours: r.samplesPerSec.median,
      torch: r.torchSamplesPerSec?.median ?? null,
      torch1Thread: r.torch1ThreadSamplesPerSec?.median ?? null,
      ratio: r.ratio?.median ?? null,
      ratioMin: r.ratio?.min ?? null,
      ratioMax: r.ratio?.max ?? null,
      ratioIqr: r.ratio?.iqr ?? null,
      load: r.load,
    })),
    threads: backend === 'wasm' ? WASM_THREADS : undefined,
    geometricMeanRatio: geometricMean(ratios),
    /** The widest and the median template's per-round ratio IQR over its median. */
    ratioRelativeIqr: ratios.length
      ? {
          median: spread(
            rows.flatMap((r) => (r.ratio ? [r.ratio.relativeIqr] : [])),
            3,
          ).median,
          max: Math.max(...rows.map((r) => r.ratio?.relativeIqr ?? 0)),
        }
      : null,
    seconds: round((performance.now() - start) / 1000),
    templates: rows,
    note: 'per template R interleaved rounds of ours (attn train: cpuWorkers auto, probes on), PyTorch default threads, PyTorch one thread (every other round reversed), each >= S s and >= 3 steps after a warm-up, models kept warm across rounds; samples/s and ratio (ours / PyTorch default threads, per round) as median, min, max, IQR over the rounds; load = highest 1-minute load average seen',
  };
}

async function benchTemplate(tf: TF, name: string, torch: TorchRunner | null, dir: string, opts: ZooOptions) {
  const { graph, data, config } = await loadZooCase(name, opts.limit ?? 640);
  const rounds = opts.rounds ?? (opts.quick ? 3 : 6);
  const seconds = opts.seconds ?? (opts.quick ? 1 : 1.5);
  const minSteps = opts.minSteps ?? 3;
  const loads = [load1()];
  const ours = new TrainerRounds(tf, graph, data, { ...config, cpuWorkers: opts.cpuWorkers ?? 'auto' });
  const oursRounds: Round[] = [];
  const theirs: number[] = [];
  const theirs1: number[] = [];
  let torchError: string | undefined;
  try {
    // Warm-up: kernels built, replicas started, allocator sized, wasm and JS tiered up (slow
    // on a loaded machine: with 1 s, the first timed rounds still ran up to 3x slower).
    await ours.round(2 * seconds, 5);
    let request: Record<string, unknown> | null = null;
    if (torch) {
      const caseDir = join(dir, name);
      mkdirSync(caseDir, { recursive: true });
      writeFileSync(join(caseDir, 'model.py'), exportPytorch(graph).code);
      request = {
        dir: caseDir,
        batch: config.batchSize,
        seconds,
        minSteps,
        inputs: [{ int: data.train.inputDtype === 'int32', vocab: inputHint(graph)?.vocab ?? 2 }],
        losses: ours.trainer.compiled.outputs.map((o) => o.loss),
      };
      const warm = await torch.train({ ...request, seconds: Math.min(1, seconds), minSteps: 2, warmup: 2, threads: null });
      if (warm.error) torchError = warm.error;
    }
    // One untimed step after a change of threads (and the fresh optimizer train() makes).
    const torchRound = async (threads: number | null, into: number[]) => {
      if (!request || torchError) return;
      const t = await torch!.train({ ...request, warmup: 1, threads });
      if (t.error) torchError = t.error;
      else into.push(t.samplesPerSec!);
    };
    // ours, torch, torch 1 thread; then the other way round: a drift in load within a
    // round weighs on both sides of its ratio alike over two rounds.
    for (let r = 0; r < rounds; r++) {
      if (r % 2) {
        await torchRound(1, theirs1);
        await torchRound(null, theirs);
        oursRounds.push(await ours.round(seconds, minSteps));
      } else {
        oursRounds.push(await ours.round(seconds, minSteps));
        await torchRound(null, theirs);
        await torchRound(1, theirs1);
      }
      loads.push(load1());
    }
  } finally {
    await ours.close();
  }
  const sum = (f: (r: Round) => number) => oursRounds.reduce((a, o) => a + f(o), 0);
  const profile = opts.profileSteps === 0 || opts.quick ? null : await profileOurs(tf, graph, data, { ...config, cpuWorkers: 1 }, opts.profileSteps ?? 3);
  const perRound = (f: (r: Round) => number, digits = 0) => spread(oursRounds.map(f), digits);
  const paired = !torchError && theirs.length === oursRounds.length;
  return {
    template: name,
    batchSize: config.batchSize,
    trainSamples: data.train.size,
    workers: ours.trainer.workers,
    samplesPerSec: perRound((o) => o.samplesPerSec),
    runs: oursRounds.map((o) => round(o.samplesPerSec)),
    steps: oursRounds.map((o) => o.steps),
    cpuMsPerStep: perRound((o) => o.cpuMsPerStep, 1),
    torchSamplesPerSec: paired ? spread(theirs) : null,
    torchRuns: theirs.map((t) => round(t)),
    torch1ThreadSamplesPerSec: paired && theirs1.length ? spread(theirs1) : null,
    torch1ThreadRuns: theirs1.map((t) => round(t)),
    torchError,
    ratio: paired
      ? spread(
          oursRounds.map((o, i) => o.samplesPerSec / theirs[i]),
          3,
        )
      : null,
    load: Math.max(...loads),
    /** The probes inside the timed rounds. */
    probe: { runs: sum((o) => o.probeRuns), msPerStep: round(sum((o) => o.probeMs) / sum((o) => o.steps), 2) },
    profile,
  };
}
