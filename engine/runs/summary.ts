// run.json: a run's state and final numbers, which the app's Runs list shows.
// Kept by whoever drives the training process (the app's host, `attn train`)
// from the process's events, so runs from either show in the list.
import path from 'node:path';
import { RUN_FILES } from './layout.js';
import type { RunFolder } from './run-folder.js';
import { RUN_STATES, type RunState, type RunSummary } from './types.js';

/** The fields of the training process's events (engine/train's TrainEvent) that run.json and the batch log follow. */
export interface JournalEvent {
  type: string;
  backend?: string;
  step?: number;
  epoch?: number;
  loss?: number;
  accuracy?: number;
  batchLoss?: number;
  batchAccuracy?: number;
  lr?: number;
  metrics?: Record<string, number>;
  reason?: string;
}

/** A run folder's run.json, read leniently (a run written by an older version still lists); undefined when there is none. */
export async function readSummary(run: RunFolder): Promise<RunSummary | undefined> {
  const r = (await run.readJson(RUN_FILES.summary)) as Partial<RunSummary> | undefined;
  if (!r || typeof r !== 'object') return undefined;
  const runId = path.basename(run.path);
  return {
    runId,
    name: typeof r.name === 'string' ? r.name : runId,
    state: RUN_STATES.includes(r.state as RunState) ? (r.state as RunState) : 'failed',
    startedAt: typeof r.startedAt === 'string' ? r.startedAt : '',
    dataset: r.dataset,
    epochs: r.epochs,
    backend: r.backend,
    finalMetrics: r.finalMetrics ?? {},
    message: r.message,
  };
}

/**
 * Keeps run.json and the batch log of one run as its events arrive. Writes go
 * one after the other, so an older state never lands last.
 */
export class RunJournal {
  private saving: Promise<void> = Promise.resolve();
  private logging: Promise<void> = Promise.resolve();

  private constructor(
    readonly run: RunFolder,
    readonly summary: RunSummary,
  ) {}

  /** Starts run.json for a new run, or continues an earlier run's (its name, start time and numbers stay). */
  static async begin(run: RunFolder, start: { name: string; dataset?: string; epochs?: number; continued?: boolean }): Promise<RunJournal> {
    const earlier = start.continued ? await readSummary(run) : undefined;
    const summary: RunSummary = {
      ...earlier,
      runId: path.basename(run.path),
      name: earlier?.name ?? start.name,
      state: 'starting',
      startedAt: earlier?.startedAt ?? new Date().toISOString(),
      dataset: start.dataset,
      epochs: start.epochs,
      finalMetrics: earlier?.finalMetrics ?? {},
    };
    delete summary.message;
    const journal = new RunJournal(run, summary);
    await journal.save();
    return journal;
  }

  /** Follows one event of the training process; resolves once run.json says so. */
  follow(e: JournalEvent): Promise<void> {
    switch (e.type) {
      case 'progress': {
        // The batches as streamed, so that a reopened run draws its per-batch charts again.
        const row = { step: e.step!, epoch: e.epoch!, loss: e.loss!, accuracy: e.accuracy, batchLoss: e.batchLoss, batchAccuracy: e.batchAccuracy, lr: e.lr! };
        this.logging = this.logging.then(() => this.run.appendBatch(row)).catch(() => undefined);
        return this.logging;
      }
      case 'started':
        this.summary.backend = e.backend;
        // A pause or stop asked for while the process was starting stays in force.
        return this.summary.state === 'starting' ? this.setState('running') : this.save();
      case 'epoch':
        this.summary.finalMetrics = e.metrics ?? {};
        return this.save();
      case 'done':
        this.summary.finalMetrics = e.metrics ?? {};
        return this.setState(e.reason === 'stopped' ? 'stopped' : 'done');
      default:
        return Promise.resolve();
    }
  }

  /** Resolves when every write asked for so far is done. */
  async settled(): Promise<void> {
    await Promise.allSettled([this.saving, this.logging]);
  }

  setState(state: RunState, message?: string): Promise<void> {
    this.summary.state = state;
    if (message) this.summary.message = message;
    return this.save();
  }

  private save(): Promise<void> {
    const snapshot = structuredClone(this.summary);
    this.saving = this.saving.catch(() => undefined).then(() => this.run.writeJson(RUN_FILES.summary, snapshot));
    return this.saving;
  }
}
