// The desktop shell's training process: engine/worker run in an Electron
// utilityProcess (see training-entry.ts), presented as a TrainingSession for
// training and as a WorkerProcess for inspection.
import { utilityProcess, type UtilityProcess } from 'electron';
import { EventEmitter } from 'node:events';
import type { WorkerProcess } from '../engine/worker/client.js';
import { InspectionPool } from '../engine/worker/inspect-pool.js';
import { eventSchema, type InspectCommand, type Inspection, type TrainEvent } from '../engine/worker/protocol.js';

// The training process loads native addons (Dawn for webgpu, libtensorflow) that are not signed with the
// app's identity: on macOS it runs as the helper that may load them.
const forkUtility = (entry: string) =>
  utilityProcess.fork(entry, [], { serviceName: 'Attention Studio training', stdio: 'inherit', allowLoadingUnsignedLibraries: true });
import type { LaunchTraining, TrainingSession } from './host/training.js';

class UtilityTrainingSession extends EventEmitter<{ event: [TrainEvent] }> implements TrainingSession {
  readonly done: Promise<void>;
  private readonly child: UtilityProcess;
  private finished = false;

  constructor(entry: string, start: Parameters<LaunchTraining>[0]) {
    super();
    this.child = forkUtility(entry);
    this.done = new Promise<void>((resolve, reject) => {
      const fail = (message: string) => {
        if (this.finished) return;
        this.finished = true;
        reject(new Error(message));
        this.child.kill();
      };
      this.child.on('message', (raw: unknown) => {
        const parsed = eventSchema.safeParse(raw);
        if (!parsed.success) return fail(`the training process sent a malformed event: ${parsed.error.issues[0]?.message}`);
        const e = parsed.data;
        this.emit('event', e);
        if (e.type === 'error') fail(`training failed: ${e.message}`);
        if (e.type === 'done' && !this.finished) {
          this.finished = true;
          resolve();
        }
      });
      this.child.on('exit', (code) => fail(`the training process exited with code ${code} before the run finished`));
    });
    this.done.catch(() => undefined);
    this.child.postMessage({ type: 'start', ...start });
  }

  pause(): void {
    this.child.postMessage({ type: 'pause' });
  }
  resume(): void {
    this.child.postMessage({ type: 'resume' });
  }
  stop(): void {
    this.child.postMessage({ type: 'stop' });
  }
  kill(): void {
    this.child.kill();
  }
}

export function utilityTraining(entry: string): LaunchTraining {
  return (start) => new UtilityTrainingSession(entry, start);
}

/** Inspection in a utility process, like training: one kept for call after call (the app's quit ends it). */
export function utilityInspect(entry: string): (cmd: InspectCommand) => Promise<Inspection> {
  const spawn = (): WorkerProcess => {
    const child = forkUtility(entry);
    let alive = true;
    child.on('exit', () => (alive = false));
    return {
      send: (m) => child.postMessage(m),
      onMessage: (l) => void child.on('message', l),
      onEnd: (l) => void child.on('exit', (code) => l(`exited with code ${code}`)),
      kill: () => void (alive && child.kill()),
    };
  };
  const pool = new InspectionPool({ spawn });
  return (cmd) => pool.inspect(cmd);
}
