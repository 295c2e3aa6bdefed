// Real training runs through the training process: one written into a run folder
// with its run.json, as `attn train` does, for tests that read runs back (the Runs
// tab, Compare); one whose probes' attention events are kept, for the live panels.
import { TrainingClient } from '../../engine/worker/client.js';
import type { StartCommand } from '../../engine/worker/protocol.js';
import type { TrainEventOf } from '../../engine/schemas/train-events.js';
import { RunFolder, RunJournal } from '../../engine/runs/index.js';
import type { GraphFile } from '../../engine/graph/types.js';

export interface RunSettings {
  lr: number;
  epochs?: number;
  limit?: number;
  batchSize?: number;
}

/** Trains `graph` on MNIST (CPU) into `dir`. */
export async function trainRun(dir: string, graph: GraphFile, { lr, epochs = 2, limit = 200, batchSize = 20 }: RunSettings): Promise<void> {
  const client = TrainingClient.start({
    graph,
    dataset: { name: 'mnist', limit, seed: 1 },
    config: { epochs, batchSize, lr, seed: 1 },
    backend: 'cpu',
    out: { dir },
  });
  let journal: Promise<RunJournal | undefined> = Promise.resolve(undefined);
  client.on('event', (e) => {
    if (e.type === 'started') journal = RunJournal.begin(RunFolder.open(dir), { name: graph.name, dataset: 'mnist', epochs: e.epochs });
    void journal.then((j) => j?.follow(e));
  });
  await client.done;
  await (await journal)?.settled();
}

/** Trains as the app and `attn train` do (the training process, killed however it ends) and returns the probes' attention events. */
export async function probeEvents(start: Omit<StartCommand, 'type'>): Promise<TrainEventOf<'attention'>[]> {
  const client = TrainingClient.start(start);
  const probes: TrainEventOf<'attention'>[] = [];
  client.on('event', (e) => {
    if (e.type === 'attention') probes.push(e);
  });
  try {
    await client.done;
  } finally {
    client.kill('SIGKILL');
  }
  return probes;
}
