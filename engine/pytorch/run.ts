// A training run on PyTorch: the training process's counterpart of Trainer
// (same commands, same events), with the graph's export trained by the user's
// torch in 1..N Python ranks. This side prepares the files, relays commands,
// turns the worker's checkpoints into the tfjs format and its attention maps
// into snapshots, and fails clearly when a rank dies.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { selectBackend } from '../backends/select.js';
import type { TF } from '../blocks/contract.js';
import { prepareData } from '../data/index.js';
import { inputHint, type RunRequest } from '../train/setup.js';
import { trainEventSchema, type LiveExplainPlan, type TrainEvent, type TrainEventOf } from '../schemas/train-events.js';
import type { CompiledGraph } from '../compile/compile.js';
import type { GraphFile } from '../graph/types.js';
import { exportPytorch } from '../export/pytorch.js';
import { RunFolder } from '../runs/index.js';
import { Trainer } from '../train/trainer.js';
import type { TrainConfig } from '../schemas/train-config.js';
import { launchRanks, type Ranks } from './launch.js';
import { prepareTorchRun, WORKER_SCRIPT, type PreparedTorchRun } from './prepare.js';
import { torchrunCommand, type LaunchPlan } from '../schemas/torchrun.js';
import { findTorchPython, type TorchPython } from './python.js';
import { slotNames, writeStartingPoint, type TorchCheckpoint } from './run-files.js';
import { TorchRunWriter, type TorchAttention } from './run-writer.js';

export const TORCH_DEVICES = ['auto', 'cuda', 'mps', 'cpu'] as const;
export type TorchDevice = (typeof TORCH_DEVICES)[number];

export interface TorchOptions {
  /** The interpreter; default: /usr/bin/python3, then python3 on PATH. */
  python?: string;
  device?: TorchDevice;
  /** Ranks on this machine (DDP). */
  nproc?: number;
  /** With several ranks, BatchNorm statistics over the global batch rather than each rank's shard (default true). */
  syncBatchNorm?: boolean;
}

/**
 * Plans the live explanation the worker computes at each probe (engine/explain/live.ts's
 * liveExplainPlan; engine/explain sits above this layer, so the caller hands it in).
 */
export type LiveExplainPlanner = (graph: GraphFile, compiled: CompiledGraph) => LiveExplainPlan | undefined;

/** The settings a PyTorch run cannot honour here, as one message; null when none. */
export function refusal(py: TorchPython, o: TorchOptions): string | null {
  const device = o.device ?? 'auto';
  const nproc = o.nproc ?? 1;
  if (device === 'cuda' && !py.cuda.length) return `--device cuda: torch ${py.torch} at ${py.python} sees no CUDA device`;
  if (device === 'mps' && !py.mps) return `--device mps: torch ${py.torch} at ${py.python} sees no MPS device (Apple silicon only)`;
  if (nproc > 1 && !py.distributed) return `--nproc ${nproc}: torch ${py.torch} at ${py.python} has no torch.distributed`;
  if (nproc > 1 && (device === 'mps' || (device === 'auto' && py.mps && !py.cuda.length)))
    return `--nproc ${nproc}: torch.distributed has no backend for MPS; use --device cpu (gloo) for several ranks on a Mac`;
  if (nproc > 1 && device !== 'cpu' && py.cuda.length && nproc > py.cuda.length)
    return `--nproc ${nproc}: only ${py.cuda.length} CUDA device(s); NCCL needs one per rank (or use --device cpu)`;
  return null;
}

/**
 * Why `nproc` ranks cannot share the batches of an epoch; null when they can. DDP needs every
 * rank in every step: a rank with no sample of a batch would leave the others waiting.
 */
export function unsplittableBatch(trainSamples: number, batchSize: number, nproc: number): string | null {
  if (nproc <= 1) return null;
  const last = trainSamples % batchSize;
  if (batchSize < nproc)
    return `--nproc ${nproc}: a batch of ${batchSize} cannot give each of the ${nproc} ranks a sample; use a batch size of at least ${nproc}`;
  if (last > 0 && last < nproc)
    return `--nproc ${nproc}: the last batch of each epoch has ${last} sample${last === 1 ? '' : 's'} (${trainSamples} training samples in batches of ${batchSize}), too few for ${nproc} ranks; choose a batch size that leaves at least ${nproc}, or fewer ranks`;
  return null;
}

export class PytorchRun {
  /** How long the ranks may take to exit after the run is done before they are ended. */
  static exitGraceMs = 60_000;

  private ranks: Ranks | null = null;
  private early: 'pause' | 'stop' | null = null;
  private device = 'cpu';
  private readonly writer: TorchRunWriter;

  private constructor(
    private readonly tf: TF,
    private readonly trainer: Trainer,
    private readonly prepared: PreparedTorchRun,
    private readonly runDir: RunFolder,
    private readonly python: TorchPython,
    private readonly nproc: number,
    private readonly resumedFrom: string | null,
    /** The run folder is scratch (none was asked for): reported as null, removed at dispose. */
    private readonly scratch: boolean,
    private readonly sizes: { trainSamples: number; validationSamples: number; classNames: readonly string[] },
    private readonly onEvent: (e: TrainEvent) => void,
  ) {
    this.writer = new TorchRunWriter(tf, runDir, trainer.model, prepared.exported, trainer.config, prepared.spec.caption);
  }

