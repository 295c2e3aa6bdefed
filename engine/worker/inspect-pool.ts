// Inspection through a small pool of long-lived training processes. Starting a
// process (Node, tfjs, the dataset, the model) per call made 8 concurrent calls
// 8 processes and 811 MB; here calls queue for at most `size` processes, each of
// which keeps its model between calls (engine/worker/inspect.ts), goes away after
// `idleMs` without work, and is replaced when it dies.
import { forkWorker, type WorkerProcess } from './client.js';
import { inspectionSchema, type Command, type InspectCommand, type Inspection } from './protocol.js';

export interface InspectionPoolOptions {
  /** Starts one inspection process (a forked Node process by default; a utility process in the desktop app). */
  spawn?: () => WorkerProcess;
  /** At most this many processes at once. */
  size?: number;
  /** A process with no work for this long ends. */
  idleMs?: number;
  /** A call that takes longer ends its process and fails. */
  timeoutMs?: number;
}

interface Job {
  cmd: InspectCommand;
  resolve(value: Inspection): void;
  reject(err: Error): void;
}

interface Slot {
  proc: WorkerProcess;
  job?: Job;
  timer?: NodeJS.Timeout;
  idle?: NodeJS.Timeout;
}

export class InspectionPool {
  private readonly spawn: () => WorkerProcess;
  private readonly size: number;
  private readonly idleMs: number;
  private readonly timeoutMs: number;
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  private disposed = false;

  constructor(opts: InspectionPoolOptions = {}) {
    this.spawn = opts.spawn ?? (() => forkWorker());
    this.size = Math.max(1, opts.size ?? 1);
    this.idleMs = opts.idleMs ?? 60_000;
    this.timeoutMs = opts.timeoutMs ?? 120_000;
  }

  /** Runs one sample through a run's checkpoint; queues while every process is busy. */
  inspect(cmd: InspectCommand): Promise<Inspection> {
    if (this.disposed) return Promise.reject(new Error('the inspection pool is closed'));
    return new Promise<Inspection>((resolve, reject) => {
      this.queue.push({ cmd, resolve, reject });
      this.pump();
    });
  }

  /** Processes alive now. */
  get processes(): number {
    return this.slots.size;
  }

  /** Ends every process; queued calls fail. */
  dispose(): void {
    this.disposed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('the inspection pool was closed'));
    for (const slot of [...this.slots]) this.end(slot, new Error('the inspection pool was closed'));
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const slot = [...this.slots].find((s) => !s.job) ?? (this.slots.size < this.size ? this.start() : undefined);
      if (!slot) return;
      this.run(slot, this.queue.shift()!);
    }
  }

  private start(): Slot {
    const slot: Slot = { proc: this.spawn() };
    this.slots.add(slot);
    slot.proc.onMessage((raw) => {
      const job = slot.job;
      if (!job) return;
      const e = raw as { type?: string; message?: string };
      if (e?.type === 'error') return this.settle(slot, () => job.reject(new Error(`inspection failed: ${e.message}`)));
      const parsed = inspectionSchema.safeParse(raw);
      if (!parsed.success) return this.end(slot, new Error(`the inspection process sent a malformed inspection: ${parsed.error.issues[0]?.message}`));
      this.settle(slot, () => job.resolve(parsed.data));
    });
    slot.proc.onEnd((how) => this.end(slot, new Error(`the inspection process ${how} before answering`)));
    return slot;
  }

  private run(slot: Slot, job: Job): void {
    clearTimeout(slot.idle);
    slot.job = job;
    slot.timer = setTimeout(() => this.end(slot, new Error(`the inspection took longer than ${this.timeoutMs / 1000} s`)), this.timeoutMs);
    slot.proc.send({ type: 'inspect', ...job.cmd } satisfies Command);
  }

  /** A call answered: the process takes the next one, or waits for one a while. */
  private settle(slot: Slot, answer: () => void): void {
    clearTimeout(slot.timer);
    slot.job = undefined;
    answer();
    slot.idle = setTimeout(() => this.end(slot), this.idleMs);
    slot.idle.unref();
    this.pump();
  }

  /** The process is gone (or made to go): its call fails with `err`, and the queue moves on with a new one. */
  private end(slot: Slot, err?: Error): void {
    if (!this.slots.delete(slot)) return;
    clearTimeout(slot.timer);
    clearTimeout(slot.idle);
    slot.proc.kill();
    if (slot.job && err) slot.job.reject(err);
    slot.job = undefined;
    if (!this.disposed) this.pump();
  }
}
