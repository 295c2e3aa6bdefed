// From a run request (graph, dataset, settings) to a ready Trainer: backend,
// data shaped for the graph's input, run directory, resume point. The training
// process uses it; tests use it in-process.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { selectBackend, type BackendOption } from '../backends/select.js';
import type { BlockRegistry } from '../blocks/registry.js';
import { analyzeGraph } from '../graph/analyze.js';
import type { GraphFile } from '../graph/types.js';
import { prepareData, type DatasetSpec, type InputHint } from '../data/index.js';
import type { TrainConfigInput } from './config.js';
import type { TrainEvent } from './events.js';
import { RunDir } from './run-dir.js';
import { Trainer } from './trainer.js';

export interface RunRequest {
  graph: GraphFile;
  dataset: DatasetSpec;
  config?: TrainConfigInput;
  backend?: BackendOption;
  /** The run folder: under `base` (default runs/) with a timestamped name, or exactly `dir`; null: write nothing. */
  out?: { base?: string; dir?: string } | null;
  /** A run folder, its checkpoints/ folder or one checkpoint: continue from there (in that run folder). */
  resumeFrom?: string;
  registry?: BlockRegistry;
}

/** What the graph's (single) input takes, so datasets can shape themselves to it. */
export function inputHint(graph: GraphFile, registry?: BlockRegistry): InputHint | undefined {
  const a = analyzeGraph(graph, registry);
  const input = [...a.nodes.values()].find((n) => n.block.type === 'io.input');
  const shape = input?.outputShapes?.out;
  if (!input || !shape) return undefined;
  return { shape: shape.slice(1).map((d) => d ?? 1), vocab: input.params.kind === 'tokens' ? (input.params.vocabSize as number) : undefined };
}

/** The run folder and checkpoint that `resumeFrom` names. */
export function resumePoint(from: string): { runDir: string; checkpoint: string } {
  if (existsSync(path.join(from, 'checkpoints', 'latest.json'))) return { runDir: from, checkpoint: path.join(from, 'checkpoints') };
  if (existsSync(path.join(from, 'latest.json'))) return { runDir: path.dirname(from), checkpoint: from };
  if (existsSync(path.join(from, 'trainer.json'))) return { runDir: path.dirname(path.dirname(from)), checkpoint: from };
  throw new Error(`nothing to resume at ${from}: not a run folder, a checkpoints folder or a checkpoint`);
}

export async function setupRun(req: RunRequest, onEvent?: (e: TrainEvent) => void): Promise<Trainer> {
  const { tf, backend, skipped } = await selectBackend({ backend: req.backend });
  const data = await prepareData(req.dataset, inputHint(req.graph, req.registry));
  const resume = req.resumeFrom ? resumePoint(req.resumeFrom) : undefined;
  const config = { ...req.config, dataset: req.dataset, backend };
  const runDir =
    req.out === null
      ? null
      : resume && !req.out?.dir
        ? RunDir.open(resume.runDir)
        : await RunDir.create({ base: req.out?.base, dir: req.out?.dir, name: req.graph.name, graph: req.graph, config });
  return new Trainer({ tf, backend: { name: backend, skipped }, graph: req.graph, registry: req.registry, data, config: req.config ?? {}, runDir, resumeFrom: resume?.checkpoint, onEvent });
}
