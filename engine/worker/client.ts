// The parent side of the training process: forks it, sends typed commands,
// validates and re-emits its events, and turns an unexpected exit (a crash, a
// kill, an out-of-memory) into a clear error that says what was saved.
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import {
  eventSchema,
  inspectionSchema,
  SERIALIZATION,
  type Command,
  type InspectCommand,
  type Inspection,
  type StartCommand,
  type TrainEvent,
} from './protocol.js';

const PROCESS = new URL('./process.js', import.meta.url);

/**
 * Each event by its type, every event as 'event', and the process's 'exit'. A
 * failure is not re-emitted as 'error' (an unheard 'error' would throw): it
 * rejects `done`.
 */
type EventName = Exclude<TrainEvent['type'], 'error'> | 'event' | 'exit';
type Events = {
  [K in EventName]: K extends 'event' ? [TrainEvent] : K extends 'exit' ? [number | null, NodeJS.Signals | null] : [Extract<TrainEvent, { type: K }>];
};
type Done = Extract<TrainEvent, { type: 'done' }>;

export class TrainingError extends Error {
  constructor(
    message: string,
    /** The last checkpoint written before the failure, if any. */
    readonly lastCheckpoint: string | null,
  ) {
    super(message);
    this.name = 'TrainingError';
  }
}

export class TrainingClient extends EventEmitter<Events> {
  readonly child: ChildProcess;
  /** Resolves with the done event; rejects with a TrainingError. */
  readonly done: Promise<Done>;
  private lastCheckpoint: string | null = null;
  private position = '';
  private finished = false;

  private constructor(start: StartCommand, opts: { execArgv?: string[] }) {
    super();
    this.child = fork(PROCESS, [], { serialization: SERIALIZATION, execArgv: opts.execArgv ?? [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.done = new Promise<Done>((resolve, reject) => {
      this.child.on('message', (raw) => {
        const parsed = eventSchema.safeParse(raw);
        if (!parsed.success) return this.fail(reject, `the training process sent a malformed event: ${parsed.error.issues[0]?.message}`);
        const e = parsed.data;
        if (e.type === 'checkpoint') this.lastCheckpoint = e.path;
        if (e.type === 'progress') this.position = ` during epoch ${e.epoch + 1}, batch ${e.batch}/${e.batches}`;
        this.emit('event', e);
        if (e.type !== 'error') (this.emit as (t: string, e: TrainEvent) => void)(e.type, e);
        if (e.type === 'done') {
          this.finished = true;
          resolve(e);
        }
        if (e.type === 'error') this.fail(reject, `training failed: ${e.message}`);
      });
      this.child.on('error', (err) => this.fail(reject, `the training process could not run: ${err.message}`));
      this.child.on('exit', (code, signal) => {
        this.emit('exit', code, signal);
        if (this.finished) return;
        const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
        const saved = this.lastCheckpoint ? `the last checkpoint, ${this.lastCheckpoint}, is intact` : 'no checkpoint had been written';
        this.fail(reject, `the training process ${how}${this.position}; ${saved}`);
      });
    });
    // A rejection nobody awaits yet must not crash the parent; callers see it through `done`.
    this.done.catch(() => {});
    this.send(start);
  }

  /** Forks a training process and starts the run. */
  static start(start: Omit<StartCommand, 'type'>, opts: { execArgv?: string[] } = {}): TrainingClient {
    return new TrainingClient({ type: 'start', ...start }, opts);
  }

  private fail(reject: (e: Error) => void, message: string): void {
    if (this.finished) return;
    this.finished = true;
    reject(new TrainingError(message, this.lastCheckpoint));
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
  }

  private send(cmd: Command): void {
    if (this.child.connected) this.child.send(cmd);
  }

  pause(): void {
    this.send({ type: 'pause' });
  }
  resume(): void {
    this.send({ type: 'resume' });
  }
  /** Stops after the current batch, with a checkpoint; `done` then resolves with reason 'stopped'. */
  stop(): void {
    this.send({ type: 'stop' });
  }
  probe(): void {
    this.send({ type: 'probe' });
  }
  /** Ends the process at once (what a crash looks like to the client). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child.kill(signal);
  }
}

/**
 * A process running the training worker, as an inspection drives it: a forked
 * Node process here, an Electron utilityProcess in the desktop app.
 */
export interface WorkerProcess {
  /** The operating system's process id, where known. */
  readonly pid?: number;
  send(message: Command): void;
  onMessage(listener: (raw: unknown) => void): void;
  /** The process ended, or could not start; `how` says which ("exited with code 1"). */
  onEnd(listener: (how: string) => void): void;
  kill(): void;
}

/** The training worker in a forked Node process (`module`: an entry that runs it, such as the desktop one). */
export function forkWorker(opts: { module?: string | URL; execArgv?: string[] } = {}): WorkerProcess {
  const child = fork(opts.module ?? PROCESS, [], {
    serialization: SERIALIZATION,
    execArgv: opts.execArgv ?? [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return {
    pid: child.pid,
    send: (m) => void child.send(m),
    onMessage: (l) => void child.on('message', l),
    onEnd: (l) => {
      child.on('error', (err) => l(`could not run: ${err.message}`));
      child.on('exit', (code, signal) => l(signal ? `was killed (${signal})` : `exited with code ${code}`));
    },
    kill: () => void (child.exitCode === null && child.signalCode === null && child.kill()),
  };
}

/**
 * Runs one sample (a validation sample or a given image) through a run's
 * checkpoint in a training process of its own (tfjs never loads in the caller)
 * and resolves with the prediction and every attention map.
 */
export function inspectInProcess(cmd: InspectCommand, opts: { spawn?: () => WorkerProcess; timeoutMs?: number } = {}): Promise<Inspection> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const child = opts.spawn ? opts.spawn() : forkWorker();
  return new Promise<Inspection>((resolve, reject) => {
    let settled = false;
    const settle = (err: Error | null, value?: Inspection) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill();
      if (err) reject(err);
      else resolve(value!);
    };
    const timer = setTimeout(() => settle(new Error(`the inspection took longer than ${timeoutMs / 1000} s`)), timeoutMs);
    child.onMessage((raw) => {
      const e = raw as { type?: string; message?: string };
      if (e?.type === 'error') return settle(new Error(`inspection failed: ${e.message}`));
      const parsed = inspectionSchema.safeParse(raw);
      if (!parsed.success) return settle(new Error(`the training process sent a malformed inspection: ${parsed.error.issues[0]?.message}`));
      settle(null, parsed.data);
    });
    child.onEnd((how) => settle(new Error(`the training process ${how} before answering`)));
    child.send({ type: 'inspect', ...cmd } satisfies Command);
  });
}
