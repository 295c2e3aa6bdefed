// The training process: forked by TrainingClient, it trains one run and exits;
// forked by an InspectionPool, it answers inspections until its parent goes.
// A crash or an out-of-memory here never takes the editor or the CLI down.
import { commandSchema, type Inspection, type TrainEvent } from './protocol.js';
import { inspectSample } from './inspect.js';
import { setupRun } from '../train/setup.js';
import { isOutOfMemory } from '../train/memory.js';
import { PytorchRun } from '../pytorch/run.js';
import { liveExplainPlan, probeExplainer } from '../explain/live.js';

/** What the process drives: the tfjs Trainer or a PyTorch run. */
type Run = Pick<PytorchRun, 'pause' | 'resume' | 'stop' | 'requestProbe' | 'run' | 'dispose'>;
import type { GraphFile } from '../graph/types.js';

/** Progress events are sent at most this often (each batch's numbers go to metrics at epoch end anyway). */
const PROGRESS_MS = 100;

let trainer: Run | undefined;
/** Pause or stop asked for while the run was still being set up: applied before its first batch. */
let early: 'pause' | 'stop' | undefined;
let lastProgress = 0;
/** The newest event's send: the run waits for it before disconnecting, or a `done` queued behind large attention maps is lost. */
let sent: Promise<void> = Promise.resolve();
/** Inspections run one at a time, in the order asked. */
let inspections = Promise.resolve();
let inspecting = false;

function send(e: TrainEvent | Inspection): Promise<void> {
  return new Promise((resolve) => (process.connected ? process.send!(e, undefined, undefined, () => resolve()) : resolve()));
}

/** Where the run got to, for the message when memory runs out. */
let lastCheckpoint: string | undefined;
let position = '';

function forward(e: TrainEvent): void {
  if (e.type === 'checkpoint') lastCheckpoint = e.path;
  if (e.type === 'progress') {
    position = ` in epoch ${e.epoch + 1}, batch ${e.batch + 1}`;
    const now = performance.now();
    if (now - lastProgress < PROGRESS_MS && e.batch < e.batches) return;
    lastProgress = now;
  }
  sent = send(e);
}

async function start(cmd: Extract<ReturnType<typeof commandSchema.parse>, { type: 'start' }>): Promise<void> {
  const { backend, ...req } = { ...cmd, graph: cmd.graph as GraphFile };
  trainer =
    backend === 'pytorch'
      ? await PytorchRun.setup({ ...req, explainPlan: liveExplainPlan }, forward)
      : await setupRun({ ...req, backend, explainer: probeExplainer }, forward);
  if (early) trainer[early]();
  await trainer.run();
  trainer.dispose();
  await sent;
}

async function fail(err: unknown): Promise<never> {
  let message = err instanceof Error ? err.message : String(err);
  // wasm's bare Aborted() or V8's allocation failures: say what happened and what was kept.
  if (isOutOfMemory(err)) {
    const saved = lastCheckpoint ? `the last checkpoint, ${lastCheckpoint}, is intact` : 'no checkpoint had been written';
    message = `ran out of memory${position} (${message.split('\n')[0]}); ${saved}; try a smaller batch`;
  }
  await send({ type: 'error', message });
  process.exit(1);
}

process.on('message', (raw) => {
  const parsed = commandSchema.safeParse(raw);
  if (!parsed.success)
    return void fail(new Error(`bad command: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ')}`));
  const cmd = parsed.data;
  switch (cmd.type) {
    case 'start':
      if (trainer) return void fail(new Error('this training process is already running a run'));
      start(cmd).then(() => process.connected && process.disconnect(), fail);
      break;
    case 'inspect':
      if (trainer) return void fail(new Error('this training process is running a run'));
      // An inspection process answers call after call (engine/worker/inspect-pool.ts);
      // a failed inspection is an answer too, not the end of the process.
      inspecting = true;
      inspections = inspections
        .then(() => inspectSample(cmd))
        .then(send, (err: unknown) => send({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
      break;
    case 'pause':
      if (trainer) trainer.pause();
      else if (early !== 'stop') early = 'pause';
      break;
    case 'resume':
      if (trainer) trainer.resume();
      else if (early === 'pause') early = undefined;
      break;
    case 'stop':
      if (trainer) trainer.stop();
      else early = 'stop';
      break;
    case 'probe':
      trainer?.requestProbe();
      break;
  }
});
// The parent went away: nothing would read our events.
process.on('disconnect', () => {
  if (trainer) trainer.stop();
  else if (inspecting) process.exit(0);
});
