// The training loop: our own, rather than model.fit, so that pause, stop,
// checkpoints and gradient clipping happen at batch granularity and a resumed
// run repeats an uninterrupted one exactly (same weights, optimizer state,
// data order and learning rates).
import type * as tfjs from '@tensorflow/tfjs';
import type { Tensor, TF } from '../blocks/contract.js';
import type { BlockRegistry } from '../blocks/registry.js';
import type { GpuAdapter } from '../schemas/backends.js';
import { compileGraph, type CompiledGraph } from '../compile/compile.js';
import type { GraphFile } from '../graph/types.js';
import type { PreparedData } from '../data/index.js';
import type { Dataset } from '../data/dataset.js';
import { deriveSeed, permutation } from '../data/random.js';
import { fmtShape } from '../blocks/shape-rules.js';
import { loadCheckpoint, resolveCheckpoint, saveCheckpoint, type TrainerState } from './checkpoint.js';
import { trainConfigSchema, type TrainConfig, type TrainConfigInput } from '../schemas/train-config.js';
import type { TrainEvent, TrainEventOf } from '../schemas/train-events.js';
import { countCorrect, maskedLoss, oneHot } from './losses.js';
import { shardGradients, type TrainedOutput } from './shard-gradients.js';
import { chooseWorkers, DataParallel, macsPerSample, type RemoteShard, type ShardOutcome, type WorkerChoice } from './data-parallel.js';
import { Optimizer } from './optimizers.js';
import { applyFineTuning, loadInitialWeights, withHead, type FineTuneSummary } from './fine-tune.js';
import { guardTrainingMemory } from './memory.js';
import { AttentionProbe, type ProbeExplainerFactory } from './probes.js';
import type { MetricRow, RunFolder } from '../runs/index.js';
import { learningRate } from './schedule.js';

type Variable = ReturnType<TF['variable']>;

export interface TrainerOptions {
  tf: TF;
  /** The backend that runs and the better ones that were skipped, for the reports. */
  backend?: { name: string; adapter?: GpuAdapter; skipped: { backend: string; reason: string }[] };
  graph: GraphFile;
  registry?: BlockRegistry;
  data: PreparedData;
  config: TrainConfigInput;
  /** Where checkpoints, metrics and attention snapshots go; none: nothing is written. */
  runDir?: RunFolder | null;
  /** A checkpoint folder (or a checkpoints/ folder: its latest) to continue from. */
  resumeFrom?: string;
  onEvent?: (e: TrainEvent) => void;
  /** Explains the first probe sample at each probe (config.probe.explain turns it off). */
  explainer?: ProbeExplainerFactory;
}

const freshState = (): TrainerState => ({ epoch: 0, batch: 0, step: 0, sums: {}, history: [], best: null, badEpochs: 0 });

/** A metrics row without its position: the metrics. */
function metricsOf({ epoch: _e, step: _s, seconds: _t, ...metrics }: MetricRow): Record<string, number> {
  return metrics;
}

function add(sums: Record<string, number>, key: string, v: number): void {
  sums[key] = (sums[key] ?? 0) + v;
}

export class Trainer {
  readonly config: TrainConfig;
  readonly compiled: CompiledGraph;
  readonly classes: number;
  /** The graph trained: the one given, with its head replaced when config.head asks. */
  readonly graph: GraphFile;
  /** Trainable and frozen weights after the fine-tuning settings. */
  readonly fineTuning: FineTuneSummary;
  /** The replaced head's node id (its weights are not taken from initWeights). */
  private readonly head?: string;
  private readonly tf: TF;
  private readonly trained: TrainedOutput[];
  private readonly vars: Variable[];
  private readonly optimizer: Optimizer;
  private readonly probe: AttentionProbe;
  private pauseGate: { promise: Promise<void>; resolve: () => void } | null = null;
  private stopRequested = false;
  private probeRequested = false;
  private state: TrainerState = freshState();
  /** Time spent paused since the run started: an epoch's logged time leaves it out. */
  private pausedMs = 0;
  /** Shards per batch (config.cpuWorkers resolved for this backend and model) and why. */
  readonly workers: WorkerChoice;
  /** The replicas that compute shards 1… while run() runs (null: the whole batch here). */
  private parallel: DataParallel | null = null;
  /** The replicas' costs over the runs so far: see DataParallel.stats. */
  readonly parallelStats = { steps: 0, timedSteps: 0, copyMs: 0, copyCpuMs: 0, waitMs: 0, localMs: 0, replicaMs: 0 };

