// The host's side of comparing runs and of sweeps: run folders read side by
// side (engine/runs/compare.ts), and sweeps started from the app, run here
// (each trial its own training process) into <runs>/sweeps/<id>/.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { compareRuns, RUN_FILES, RunFolder, runFolderName, type RunComparison } from '../../engine/runs/index.js';
import { checkGraphSchema } from '../../engine/graph/schema.js';
import { goalOf, ranking, readManifest, Sweep, SweepParamError, type SweepManifest } from '../../engine/sweep/index.js';
import { runSettings } from '../../engine/schemas/train-config.js';
import type { GraphLoad, HostRequestParsed, SweepDetail, SweepSummary } from '../../common/host-api/api.js';

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function checkId(id: string, what: string): string {
  if (!ID.test(id)) throw new Error(`"${id}" is not a ${what} id`);
  return id;
}

export class SweepHost {
  private readonly running = new Map<string, Sweep>();

  constructor(private readonly runsDir: string) {}

  get sweepsDir(): string {
    return path.join(this.runsDir, 'sweeps');
  }

  /** Runs of the Runs list side by side; a run id may name a sweep's trial as sweeps/<sweep>/<trial>. */
  compare(runIds: readonly string[]): Promise<RunComparison> {
    return compareRuns(
      runIds.map((id) => this.runDir(id)),
      { settingsOf: runSettings },
    );
  }

  private runDir(runId: string): string {
    const parts = runId.split('/');
    const plain = parts.length === 1 || (parts.length === 3 && parts[0] === 'sweeps');
    if (!plain) throw new Error(`"${runId}" is not a run id`);
    parts.forEach((p) => checkId(p, 'run'));
    return path.join(this.runsDir, ...parts);
  }

  async list(): Promise<SweepSummary[]> {
    let names: string[];
    try {
      names = await readdir(this.sweepsDir);
    } catch {
      return [];
    }
    const out: SweepSummary[] = [];
    for (const sweepId of names.filter((n) => ID.test(n))) {
      const m = await readManifest(path.join(this.sweepsDir, sweepId)).catch(() => undefined);
      if (m) out.push(summaryOf(sweepId, m, this.running.has(sweepId)));
    }
    return out.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  async open(sweepId: string): Promise<SweepDetail> {
    const m = await readManifest(path.join(this.sweepsDir, checkId(sweepId, 'sweep')));
    if (!m) throw new Error(`no sweep "${sweepId}"`);
    return { ...summaryOf(sweepId, m, this.running.has(sweepId)), params: m.spec.params, trials: m.trials, ranking: ranking(m).map((t) => t.id) };
  }

  /** A trial's graph, to open in the editor as a new, unsaved graph. */
  async trialGraph(sweepId: string, trialId: string): Promise<GraphLoad> {
    const run = RunFolder.open(path.join(this.sweepsDir, checkId(sweepId, 'sweep'), checkId(trialId, 'trial')));
    const json = await run.readJson(RUN_FILES.graph);
    if (json === undefined) throw new Error(`the trial ${trialId} of sweep ${sweepId} has no graph yet`);
    const r = checkGraphSchema(json);
    return { path: null, name: r.graph?.name ?? trialId, graph: r.graph, diagnostics: r.diagnostics };
  }

  /** Starts a sweep in the background; its progress shows through `open`. A bad --param is refused at once. */
  async start(req: HostRequestParsed<'startSweep'>): Promise<{ sweepId: string }> {
    const sweepId = path.basename(runFolderName(req.graph.name));
    const sweep = await Sweep.open({
      graph: req.graph,
      graphFile: req.graph.name,
      params: req.params,
      strategy: req.strategy,
      trials: req.trials,
      seed: req.seed,
      metric: req.metric,
      goal: goalOf(req.metric),
      earlyStop: req.earlyStop,
      dataset: req.dataset,
      limit: req.limit,
      backend: req.backend,
      train: Object.fromEntries(Object.entries({ epochs: req.epochs, batchSize: req.batchSize }).filter(([, v]) => v !== undefined)),
      parallel: req.parallel,
      dir: path.join(this.sweepsDir, sweepId),
    }).catch((err: Error) => {
      throw err instanceof SweepParamError ? new Error(err.message) : err;
    });
    this.running.set(sweepId, sweep);
    void sweep
      .run()
      .catch(() => undefined)
      .finally(() => this.running.delete(sweepId));
    return { sweepId };
  }

  stop(sweepId: string): void {
    this.running.get(sweepId)?.stop();
  }

  dispose(): void {
    for (const s of this.running.values()) s.stop();
  }
}

function summaryOf(sweepId: string, m: SweepManifest, live: boolean): SweepSummary {
  const best = m.trials.find((t) => t.id === m.best);
  return {
    sweepId,
    name: m.name,
    state: live ? 'running' : m.state === 'running' ? 'interrupted' : m.state,
    startedAt: m.startedAt,
    metric: m.spec.metric,
    goal: m.spec.goal,
    strategy: m.spec.strategy,
    total: m.trials.length,
    finished: m.trials.filter((t) => t.status === 'done' || t.status === 'pruned' || t.status === 'failed').length,
    best: m.best,
    bestMetric: best?.metric,
  };
}