  /** Finds torch, prepares the data and the run folder, checks the graph as the tfjs trainer does. */
  static async setup(
    req: Omit<RunRequest, 'backend'> & { pytorch?: TorchOptions; explainPlan?: LiveExplainPlanner },
    onEvent: (e: TrainEvent) => void = () => {},
  ): Promise<PytorchRun> {
    const o = req.pytorch ?? {};
    const python = await findTorchPython(o.python);
    const refused = refusal(python, o);
    if (refused) throw new Error(refused);
    // tfjs (its plain CPU backend) only holds the compiled model: checks, initial weights, checkpoint conversion.
    const { tf } = await selectBackend({ backend: 'cpu' });
    const data = await prepareData(req.dataset, inputHint(req.graph, req.registry));
    // The worker reads the training samples once, from a file.
    if (data.train.startEpoch)
      throw new Error(
        `dataset ${req.dataset.name}: fresh samples each epoch (freshEachEpoch) are made by the tfjs backends only; turn it off to train with PyTorch`,
      );
    // The tfjs trainer's checks (input shape and dtype, outputs against the dataset), and its compiled model.
    const trainer = new Trainer({ tf, graph: req.graph, registry: req.registry, data, config: req.config ?? {}, runDir: null });
    try {
      // Cleans up after a killed checkpoint write, then names the newest complete checkpoint.
      const resume = req.resumeFrom ? await RunFolder.forResume(req.resumeFrom) : undefined;
      const nproc = o.nproc ?? 1;
      const shortBatch = unsplittableBatch(data.train.size, trainer.config.batchSize, nproc);
      if (shortBatch) throw new Error(shortBatch);
      const config = {
        ...req.config,
        dataset: req.dataset,
        backend: 'pytorch',
        pytorch: {
          python: python.python,
          torch: python.torch,
          device: o.device ?? 'auto',
          nproc,
          ...(nproc > 1 ? { syncBatchNorm: o.syncBatchNorm ?? true } : {}),
        },
      };
      // No run folder asked for (out: null): the worker still needs its files, in a folder removed afterwards.
      const scratch = req.out === null ? await mkdtemp(path.join(tmpdir(), 'attn-pytorch-')) : null;
      const runDir =
        resume && !req.out?.dir
          ? resume.run
          : await RunFolder.create({
              base: req.out?.base,
              dir: scratch ?? req.out?.dir,
              name: req.graph.name,
              graph: trainer.graph,
              config,
              vocabulary: data.vocabulary,
            });
      const torchDir = path.join(runDir.path, 'pytorch');
      await mkdir(torchDir, { recursive: true });
      // The graph as trained (a new head), starting from config.initWeights where given.
      const exported = exportPytorch(trainer.graph, { probes: true });
      if (!resume) await trainer.loadStartingWeights();
      const start = await writeStartingPoint(tf, torchDir, trainer.model, exported, slotNames(trainer.config), resume?.checkpoint);
      // The run goes on from the checkpoint: metrics rows of later epochs are dropped and trained again.
      if (start.state) await runDir.resetMetrics(start.state.history);
      const prepared = await prepareTorchRun({
        runDir: runDir.path,
        graph: trainer.graph,
        data,
        config: trainer.config,
        device: o.device ?? 'auto',
        syncBatchNorm: o.syncBatchNorm,
        resume: start,
        explain: req.explainPlan?.(trainer.graph, trainer.compiled),
      });
      return new PytorchRun(
        tf,
        trainer,
        prepared,
        runDir,
        python,
        nproc,
        start.from ?? null,
        scratch !== null,
        { trainSamples: data.train.size, validationSamples: data.validation.size, classNames: data.classNames },
        onEvent,
      );
    } catch (err) {
      trainer.dispose();
      throw err;
    }
  }

  private get reportedDir(): string | null {
    return this.scratch ? null : this.runDir.path;
  }

  get config(): TrainConfig {
    return this.trainer.config;
  }

  pause(): void {
    if (this.ranks) this.ranks.send({ type: 'pause' });
    else if (this.early !== 'stop') this.early = 'pause';
  }
  resume(): void {
    if (this.ranks) this.ranks.send({ type: 'resume' });
    else if (this.early === 'pause') this.early = null;
  }
  stop(): void {
    if (this.ranks) this.ranks.send({ type: 'stop' });
    else this.early = 'stop';
  }
  requestProbe(): void {
    this.ranks?.send({ type: 'probe' });
  }

  private emit(e: TrainEvent): void {
    const parsed = trainEventSchema.safeParse(e);
    if (!parsed.success) throw new Error(`the PyTorch worker sent a malformed ${e.type} event: ${parsed.error.issues[0]?.message}`);
    this.onEvent(parsed.data);
  }