  constructor(private readonly opts: TrainerOptions) {
    const { tf, data } = opts;
    this.tf = tf;
    this.config = trainConfigSchema.parse(opts.config);
    this.classes = data.classNames.length;
    ({ graph: this.graph, head: this.head } = withHead(opts.graph, this.config.head, this.classes));
    this.compiled = compileGraph(tf, this.graph, { registry: opts.registry });
    const { compiled } = this;

    if (compiled.inputs.length !== 1) throw new Error(`the model has ${compiled.inputs.length} inputs; training supports models with one input`);
    const inShape = compiled.inputs[0].shape.slice(1);
    if (fmtShape(inShape) !== fmtShape([...data.train.inputShape]))
      throw new Error(
        `the model's input "${compiled.inputs[0].nodeId}" takes ${fmtShape([null, ...inShape])}, but dataset ${data.train.name} gives ${fmtShape([null, ...data.train.inputShape])}`,
      );
    if (compiled.inputs[0].dtype !== data.train.inputDtype)
      throw new Error(
        `the model's input "${compiled.inputs[0].nodeId}" takes ${compiled.inputs[0].dtype}, but dataset ${data.train.name} gives ${data.train.inputDtype} ${data.train.inputDtype === 'int32' ? '(token ids: use an Input of kind "tokens")' : ''}`,
      );
    const want = [null, ...data.train.labelShape, this.classes];
    this.trained = compiled.outputs.flatMap((o, index) => (o.loss ? [{ ...o, loss: o.loss, index }] : []));
    if (this.trained.length === 0) throw new Error('no output of the model has a loss: nothing to train');
    for (const o of this.trained)
      if (fmtShape(o.shape) !== fmtShape(want))
        throw new Error(
          `output "${o.nodeId}" is ${fmtShape(o.shape)}, but dataset ${data.train.name} needs ${fmtShape(want)} (${this.classes} classes${data.train.labelShape.length ? ' per position' : ''})`,
        );

    let multipliers: number[];
    try {
      ({ multipliers, summary: this.fineTuning } = applyFineTuning(compiled, this.config));
    } catch (err) {
      this.model.dispose();
      throw err;
    }
    this.vars = compiled.model.trainableWeights.map((w) => w.read() as Variable);
    this.optimizer = new Optimizer(tf, this.config, this.vars, multipliers);
    try {
      guardTrainingMemory(
        tf,
        this.model,
        this.optimizer.slotsPerWeight,
        Math.min(this.config.batchSize, data.train.size),
        opts.backend?.name ?? tf.getBackend(),
      );
    } catch (err) {
      this.optimizer.dispose();
      this.model.dispose();
      throw err;
    }
    this.workers = chooseWorkers(this.config.cpuWorkers, {
      backend: tf.getBackend(),
      batchSize: this.config.batchSize,
      macsPerSample: macsPerSample(this.model),
      customBlocks: opts.registry !== undefined,
    });
    const probeSource: Dataset = data.validation.size > 0 ? data.validation : data.train;
    const k = Math.min(this.config.probe.samples, probeSource.size);
    const { x: samples, labels } = probeSource.batch(
      tf,
      Array.from({ length: k }, (_, i) => i),
    );
    const { enabled, explain } = this.config.probe;
    const explainer = enabled && explain ? opts.explainer?.(tf, this.graph, compiled) : undefined;
    this.probe = new AttentionProbe(tf, compiled.model, enabled ? compiled.attention : [], samples, this.config.probe, explainer, {
      classNames: data.classNames,
      labels,
    });
  }

