// Data-parallel training on the CPU backends. tfjs on wasm runs one thread in
// Node (see bench/zoo.ts, WASM_THREADS), so a second core is only reached by a
// second tfjs: each replica is a worker thread (engine/worker/replica.ts) with
// the same compiled model. Each step the trainer splits the batch into shards,
// posts all but its own to the replicas, computes its own shard meanwhile, and
// averages the gradients weighted by each shard's labelled positions, which
// gives the full batch's mean-loss gradient up to float rounding; the
// optimiser then applies once, here. Before each step the replicas copy the
// trainer's weights (all of them, BatchNorm's moving statistics included) from
// shared memory, so they hold no state of their own: a checkpoint is the
// trainer's, and a resumed run continues as the uninterrupted one did.
//
// BatchNorm in training mode normalises each shard by its own statistics, as
// PyTorch's DistributedDataParallel does without SyncBatchNorm; the moving
// averages are the trainer's shard's, as DDP's default broadcast_buffers
// makes them rank 0's.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type * as tfjs from '@tensorflow/tfjs';
import type { Tensor, TF } from '../blocks/contract.js';
import { wasmHeapAccess } from '../backends/wasm-heap-kernels.js';
import type { Dataset } from '../data/dataset.js';
import type { GraphFile } from '../graph/types.js';
import type { TrainConfig } from '../schemas/train-config.js';
import { layout, type ReplicaInit, type ReplicaReply, type StepRequest } from './replica-protocol.js';
import type { TrainedOutput } from './shard-gradients.js';

type Variable = ReturnType<TF['variable']>;
type GradsReply = Extract<ReplicaReply, { type: 'grads' }>;

/** Backends whose kernels run on the calling thread only: a replica adds a core. */
export const DATA_PARALLEL_BACKENDS: readonly string[] = ['wasm', 'cpu'];

/**
 * `cpuWorkers: 'auto'` splits a batch only when each shard keeps at least this
 * many samples (fewer make BatchNorm's per-shard statistics noisy and the
 * fixed cost of a step dominate) ...
 */
export const AUTO_MIN_SHARD = 16;
/**
 * ... and a step's multiply-adds (forward, per the weights' layers) reach this: below it the copies and messages
 * cost more than the second core gains. In the quiet zoo run (2 cores) two workers won from 60M up (bench-se-cnn 66M:
 * 1.21x, mnist-cnn 71M: 1.07x, sasa-resnet-mnist 60M: 1.08x) and lost at 31M and below (the GRU 0.58x, ViT 0.57x).
 */
export const AUTO_MIN_MACS_PER_STEP = 5e7;

/** A replica's start (tfjs, wasm, compiling the model) may take this long. */
const READY_MS = 120_000;
/** A replica's shard may take this many times the trainer's own shard (at least MIN_WAIT_MS) before the run fails. */
const WAIT_FACTOR = 20;
const MIN_WAIT_MS = 60_000;

export interface ShardOutcome {
  labels: Int32Array;
  labelled: number;
  /** The shard's loss: the outputs' weighted sum. */
  total: number;
  losses: number[];
  probs: Float32Array[];
}

const sizeOf = (shape: readonly (number | null)[]) => shape.reduce<number>((a, b) => a * (b ?? 1), 1);

/**
 * Forward multiply-adds per sample: each weight matrix (rank ≥ 2) once per output position, and the products of
 * dot-product attention, which has no weights: QKᵀ and the weights times V, Tq·Tk·(query size + value size).
 */
export function macsPerSample(model: tfjs.LayersModel): number {
  let macs = 0;
  for (const layer of model.layers) {
    const out = layer.outputShape;
    const shape = (Array.isArray(out[0]) || out[0] === undefined ? out[0] : out) as (number | null)[] | undefined;
    const positions = shape ? sizeOf(shape.slice(1, -1)) : 1;
    for (const w of layer.weights) if (w.shape.length >= 2) macs += sizeOf(w.shape) * positions;
    if (layer.getClassName() === 'DotProductAttention') for (const node of layer.inboundNodes) macs += attentionMacs(node.inputShapes as (number | null)[][]);
  }
  return macs;
}