  private started(ready: Record<string, unknown>): void {
    this.device = String(ready.device);
    const c = this.config;
    const { trainSamples, validationSamples, classNames } = this.sizes;
    this.emit({
      type: 'started',
      backend: 'pytorch',
      skipped: [],
      runDir: this.reportedDir,
      params: this.trainer.compiled.params,
      trainSamples,
      validationSamples,
      classNames: [...classNames],
      epochs: c.epochs,
      batchesPerEpoch: Math.ceil(trainSamples / c.batchSize),
      resumedFrom: this.resumedFrom,
      device: this.device,
      ranks: this.nproc,
      python: this.python.python,
      torch: this.python.torch,
    });
  }

  private async checkpoint(ck: TorchCheckpoint): Promise<void> {
    const target = await this.writer.checkpoint(ck);
    this.emit({ type: 'checkpoint', epoch: ck.state.epoch, step: ck.state.step, path: target, reason: ck.reason });
  }

  private async attention(e: TorchAttention): Promise<void> {
    const { maps, explanation, caption } = await this.writer.attention(e);
    this.emit({ type: 'attention', epoch: e.epoch, step: e.step, ms: e.ms, maps, ...(explanation && { explanation }), ...(caption && { caption }) });
  }

  /** One line from rank 0, in order (checkpoints are converted before later events go out). */
  private async handle(line: Record<string, unknown>, finish: (d: TrainEventOf<'done'>) => void): Promise<void> {
    switch (line.type) {
      case 'ready':
        return this.started(line);
      case 'torch-checkpoint':
        return this.checkpoint(line as unknown as TorchCheckpoint);
      case 'attention':
        return this.attention(line as never);
      case 'done': {
        const done = { ...(line as object), backend: 'pytorch', runDir: this.reportedDir, device: this.device, ranks: this.nproc } as TrainEventOf<'done'>;
        this.emit(done);
        return finish(done);
      }
      case 'error':
        throw new Error(String(line.message));
      case 'log':
        return;
      default:
        return this.emit(line as TrainEvent);
    }
  }

  /** Trains to the end, a stop or an early stop; rejects naming the rank that failed and the last checkpoint. */
  async run(): Promise<TrainEventOf<'done'>> {
    let chain = Promise.resolve();
    let failure: Error | null = null;
    let done: TrainEventOf<'done'> | null = null;
    // After 'done' the ranks only say goodbye (a barrier, process exit); ranks that linger are ended.
    let lingering: NodeJS.Timeout | undefined;
    let lingered = false;
    const finish = (d: TrainEventOf<'done'>) => {
      done = d;
      lingering = setTimeout(() => {
        lingered = true;
        this.ranks?.kill();
      }, PytorchRun.exitGraceMs).unref();
    };
    this.ranks = await launchRanks({
      python: this.python.python,
      specFile: this.prepared.specFile,
      nproc: this.nproc,
      logDir: this.prepared.dir,
      onLine: (line) => {
        chain = chain
          .then(() => this.handle(line, finish))
          .catch((err: Error) => {
            failure ??= err;
            this.ranks?.kill();
          });
      },
    });
    if (this.early) this.ranks.send({ type: this.early });
    let exitError: Error | null = null;
    await this.ranks.exited.catch((err: Error) => (exitError = err));
    await chain;
    clearTimeout(lingering);
    if (done && lingered && !failure) return done;
    const saved = this.writer.lastCheckpoint ? `the last checkpoint, ${this.writer.lastCheckpoint}, is intact` : 'no checkpoint had been written';
    // A rank killed from outside is the cause; what the others then report (gloo's "connection closed by peer") is its echo.
    const killed = exitError && /was killed/.test((exitError as Error).message) ? (exitError as Error) : null;
    if (killed) throw new Error(`${killed.message}${failure ? ` (then ${(failure as Error).message})` : ''}; ${saved}`);
    if (failure) throw new Error(`${(failure as Error).message}; ${saved}`);
    if (exitError && !done) throw new Error(`${(exitError as Error).message}; ${saved}`);
    if (!done) throw new Error(`the PyTorch worker ended without finishing the run; ${saved}`);
    return done;
  }

  /** The torchrun command that runs this prepared run on one node of a multi-node job. */
  launchCommand(plan: Omit<LaunchPlan, 'python' | 'worker' | 'specFile' | 'logDir'>): string {
    return torchrunCommand({
      ...plan,
      python: this.python.python,
      worker: WORKER_SCRIPT,
      specFile: this.prepared.specFile,
      logDir: path.join(this.prepared.dir, 'logs'),
    });
  }

  /** The ranks' process ids, once launched. */
  get rankPids(): (number | undefined)[] {
    return this.ranks?.pids ?? [];
  }

  get folder(): string {
    return this.runDir.path;
  }

  dispose(): void {
    this.ranks?.kill();
    this.trainer.dispose();
    if (this.scratch) void rm(this.runDir.path, { recursive: true, force: true });
  }
}