  get model(): tfjs.LayersModel {
    return this.compiled.model;
  }

  /** Pauses before the next batch. */
  pause(): void {
    if (this.pauseGate) return;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.pauseGate = { promise, resolve };
  }

  resume(): void {
    this.pauseGate?.resolve();
    this.pauseGate = null;
  }

  /** Stops before the next batch, with a checkpoint. */
  stop(): void {
    this.stopRequested = true;
    this.resume();
  }

  /** Runs the probes after the next batch, whatever the rate limit. */
  requestProbe(): void {
    this.probeRequested = true;
  }

  get paused(): boolean {
    return this.pauseGate !== null;
  }

  private emit(e: TrainEvent): void {
    this.opts.onEvent?.(e);
  }

  /** Lets commands in between batches, waits while paused (adding the wait to `pausedMs`); true when asked to stop. */
  private async control(): Promise<boolean> {
    await new Promise((r) => setImmediate(r));
    for (let gate = this.pauseGate; gate; gate = this.pauseGate) {
      this.emit({ type: 'paused', epoch: this.state.epoch, step: this.state.step });
      const since = performance.now();
      await gate.promise;
      this.pausedMs += performance.now() - since;
    }
    return this.stopRequested;
  }

  private async restore(from: string): Promise<string> {
    const dir = await resolveCheckpoint(from);
    const ck = await loadCheckpoint(this.tf, dir);
    try {
      if (ck.weights.length !== this.model.weights.length)
        throw new Error(`checkpoint ${dir} holds ${ck.weights.length} weights, the model has ${this.model.weights.length}: it is from another graph`);
      this.model.setWeights(ck.weights);
      this.optimizer.restore(ck.optimizerStep, ck.optimizer);
    } finally {
      for (const t of [...ck.weights, ...ck.optimizer]) t.dispose();
    }
    this.state = ck.state;
    // The run goes on from here: metrics rows of later epochs (written before a
    // kill, or by a continuation now rewound) are dropped and trained again.
    await this.opts.runDir?.resetMetrics(ck.state.history);
    return dir;
  }

  /** Sets config.initWeights' weights into the model (all but a replaced head's); nothing without it. */
  async loadStartingWeights(): Promise<void> {
    if (this.config.initWeights) await loadInitialWeights(this.tf, this.compiled, this.config.initWeights, this.head);
  }

  private async checkpoint(reason: TrainEventOf<'checkpoint'>['reason']): Promise<void> {
    const dir = this.opts.runDir;
    if (!dir) return;
    const s = this.state;
    const path = await saveCheckpoint(this.tf, dir, this.model, this.optimizer, s, {
      keep: this.config.keepCheckpoints,
      extra: { graph: this.graph.name, reason },
    });
    this.emit({ type: 'checkpoint', epoch: s.epoch, step: s.step, path, reason });
  }