/** Per sample, QKᵀ and AV of attention over query [B, Tq, Eq], key [B, Tk, Ek] and value [B, Tk, Ev] (heads split E). */
function attentionMacs([query, key, value]: (number | null)[][]): number {
  const [tq, eq] = [query[1] ?? 1, query[query.length - 1] ?? 1];
  const [tk, ev] = [key[1] ?? 1, value[value.length - 1] ?? 1];
  return tq * tk * (eq + ev);
}

export interface WorkerChoice {
  /** Shards per batch: 1 trains on this thread alone. */
  workers: number;
  reason: string;
}

/** How many shards `cpuWorkers` asks for on this machine and model; an explicit count the backend cannot use is an error. */
export function chooseWorkers(
  setting: TrainConfig['cpuWorkers'],
  c: { backend: string; batchSize: number; macsPerSample: number; customBlocks: boolean; cores?: number },
): WorkerChoice {
  const cores = c.cores ?? availableParallelism();
  const cpu = DATA_PARALLEL_BACKENDS.includes(c.backend);
  if (setting !== 'auto') {
    if (setting > 1 && !cpu)
      throw new Error(
        `cpuWorkers: ${setting} splits batches across threads on the ${DATA_PARALLEL_BACKENDS.join(' and ')} backends; this run uses ${c.backend}`,
      );
    if (setting > 1 && c.customBlocks)
      throw new Error(`cpuWorkers: ${setting} needs the built-in blocks: a replica thread cannot load this run's own block registry`);
    return { workers: setting, reason: 'cpuWorkers' };
  }
  if (!cpu) return { workers: 1, reason: `the ${c.backend} backend uses every core itself` };
  if (c.customBlocks) return { workers: 1, reason: 'custom blocks: replicas load the built-in blocks only' };
  if (cores < 2) return { workers: 1, reason: 'one core' };
  const workers = Math.min(cores, Math.floor(c.batchSize / AUTO_MIN_SHARD));
  if (workers < 2) return { workers: 1, reason: `batches of ${c.batchSize} are too small to split (at least ${AUTO_MIN_SHARD} per shard)` };
  const macs = c.macsPerSample * c.batchSize;
  if (macs < AUTO_MIN_MACS_PER_STEP) return { workers: 1, reason: `${(macs / 1e6).toFixed(0)}M multiply-adds per step: too little work to split` };
  return { workers, reason: `${cores} cores, ${(macs / 1e6).toFixed(0)}M multiply-adds per step` };
}

/** A shard posted to a replica, and its labels (kept here for the metrics). */
export interface Posted {
  replica: Replica;
  labels: Int32Array;
}

export interface RemoteShard {
  outcome: ShardOutcome;
  /** The replica's gradients, all variables end to end (valid until its next step). */
  grads: Float32Array;
}

