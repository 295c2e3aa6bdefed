// Runs a sweep: each trial an ordinary training process writing an ordinary
// run folder under the sweep folder, up to `parallel` at a time, bad trials
// stopped early, sweep.json kept after every change. Running the same sweep
// into the same folder again runs only the trials that have not finished.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { analyzeGraph } from '../shapes/analyze.js';
import { formatDiagnostic } from '../graph/types.js';
import { graphTrainingConfig } from '../graph/training-section.js';
import type { GraphFile } from '../graph/types.js';
import { RunFolder, RunJournal } from '../runs/index.js';
import { trainConfigSchema } from '../schemas/train-config.js';
import type { TrainingBackendOption } from '../schemas/backends.js';
import { TrainingClient } from '../worker/client.js';
import type { TrainEvent } from '../worker/protocol.js';
import { shouldStop, type EarlyStopRule } from './early-stop.js';
import { FINISHED, ranking, readManifest, SweepFileError, writeManifest, type SweepManifest, type SweepSpec, type TrialRecord } from './manifest.js';
import { applyToGraph, checkParams, describeValues, parseParams, trainingValues, type SweepParam } from './params.js';
import { trialValues, type Strategy } from './strategy.js';

export interface SweepOptions {
  graph: GraphFile;
  /** Where the graph came from (a file's absolute path, or the editor's graph name); recorded in the spec. */
  graphFile: string;
  params: string[];
  strategy: Strategy;
  trials?: number;
  seed: number;
  metric: string;
  goal: 'max' | 'min';
  earlyStop: EarlyStopRule;
  dataset: string;
  limit?: number;
  backend: TrainingBackendOption;
  /** Training settings for every trial, over the graph file's own. */
  train: Record<string, unknown>;
  /** Trials at a time (default: the cores). */
  parallel?: number;
  dir: string;
}

export type SweepEvent =
  | { type: 'resumed'; finished: number; total: number }
  | { type: 'trial-start'; trial: TrialRecord }
  | { type: 'trial-epoch'; trial: TrialRecord; epoch: number; value?: number }
  | { type: 'trial-end'; trial: TrialRecord };

/** How long a resumed sweep waits for a training process the killed sweep left behind. */
const ORPHAN_WAIT_MS = 30_000;

const trialId = (k: number) => `trial-${String(k + 1).padStart(3, '0')}`;

function specOf(o: SweepOptions): SweepSpec {
  return {
    graph: o.graphFile,
    params: o.params,
    strategy: o.strategy,
    trials: o.trials,
    seed: o.seed,
    metric: o.metric,
    goal: o.goal,
    earlyStop: o.earlyStop,
    dataset: o.dataset,
    limit: o.limit,
    backend: o.backend,
    train: o.train,
  };
}

/** The fields on which two specs differ, for the refusal to mix two sweeps in one folder. */
function specDifference(a: SweepSpec, b: SweepSpec): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)] as (keyof SweepSpec)[]);
  return [...keys].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Whether `pid` is still one of our training processes (and not a reused id). */
const isTrainingProcess = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('worker/process');
  } catch {
    return process.platform !== 'linux' && alive(pid);
  }
};

/**
 * A killed sweep leaves its training processes to stop on their own (they
 * checkpoint and exit when their parent goes); wait for them, then end any
 * that has not, before their folders are written again.
 */
async function awaitOrphan(pid: number | undefined): Promise<void> {
  if (pid === undefined || !isTrainingProcess(pid)) return;
  const until = Date.now() + ORPHAN_WAIT_MS;
  while (Date.now() < until && isTrainingProcess(pid)) await new Promise((r) => setTimeout(r, 200));
  if (isTrainingProcess(pid)) process.kill(pid, 'SIGKILL');
}

export class Sweep {
  private saving: Promise<void> = Promise.resolve();
  private readonly running = new Map<string, TrainingClient>();
  private readonly scores = new Map<string, number[]>();
  private interrupted = false;

  private constructor(
    readonly dir: string,
    readonly manifest: SweepManifest,
    private readonly params: SweepParam[],
    private readonly opts: SweepOptions,
    private readonly on: (e: SweepEvent) => void,
  ) {
    for (const t of manifest.trials) if (t.history) this.scores.set(t.id, this.oriented(t.history));
  }

  /**
   * A new sweep in `opts.dir`, or the one already there (same spec) to resume.
   * Throws a SweepParamError for a bad --param and a SweepFileError for a
   * folder that holds another sweep.
   */
  static async open(opts: SweepOptions, on: (e: SweepEvent) => void = () => {}): Promise<Sweep> {
    const params = parseParams(opts.params);
    checkParams(params, opts.graph);
    const spec = specOf(opts);
    const earlier = await readManifest(opts.dir);
    if (earlier) {
      const differ = specDifference(earlier.spec, spec);
      if (differ.length)
        throw new SweepFileError(`${opts.dir} holds a sweep with other settings (${differ.join(', ')}); give another --out, or the same settings to resume it`);
      const finished = earlier.trials.filter((t) => FINISHED.includes(t.status)).length;
      on({ type: 'resumed', finished, total: earlier.trials.length });
      return new Sweep(opts.dir, { ...earlier, state: 'running' }, params, opts, on);
    }
    const now = new Date().toISOString();
    const trials = trialValues(params, opts.strategy, { trials: opts.trials, seed: opts.seed }).map((values, k): TrialRecord => ({
      id: trialId(k),
      values,
      run: trialId(k),
      status: 'pending',
    }));
    await mkdir(opts.dir, { recursive: true });
    const manifest: SweepManifest = {
      format: 'attention-studio.sweep',
      version: 1,
      name: opts.graph.name,
      spec,
      state: 'running',
      startedAt: now,
      updatedAt: now,
      trials,
    };
    const sweep = new Sweep(opts.dir, manifest, params, opts, on);
    await sweep.save();
    return sweep;
  }

