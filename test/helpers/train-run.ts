// Real training runs through the training process: one written into a run folder
// with its run.json, as `attn train` does, for tests that read runs back (the Runs
// tab, Compare); one whose probes' attention events are kept, for the live panels.
import { TrainingClient } from '../../engine/worker/client.js';
import type { StartCommand } from '../../engine/worker/protocol.js';
import type { TrainEventOf } from '../../engine/schemas/train-events.js';
import { RunFolder, RunJournal, RUN_FILES } from '../../engine/runs/index.js';
import type { GraphFile } from '../../engine/graph/types.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { prepareData } from '../../engine/data/index.js';
import { explain, type Explanation, type ExplainRequest } from '../../engine/explain/index.js';
import { inputHint } from '../../engine/train/setup.js';
import { loadTrainedModel } from '../../engine/worker/run-model.js';

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

/** engine/explain's map, by `method`, of a run's first validation sample on its final checkpoint: what the run's last probe should equal. */
export async function explainOnFinalWeights(graph: GraphFile, dir: string, method: ExplainRequest['method']): Promise<Explanation> {
  const tf = await (await import('./tf.js')).tfReady; // loaded only here: the e2e tests import this file too
  const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const data = await prepareData(config.dataset, inputHint(graph));
  const { compiled } = await loadTrainedModel(tf, graph, dir);
  const { x } = data.validation.batch(tf, [0]);
  try {
    return await explain(tf, graph, compiled, x, { method });
  } finally {
    x.dispose();
    compiled.model.dispose();
  }
}

/** The summary (run.json) of a finished one-epoch MNIST run, for a run folder a test writes by hand. */
export function writeFinishedSummary(run: RunFolder, runId: string, name: string): Promise<void> {
  return run.writeJson(RUN_FILES.summary, { runId, name, state: 'done', startedAt: new Date().toISOString(), dataset: 'mnist', epochs: 1, finalMetrics: {} });
}