  /** One optimisation step; adds the batch's loss and counts to the epoch sums and returns the batch's own. */
  private async step(indices: Int32Array, lr: number): Promise<{ loss: number; accuracy?: number }> {
    const { tf, classes } = this;
    const train = this.opts.data.train;
    const shards = this.parallel?.split(indices) ?? [indices];
    const posted = this.parallel?.dispatch(train, shards, this.state.step) ?? [];
    const t0 = performance.now();
    const { x, labels } = train.batch(tf, shards[0]);
    const local = shardGradients(tf, this.model, this.trained, classes, this.vars, x, labels);
    let remote: RemoteShard[] = [];
    let g = local.grads;
    if (this.parallel && posted.length > 0) {
      remote = await this.parallel.collect(posted, performance.now() - t0);
      g = this.parallel.average(local.grads, local.labelled, remote);
    }
    tf.tidy(() => {
      let clipped = g;
      if (this.config.clipNorm) {
        const norm = tf.addN(g.map((t) => t.square().sum())).sqrt();
        const scale = tf.div(this.config.clipNorm, norm.maximum(this.config.clipNorm));
        clipped = g.map((t) => t.mul(scale));
      }
      this.optimizer.apply(clipped, lr);
    });
    const n = this.trained.length;
    // The step's one wait for the device: everything the metrics need, read back together.
    const [total, ...read] = await Promise.all([local.value, ...local.probs, ...local.losses].map((t) => t.data()));
    const mine: ShardOutcome = {
      labels,
      labelled: local.labelled,
      total: total[0],
      probs: read.slice(0, n) as Float32Array[],
      losses: read.slice(n).map((l) => l[0]),
    };
    const outcomes = [mine, ...remote.map((r) => r.outcome)];
    const s = this.state.sums;
    let accuracy: number | undefined;
    let labelled = 0;
    let correct = 0;
    for (const o of outcomes)
      for (const [i] of this.trained.entries()) {
        const c = countCorrect(o.probs[i], o.labels, classes, this.config.topK);
        add(s, `${i}.loss`, o.losses[i] * c.n);
        add(s, `${i}.n`, c.n);
        add(s, `${i}.correct`, c.correct);
        if (i === 0) [labelled, correct] = [labelled + c.n, correct + c.correct];
      }
    if (labelled > 0) accuracy = correct / labelled;
    // The batch's mean loss: each shard's weighted by its labelled positions (one shard: its own, as it is).
    const loss = outcomes.length === 1 ? mine.total : outcomes.reduce((a, o) => a + o.total * o.labelled, 0) / Math.max(1, labelled);
    add(s, 'loss', loss * indices.length);
    add(s, 'samples', indices.length);
    tf.dispose([x, local.value, ...local.grads, ...local.probs, ...local.losses, ...(g === local.grads ? [] : g)]);
    // Ends the run before a checkpoint could store weights that are no longer numbers.
    const { epoch, batch, step } = this.state;
    if (!Number.isFinite(loss))
      throw new Error(
        `the loss is ${loss} at epoch ${epoch + 1}, batch ${batch + 1} (step ${step + 1}): the weights are no longer finite; a lower learning rate or gradient clipping (clipNorm) may help. Checkpoints written before this step are unaffected`,
      );
    return { loss, accuracy };
  }

  /** Metric names: loss, accuracy (first trained output), and per output when there are several. */
  private metricsOf(sums: Record<string, number>, prefix: string, withTopK: boolean): Record<string, number> {
    const m: Record<string, number> = {};
    const div = (a: number, b: number) => (b > 0 ? a / b : 0);
    m[`${prefix}loss`] = div(sums.loss ?? 0, sums.samples ?? 0);
    const k = this.config.topK;
    for (const [i, o] of this.trained.entries()) {
      const n = sums[`${i}.n`] ?? 0;
      const tag = this.trained.length > 1 ? `${prefix}${o.nodeId}.` : prefix;
      if (this.trained.length > 1) m[`${tag}loss`] = div(sums[`${i}.loss`] ?? 0, n);
      m[`${tag}accuracy`] = div(sums[`${i}.correct`] ?? 0, n);
      if (withTopK && this.classes > k) m[`${tag}top${k}_accuracy`] = div(sums[`${i}.topK`] ?? 0, n);
      if (i === 0 && this.trained.length > 1) m[`${prefix}accuracy`] = m[`${tag}accuracy`];
    }
    return m;
  }

