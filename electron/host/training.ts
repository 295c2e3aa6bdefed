// Runs training in its own process and keeps each run's run.json (state, final
// metrics) next to what the trainer writes. The process itself is launched by the
// shell: a forked Node process (browser mode, tests) or an Electron utilityProcess.
import { appendFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { TrainingClient } from '../../engine/worker/client.js';
import type { StartCommand, TrainEvent } from '../../engine/worker/protocol.js';
import type { RunState, RunSummary, TrainingEvent, Unsubscribe } from '../../common/host-api/api.js';
import { writeAtomic, type TrainingDriver, type TrainingStart } from './service.js';
import { BATCH_LOG } from './runs.js';

/** A running training process, as TrainingClient presents it. */
export interface TrainingSession {
  on(event: 'event', listener: (e: TrainEvent) => void): unknown;
  /** Settles when the process ends: resolves after `done`, rejects with the reason otherwise. */
  readonly done: Promise<unknown>;
  pause(): void;
  resume(): void;
  stop(): void;
  kill(): void;
}

export type LaunchTraining = (start: Omit<StartCommand, 'type'>) => TrainingSession;

/** Browser mode and tests: a forked Node process (engine/worker). */
export const forkTraining: LaunchTraining = (start) => TrainingClient.start(start);

interface Live {
  session: TrainingSession;
  summary: RunSummary;
  file: string;
  /** run.json writes, one after the other, so an older state never lands last. */
  saving: Promise<void>;
  /** Appends to the batch log, in order. */
  logging: Promise<void>;
}

export class ProcessTrainingDriver implements TrainingDriver {
  private readonly listeners = new Set<(runId: string, event: TrainingEvent) => void>();
  private readonly live = new Map<string, Live>();

  constructor(private readonly launch: LaunchTraining) {}

  onEvent(listener: (runId: string, event: TrainingEvent) => void): Unsubscribe {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  private emit(runId: string, event: TrainingEvent): void {
    for (const l of this.listeners) l(runId, event);
  }

  async start(req: TrainingStart): Promise<void> {
    // Two cores do not train two models well; the editor shows one live run anyway.
    const busy = [...this.live.values()].find((r) => !isFinal(r.summary.state));
    if (busy) throw new Error(`run "${busy.summary.runId}" is still training: stop it first`);
    const file = path.join(req.runDir, 'run.json');
    const earlier = req.resume ? await readSummary(file) : undefined;
    const summary: RunSummary = {
      ...earlier,
      runId: req.runId,
      name: earlier?.name ?? req.graph.name,
      state: 'starting',
      startedAt: earlier?.startedAt ?? new Date().toISOString(),
      dataset: req.dataset.name,
      epochs: req.config?.epochs,
      finalMetrics: earlier?.finalMetrics ?? {},
    };
    delete summary.message;
    const run: Live = { session: undefined as unknown as TrainingSession, summary, file, saving: Promise.resolve(), logging: Promise.resolve() };
    await this.save(run);
    run.session = this.launch({
      graph: req.graph,
      dataset: req.dataset,
      config: req.config,
      backend: req.backend,
      ...(req.pytorch ? { pytorch: req.pytorch } : {}),
      ...(req.resume ? { resumeFrom: req.resume } : { out: { dir: req.runDir } }),
    });
    this.live.set(req.runId, run);
    run.session.on('event', (e) => this.onTrainEvent(run, e));
    run.session.done.then(
      () => undefined,
      (err: Error) => {
        if (isFinal(run.summary.state)) return;
        void this.setState(run, 'failed', err.message);
      },
    );
    this.emit(req.runId, { type: 'state', state: 'starting' });
  }

  private onTrainEvent(run: Live, e: TrainEvent): void {
    this.emit(run.summary.runId, e);
    if (e.type === 'progress') {
      // The batches as streamed, so that a reopened run draws its per-batch charts again.
      const line = `${JSON.stringify({ step: e.step, epoch: e.epoch, loss: e.loss, accuracy: e.accuracy, lr: e.lr })}\n`;
      run.logging = run.logging.then(() => appendFile(path.join(path.dirname(run.file), BATCH_LOG), line)).catch(() => undefined);
    } else if (e.type === 'started') {
      run.summary.backend = e.backend;
      // A pause or stop asked for while the process was starting stays in force (the worker applies it).
      if (run.summary.state === 'starting') void this.setState(run, 'running');
      else void this.save(run);
    } else if (e.type === 'epoch') {
      run.summary.finalMetrics = e.metrics;
      void this.save(run);
    } else if (e.type === 'done') {
      run.summary.finalMetrics = e.metrics;
      void this.setState(run, e.reason === 'stopped' ? 'stopped' : 'done');
    }
  }

  /** Records the state in run.json, then tells the listeners (so a listener that reads the runs list sees it). */
  private async setState(run: Live, state: RunState, message?: string): Promise<void> {
    run.summary.state = state;
    if (message) run.summary.message = message;
    await this.save(run);
    this.emit(run.summary.runId, { type: 'state', state, message });
  }

  private save(run: Live): Promise<void> {
    const text = `${JSON.stringify(run.summary, null, 2)}\n`;
    run.saving = run.saving.catch(() => undefined).then(() => writeAtomic(run.file, text));
    return run.saving;
  }

  private running(runId: string): Live {
    const run = this.live.get(runId);
    if (!run || isFinal(run.summary.state)) throw new Error(`run "${runId}" is not training`);
    return run;
  }

  async pause(runId: string): Promise<void> {
    const run = this.running(runId);
    run.session.pause();
    await this.setState(run, 'paused');
  }

  async resume(runId: string): Promise<void> {
    const run = this.running(runId);
    run.session.resume();
    await this.setState(run, 'running');
  }

  async stop(runId: string): Promise<void> {
    const run = this.running(runId);
    run.session.stop();
    await this.setState(run, 'stopping');
  }

  async dispose(): Promise<void> {
    for (const run of this.live.values()) if (!isFinal(run.summary.state)) run.session.kill();
    await Promise.allSettled([...this.live.values()].map((r) => r.session.done));
  }
}

const isFinal = (s: RunState) => s === 'done' || s === 'stopped' || s === 'failed';

async function readSummary(file: string): Promise<RunSummary | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as RunSummary;
  } catch {
    return undefined;
  }
}
