// The training process: forked by TrainingClient, it trains one run and exits.
// A crash or an out-of-memory here never takes the editor or the CLI down.
import { commandSchema, type Inspection, type TrainEvent } from './protocol.js';
import { inspectSample } from './inspect.js';
import { setupRun } from '../train/setup.js';
import { PytorchRun } from '../pytorch/run.js';

/** What the process drives: the tfjs Trainer or a PyTorch run. */
type Run = Pick<PytorchRun, 'pause' | 'resume' | 'stop' | 'requestProbe' | 'run' | 'dispose'>;
import type { GraphFile } from '../graph/types.js';

/** Progress events are sent at most this often (each batch's numbers go to metrics at epoch end anyway). */
const PROGRESS_MS = 100;

let trainer: Run | undefined;
/** Pause or stop asked for while the run was still being set up: applied before its first batch. */
let early: 'pause' | 'stop' | undefined;
let lastProgress = 0;

function send(e: TrainEvent | Inspection): Promise<void> {
  return new Promise((resolve) => (process.connected ? process.send!(e, undefined, undefined, () => resolve()) : resolve()));
}

function forward(e: TrainEvent): void {
  if (e.type === 'progress') {
    const now = performance.now();
    if (now - lastProgress < PROGRESS_MS && e.batch < e.batches) return;
    lastProgress = now;
  }
  void send(e);
}

async function start(cmd: Extract<ReturnType<typeof commandSchema.parse>, { type: 'start' }>): Promise<void> {
  const { backend, ...req } = { ...cmd, graph: cmd.graph as GraphFile };
  trainer = backend === 'pytorch' ? await PytorchRun.setup(req, forward) : await setupRun({ ...req, backend }, forward);
  if (early) trainer[early]();
  await trainer.run();
  trainer.dispose();
}

async function fail(err: unknown): Promise<never> {
  await send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}

process.on('message', (raw) => {
  const parsed = commandSchema.safeParse(raw);
  if (!parsed.success) return void fail(new Error(`bad command: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ')}`));
  const cmd = parsed.data;
  switch (cmd.type) {
    case 'start':
      if (trainer) return void fail(new Error('this training process is already running a run'));
      start(cmd).then(() => process.connected && process.disconnect(), fail);
      break;
    case 'inspect':
      if (trainer) return void fail(new Error('this training process is running a run'));
      inspectSample(cmd).then(send).then(() => process.disconnect(), fail);
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
process.on('disconnect', () => trainer?.stop());