  /** Runs every unfinished trial; resolves with the manifest once all have ended (or the sweep was stopped). */
  async run(): Promise<SweepManifest> {
    const queue = this.manifest.trials.filter((t) => !FINISHED.includes(t.status));
    const k = Math.max(1, this.opts.parallel ?? availableParallelism());
    const lane = async () => {
      for (let t = queue.shift(); t && !this.interrupted; t = queue.shift()) await this.runTrial(t);
    };
    await Promise.all(Array.from({ length: Math.min(k, queue.length) }, lane));
    this.manifest.state = this.manifest.trials.every((t) => FINISHED.includes(t.status)) ? 'done' : 'interrupted';
    await this.save();
    return this.manifest;
  }

  /** Stops the running trials (they count as not run: a resumed sweep runs them again) and starts no more. */
  stop(): void {
    this.interrupted = true;
    for (const c of this.running.values()) c.stop();
  }

  private oriented(history: number[]): number[] {
    return this.opts.goal === 'min' ? history.map((v) => -v) : history;
  }

  private async runTrial(t: TrialRecord): Promise<void> {
    await awaitOrphan(t.pid);
    const runDir = path.join(this.dir, t.run);
    // What an interrupted attempt left is not a result; the trial starts over.
    if (existsSync(runDir)) await rm(runDir, { recursive: true, force: true });
    Object.assign(t, { status: 'running', startedAt: new Date().toISOString(), history: [] });
    for (const key of ['metric', 'metrics', 'error', 'seconds', 'pid'] as const) delete t[key];
    this.scores.delete(t.id);
    const began = Date.now();
    this.on({ type: 'trial-start', trial: t });
    try {
      await this.train(t, runDir);
    } catch (err) {
      if (this.interrupted) t.status = 'pending';
      else Object.assign(t, { status: 'failed', error: (err as Error).message });
    }
    t.seconds = Math.round((Date.now() - began) / 100) / 10;
    delete t.pid;
    this.rank();
    await this.save();
    this.on({ type: 'trial-end', trial: t });
  }

  private async train(t: TrialRecord, runDir: string): Promise<void> {
    const graph = applyToGraph(this.opts.graph, this.params, t.values);
    graph.name = `${this.opts.graph.name} [${describeValues(t.values)}]`;
    const problems = analyzeGraph(graph).diagnostics.filter((d) => d.severity === 'error');
    if (problems.length) throw new Error(problems.map((d) => formatDiagnostic(d, t.id)).join('; '));
    const settings = { ...graphTrainingConfig(graph.training), ...this.opts.train, ...trainingValues(this.params, t.values) };
    const parsed = trainConfigSchema.safeParse(settings);
    if (!parsed.success) throw new Error(`training settings refused: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const client = TrainingClient.start({
      graph,
      dataset: { name: this.opts.dataset, limit: this.opts.limit, seed: this.opts.seed },
      config: settings,
      backend: this.opts.backend,
      out: { dir: runDir },
    });
    this.running.set(t.id, client);
    t.pid = client.child.pid;
    await this.save();
    let journal: Promise<RunJournal | undefined> = Promise.resolve(undefined);
    let pruned = false;
    client.on('event', (e: TrainEvent) => {
      if (e.type === 'started' && e.runDir)
        journal = RunJournal.begin(RunFolder.open(e.runDir), { name: graph.name, dataset: this.opts.dataset, epochs: e.epochs }).catch(() => undefined);
      void journal.then((j) => j?.follow(e));
      if (e.type === 'epoch') {
        const value = e.metrics[this.opts.metric];
        // The run's end names the metrics it has (below).
        if (value === undefined) return client.stop();
        t.history = [...(t.history ?? []), value];
        this.scores.set(t.id, this.oriented(t.history));
        this.on({ type: 'trial-epoch', trial: t, epoch: e.epoch, value });
        if (!pruned && shouldStop(this.opts.earlyStop, this.scores, t.id, parsed.data.epochs)) {
          pruned = true;
          client.stop();
        }
        void this.save();
      }
    });
    try {
      const done = await client.done.catch(async (err: Error) => {
        await (await journal)?.setState('failed', err.message);
        throw err;
      });
      await (await journal)?.settled();
      const metric = pruned ? t.history!.at(-1)! : done.metrics[this.opts.metric];
      if (metric === undefined)
        throw new Error(`the run has no metric "${this.opts.metric}" (it reports ${Object.keys(done.metrics).join(', ')}); give --metric one of those`);
      if (done.reason === 'stopped' && !pruned) throw new Error('stopped before its end');
      Object.assign(t, { status: pruned ? 'pruned' : 'done', metric, metrics: done.metrics });
    } finally {
      this.running.delete(t.id);
    }
  }

  private rank(): void {
    this.manifest.best = ranking(this.manifest)[0]?.id;
  }

  /** Writes sweep.json; writes go one after the other, so an older state never lands last. */
  private save(): Promise<void> {
    this.manifest.updatedAt = new Date().toISOString();
    const snapshot = structuredClone(this.manifest);
    this.saving = this.saving.catch(() => undefined).then(() => writeManifest(this.dir, snapshot));
    return this.saving;
  }
}