  /** Loss and accuracy on a dataset in inference mode. */
  async evaluate(ds: Dataset): Promise<Record<string, number>> {
    const { tf, classes } = this;
    const sums: Record<string, number> = {};
    const size = Math.max(this.config.batchSize, 256);
    for (let start = 0; start < ds.size; start += size) {
      const idx = Array.from({ length: Math.min(size, ds.size - start) }, (_, i) => start + i);
      const { x, labels } = ds.batch(tf, idx);
      const { y, mask } = oneHot(labels, classes);
      const out = this.model.predict(x) as Tensor | Tensor[];
      const list = Array.isArray(out) ? out : [out];
      const results = tf.tidy(() => {
        const yT = tf.tensor2d(y, [labels.length, classes]);
        const maskT = tf.tensor1d(mask);
        return this.trained.map((o) => {
          const p = list[o.index].reshape([-1, classes]);
          return { probs: p, loss: maskedLoss(tf, o.loss, yT, p, maskT) };
        });
      });
      let total = 0;
      for (const [i, o] of this.trained.entries()) {
        const c = countCorrect((await results[i].probs.data()) as Float32Array, labels, classes, this.config.topK);
        const loss = (await results[i].loss.data())[0];
        total += o.weight * loss;
        add(sums, `${i}.loss`, loss * c.n);
        add(sums, `${i}.n`, c.n);
        add(sums, `${i}.correct`, c.correct);
        add(sums, `${i}.topK`, c.topK);
      }
      add(sums, 'loss', total * idx.length);
      add(sums, 'samples', idx.length);
      tf.dispose([x, ...list, ...results.flatMap((r) => [r.probs, r.loss])]);
    }
    return this.metricsOf(sums, 'val_', true);
  }

  private async runProbe(): Promise<void> {
    this.probeRequested = false;
    const { maps, explanation, caption, ms } = await this.probe.run(this.state.step);
    if (!maps.length && !explanation) return;
    await this.opts.runDir?.writeAttention(this.state.step, maps, explanation, caption);
    this.emit({
      type: 'attention',
      epoch: this.state.epoch,
      step: this.state.step,
      ms,
      maps,
      ...(explanation && { explanation }),
      ...(caption && { caption }),
    });
  }

  /** Whether this epoch's validation result ends the run. */
  private earlyStop(metrics: Record<string, number>): boolean {
    const es = this.config.earlyStopping;
    if (!es) return false;
    const s = this.state;
    const higher = es.monitor === 'val_accuracy';
    const v = metrics[es.monitor];
    const better = s.best === null || (higher ? v > s.best + es.minDelta : v < s.best - es.minDelta);
    if (better) {
      s.best = v;
      s.badEpochs = 0;
      return false;
    }
    return ++s.badEpochs >= es.patience;
  }

  /** Trains to the end, to a stop or to an early stop; resolves with the final report. */
  async run(): Promise<TrainEventOf<'done'>> {
    const resumedFrom = this.opts.resumeFrom ? await this.restore(this.opts.resumeFrom) : null;
    if (!resumedFrom) await this.loadStartingWeights();
    if (this.workers.workers > 1)
      this.parallel = await DataParallel.start({
        tf: this.tf,
        backend: this.tf.getBackend(),
        graph: this.graph,
        config: this.config,
        trained: this.trained,
        classes: this.classes,
        model: this.model,
        vars: this.vars,
        workers: this.workers.workers,
      });
    try {
      return await this.train(resumedFrom);
    } finally {
      if (this.parallel)
        for (const k of Object.keys(this.parallelStats) as (keyof typeof this.parallelStats)[]) this.parallelStats[k] += this.parallel.stats[k];
      await this.parallel?.dispose();
      this.parallel = null;
    }
  }

