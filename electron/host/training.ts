// Runs training in its own process and keeps each run's run.json (state, final
// metrics) and batch log next to what the trainer writes (engine/runs'
// RunJournal, which `attn train` keeps too). The process itself is launched by
// the shell: a forked Node process (browser mode, tests) or an Electron utilityProcess.
import { TrainingClient } from '../../engine/worker/client.js';
import type { StartCommand, TrainEvent } from '../../engine/worker/protocol.js';
import { isFinal, RunFolder, RunJournal, type RunState } from '../../engine/runs/index.js';
import type { TrainingEvent, Unsubscribe } from '../../common/host-api/api.js';
import type { TrainingDriver, TrainingStart } from './options.js';

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
  journal: RunJournal;
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
    const busy = [...this.live.values()].find((r) => !isFinal(r.journal.summary.state));
    if (busy) throw new Error(`run "${busy.journal.summary.runId}" is still training: stop it first`);
    // The run folder comes into being here, once the run is accepted.
    const journal = await RunJournal.begin(RunFolder.open(req.runDir), {
      name: req.graph.name,
      dataset: req.dataset.name,
      epochs: req.config?.epochs,
      continued: req.resume !== undefined,
    });
    const session = this.launch({
      graph: req.graph,
      dataset: req.dataset,
      config: req.config,
      backend: req.backend,
      ...(req.pytorch ? { pytorch: req.pytorch } : {}),
      ...(req.resume ? { resumeFrom: req.resume } : { out: { dir: req.runDir } }),
    });
    const run: Live = { session, journal };
    this.live.set(req.runId, run);
    session.on('event', (e) => this.onTrainEvent(req.runId, run, e));
    session.done.then(
      () => undefined,
      (err: Error) => {
        if (isFinal(journal.summary.state)) return;
        void this.setState(req.runId, run, 'failed', err.message);
      },
    );
    this.emit(req.runId, { type: 'state', state: 'starting' });
  }

  private onTrainEvent(runId: string, run: Live, e: TrainEvent): void {
    this.emit(runId, e);
    const before = run.journal.summary.state;
    const saved = run.journal.follow(e);
    // A state change is announced once run.json says so (a listener may read the runs list).
    const after = run.journal.summary.state;
    if (after !== before) void saved.then(() => this.emit(runId, { type: 'state', state: after })).catch(() => undefined);
  }

  /** Records the state in run.json, then tells the listeners. */
  private async setState(runId: string, run: Live, state: RunState, message?: string): Promise<void> {
    await run.journal.setState(state, message);
    this.emit(runId, { type: 'state', state, message });
  }

  private running(runId: string): Live {
    const run = this.live.get(runId);
    if (!run || isFinal(run.journal.summary.state)) throw new Error(`run "${runId}" is not training`);
    return run;
  }

  async pause(runId: string): Promise<void> {
    const run = this.running(runId);
    run.session.pause();
    await this.setState(runId, run, 'paused');
  }

  async resume(runId: string): Promise<void> {
    const run = this.running(runId);
    run.session.resume();
    await this.setState(runId, run, 'running');
  }

  async stop(runId: string): Promise<void> {
    const run = this.running(runId);
    run.session.stop();
    await this.setState(runId, run, 'stopping');
  }

  async dispose(): Promise<void> {
    for (const run of this.live.values()) if (!isFinal(run.journal.summary.state)) run.session.kill();
    await Promise.allSettled([...this.live.values()].map((r) => r.session.done));
  }
}