/** One replica thread and the one request it may have in flight. */
class Replica {
  private readonly worker: Worker;
  private reply: Promise<GradsReply> | null = null;
  private settle: { resolve: (r: ReplicaReply) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  readonly grads: Float32Array;
  readonly ready: Promise<void>;

  constructor(readonly init: ReplicaInit) {
    this.grads = new Float32Array(init.grads);
    this.worker = new Worker(new URL('../worker/replica.js', import.meta.url), { workerData: init });
    // A replica never keeps the process alive: a run that fails without dispose() still ends.
    this.worker.unref();
    const who = `data-parallel replica ${init.rank}`;
    this.worker.on('message', (r: ReplicaReply) => (r.type === 'error' ? this.fail(new Error(`${who} failed: ${r.message}`)) : this.answer(r)));
    this.worker.on('error', (e) => this.fail(new Error(`${who} crashed: ${e.message}`)));
    this.worker.on('exit', (code) => this.fail(new Error(`${who} (a worker thread) exited with code ${code}`)));
    this.ready = this.expect(READY_MS, 'to start').then(() => undefined);
    this.ready.catch(() => {});
  }

  private answer(r: ReplicaReply): void {
    const s = this.settle;
    this.settle = null;
    s?.resolve(r);
  }

  private fail(e: Error): void {
    this.failure ??= e;
    const s = this.settle;
    this.settle = null;
    s?.reject(this.failure);
  }

  /** The next reply, rejected at the replica's failure or, given `ms`, after that long. */
  private expect(ms?: number, what = ''): Promise<ReplicaReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<ReplicaReply>((resolve, reject) => {
      const timer = ms === undefined ? undefined : setTimeout(() => this.timeOut(ms, what), ms);
      this.settle = {
        resolve: (r) => (clearTimeout(timer), resolve(r)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
    });
  }

  private timeOut(ms: number, what: string): void {
    this.fail(new Error(`data-parallel replica ${this.init.rank} did not answer within ${Math.round(ms / 1000)} s ${what}`));
    void this.worker.terminate();
  }

  post(m: StepRequest): void {
    if (this.failure) throw this.failure;
    // The wait is bounded once the trainer's own shard is done (wait()); until then only a failure ends it.
    this.reply = this.expect() as Promise<GradsReply>;
    // Rejections are handled when wait() takes the reply; this keeps an early one from counting as unhandled.
    this.reply.catch(() => {});
    this.worker.postMessage(m, [m.x.data.buffer as ArrayBuffer, m.labels.buffer as ArrayBuffer]);
  }

  async wait(ms: number): Promise<GradsReply> {
    const reply = this.reply!;
    this.reply = null;
    const timer = setTimeout(() => this.timeOut(ms, "after the trainer's own shard"), ms);
    try {
      return await reply;
    } finally {
      clearTimeout(timer);
    }
  }

  /** For tests: ends the thread as a crash would. */
  kill(): Promise<number> {
    return this.worker.terminate();
  }

  dispose(): Promise<number> {
    this.failure ??= new Error(`data-parallel replica ${this.init.rank} was stopped`);
    return this.worker.terminate();
  }
}

export interface DataParallelOptions {
  tf: TF;
  backend: string;
  graph: GraphFile;
  config: TrainConfig;
  trained: readonly TrainedOutput[];
  classes: number;
  model: tfjs.LayersModel;
  vars: Variable[];
  /** Shards per batch (≥ 2): the trainer's own and one per replica. */
  workers: number;
}

export class DataParallel {
  /**
   * Wall time publishing weights, posting shards and averaging gradients (copyMs; copyCpuMs: the process's CPU time
   * meanwhile, all of it this thread's, as the replicas are idle then), waiting for replicas after the trainer's own
   * shard, and the shards' own times (the slowest replica's). The wait and the shards' times leave out each
   * replica's first step (timedSteps counts the others): a fresh thread's first step compiles its kernels and
   * grows its heap, several times a warm step, while the trainer's own thread may have trained before.
   */
  readonly stats = { steps: 0, timedSteps: 0, copyMs: 0, copyCpuMs: 0, waitMs: 0, localMs: 0, replicaMs: 0 };
  private readonly weights: Float32Array;
  private readonly weightAt: number[];
  private readonly gradAt: number[];

  private constructor(
    private readonly o: DataParallelOptions,
    private readonly replicas: Replica[],
    weights: SharedArrayBuffer,
  ) {
    this.weights = new Float32Array(weights);
    this.weightAt = layout(o.model.weights.map((w) => sizeOf(w.shape))).offsets;
    this.gradAt = layout(o.vars.map((v) => v.size)).offsets;
  }

  /** Starts the replicas and waits until each holds the model; any that fails to start is an error naming why. */
  static async start(o: DataParallelOptions): Promise<DataParallel> {
    const weightSizes = o.model.weights.map((w) => sizeOf(w.shape));
    const odd = o.model.weights.find((w) => w.dtype !== 'float32');
    if (odd) throw new Error(`data-parallel training needs float32 weights; ${odd.name} is ${odd.dtype}`);
    const varSizes = o.vars.map((v) => v.size);
    const weights = new SharedArrayBuffer(layout(weightSizes).total * 4);
    const replicas = Array.from(
      { length: o.workers - 1 },
      (_, i) =>
        new Replica({
          rank: i + 1,
          backend: o.backend,
          graph: o.graph,
          config: o.config,
          trained: o.trained.map(({ index, loss, weight }) => ({ index, loss, weight })),
          classes: o.classes,
          weightSizes,
          varSizes,
          weights,
          grads: new SharedArrayBuffer(layout(varSizes).total * 4),
        }),
    );
    const dp = new DataParallel(o, replicas, weights);
    try {
      await Promise.all(replicas.map((r) => r.ready));
    } catch (err) {
      await dp.dispose();
      throw err;
    }
    return dp;
  }

  get workers(): number {
    return this.o.workers;
  }

  /** The batch's indices in `workers` contiguous shards, sizes differing by at most one, the largest first (the trainer's). */
  split(indices: Int32Array): Int32Array[] {
    const n = this.o.workers;
    const base = Math.floor(indices.length / n);
    const extra = indices.length % n;
    const shards: Int32Array[] = [];
    for (let i = 0, start = 0; i < n; i++) {
      const size = base + (i < extra ? 1 : 0);
      shards.push(indices.subarray(start, start + size));
      start += size;
    }
    return shards;
  }

  /** Publishes the trainer's weights and posts shards 1… to the replicas (empty shards stay home). */
  dispatch(ds: Dataset, shards: Int32Array[], step: number): Posted[] {
    const { tf } = this.o;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const heap = wasmHeapAccess(tf);
    this.o.model.weights.forEach((w, i) => {
      const v = w.read();
      this.weights.set(heap ? heap.view(v) : (v.dataSync() as Float32Array), this.weightAt[i]);
    });
    const busy: Posted[] = [];
    shards.slice(1).forEach((indices, i) => {
      if (indices.length === 0) return;
      const { x, labels } = ds.batch(tf, indices);
      // Copies the transfer may take: dataSync can hand out the backend's own buffer.
      const data = x.dtype === 'int32' ? Int32Array.from(x.dataSync() as Int32Array) : Float32Array.from(x.dataSync() as Float32Array);
      const shape = x.shape;
      x.dispose();
      const r = this.replicas[i];
      // Dropout clocks: the trainer's own shard uses the step (≥ 0), replica r the negative −(step·workers + r).
      r.post({ type: 'step', clock: -(step * this.o.workers + r.init.rank), x: { data, shape }, labels: Int32Array.from(labels) });
      busy.push({ replica: r, labels });
    });
    this.stats.steps++;
    this.countCopy(t0, cpu0);
    return busy;
  }

  /** The replicas' answers; `localMs`, the trainer's own shard's time, bounds the wait. */
  async collect(busy: Posted[], localMs: number): Promise<RemoteShard[]> {
    const ms = Math.max(MIN_WAIT_MS, WAIT_FACTOR * localMs);
    const t0 = performance.now();
    const replies = await Promise.all(busy.map((p) => p.replica.wait(ms)));
    if (this.stats.steps > 1) {
      this.stats.timedSteps++;
      this.stats.waitMs += performance.now() - t0;
      this.stats.localMs += localMs;
      this.stats.replicaMs += Math.max(...replies.map((r) => r.ms));
    }
    return replies.map(({ type: _t, ms: _ms, ...reply }, i) => ({ outcome: { ...reply, labels: busy[i].labels }, grads: busy[i].replica.grads }));
  }

  /** Per variable, the shards' gradients weighted by their labelled positions: the gradient of the batch's mean loss. */
  average(local: Tensor[], localLabelled: number, remote: RemoteShard[]): Tensor[] {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const { tf } = this.o;
    const total = Math.max(1, localLabelled + remote.reduce((s, r) => s + r.outcome.labelled, 0));
    const w0 = localLabelled / total;
    const weights = remote.map((r) => r.outcome.labelled / total);
    const heap = wasmHeapAccess(tf);
    const averaged = local.map((g, i) => {
      // On wasm straight from and into the heap (the output first: an allocation moves the views).
      const result = heap ? heap.output(g.shape) : null;
      const out = result ? heap!.view(result) : new Float32Array(g.size);
      const mine = heap ? heap.view(g) : (g.dataSync() as Float32Array);
      const at = this.gradAt[i];
      for (let j = 0; j < out.length; j++) {
        let s = mine[j] * w0;
        for (let r = 0; r < remote.length; r++) s += remote[r].grads[at + j] * weights[r];
        out[j] = s;
      }
      return result ?? tf.tensor(out, g.shape);
    });
    this.countCopy(t0, cpu0);
    return averaged;
  }

  private countCopy(t0: number, cpu0: NodeJS.CpuUsage): void {
    const cpu = process.cpuUsage(cpu0);
    this.stats.copyMs += performance.now() - t0;
    this.stats.copyCpuMs += (cpu.user + cpu.system) / 1000;
  }

  /** For tests: ends replica `rank`'s thread as a crash would. */
  kill(rank: number): Promise<number> {
    return this.replicas[rank - 1].kill();
  }

  async dispose(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.dispose()));
  }
}