  private async train(resumedFrom: string | null): Promise<TrainEventOf<'done'>> {
    const { tf, config: c, opts } = this;
    const { train, validation } = opts.data;
    const batches = Math.ceil(train.size / c.batchSize);
    const total = c.epochs * batches;
    const backend = opts.backend?.name ?? tf.getBackend();
    const adapter = opts.backend?.adapter;
    this.emit({
      type: 'started',
      backend,
      adapter,
      skipped: opts.backend?.skipped ?? [],
      runDir: opts.runDir?.path ?? null,
      params: this.compiled.params,
      trainSamples: train.size,
      validationSamples: validation.size,
      classNames: [...opts.data.classNames],
      epochs: c.epochs,
      batchesPerEpoch: batches,
      resumedFrom,
      ...(backend === 'wasm' || backend === 'cpu' ? { cpuWorkers: { ...this.workers } } : {}),
    });
    const s = this.state;
    let reason: TrainEventOf<'done'>['reason'] = 'completed';
    let trainMs = 0;
    let samples = 0;
    run: while (s.epoch < c.epochs) {
      train.startEpoch?.(s.epoch);
      const order = permutation(train.size, deriveSeed(c.seed, 'epoch', s.epoch));
      const epochStart = performance.now();
      const pausedBefore = this.pausedMs;
      while (s.batch < batches) {
        if (await this.control()) {
          await this.checkpoint('stop');
          reason = 'stopped';
          break run;
        }
        const t0 = performance.now();
        const idx = order.subarray(s.batch * c.batchSize, (s.batch + 1) * c.batchSize);
        const lr = learningRate(c, s.step, total, batches);
        this.compiled.clock.step = s.step;
        const batch = await this.step(idx, lr);
        samples += idx.length;
        s.batch++;
        s.step++;
        // Throughput counts everything between batches (probes, checkpoints), not validation.
        const rate = (samples / (trainMs + performance.now() - t0)) * 1000;
        const m = this.metricsOf(s.sums, '', false);
        this.emit({
          type: 'progress',
          epoch: s.epoch,
          epochs: c.epochs,
          batch: s.batch,
          batches,
          step: s.step,
          loss: m.loss,
          accuracy: m.accuracy,
          batchLoss: batch.loss,
          batchAccuracy: batch.accuracy,
          lr,
          samplesPerSec: rate,
          etaSec: ((total - s.step) * c.batchSize) / rate,
        });
        if (c.checkpointEvery && s.step % c.checkpointEvery === 0) await this.checkpoint('interval');
        if (this.probeRequested || this.probe.due(s.step)) await this.runProbe();
        trainMs += performance.now() - t0;
      }
      const metrics = { ...this.metricsOf(s.sums, '', false), ...(await this.evaluate(validation)) };
      const seconds = (performance.now() - epochStart - (this.pausedMs - pausedBefore)) / 1000;
      const row = { epoch: s.epoch, step: s.step, seconds, ...metrics };
      s.history.push(row);
      this.emit({ type: 'epoch', epoch: s.epoch, step: s.step, seconds, metrics });
      const stopEarly = this.earlyStop(metrics);
      s.epoch++;
      s.batch = 0;
      s.sums = {};
      // The checkpoint holds the row; metrics.jsonl gets it after, so a kill in
      // between never leaves a row that a resume would write again.
      await this.checkpoint('epoch');
      await opts.runDir?.appendMetrics(row);
      if (stopEarly) {
        reason = 'early-stopped';
        break;
      }
    }
    if (this.probe.active) await this.runProbe();
    const last = s.history.at(-1);
    const metrics = last ? metricsOf(last) : await this.evaluate(validation);
    const done: TrainEventOf<'done'> = {
      type: 'done',
      reason,
      backend,
      adapter,
      samplesPerSec: trainMs > 0 ? (samples / trainMs) * 1000 : 0,
      metrics,
      epochs: s.epoch,
      steps: s.step,
      runDir: opts.runDir?.path ?? null,
    };
    this.emit(done);
    return done;
  }

  /** Time the probes took (`explainMs` of it explaining), for the throughput report. */
  get probeStats(): { runs: number; ms: number; explainMs: number } {
    return { runs: this.probe.runs, ms: this.probe.totalMs, explainMs: this.probe.explainMs };
  }

  dispose(): void {
    this.probe.dispose();
    this.optimizer.dispose();
    this.model.dispose();
  }
}
