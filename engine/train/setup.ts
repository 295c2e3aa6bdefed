// From a run request (graph, dataset, settings) to a ready Trainer: backend,
// data shaped for the graph's input, run directory, resume point. The training
// process uses it; tests use it in-process.
import { selectBackend, type BackendOption } from '../backends/select.js';
import type { BlockRegistry } from '../blocks/registry.js';
import { analyzeGraph } from '../shapes/analyze.js';
import type { GraphFile } from '../graph/types.js';
import { prepareData, type DatasetSpec, type InputHint } from '../data/index.js';
import { trainConfigSchema, type TrainConfigInput } from '../schemas/train-config.js';
import { withHead } from './fine-tune.js';
import type { TrainEvent } from '../schemas/train-events.js';
import { RunFolder } from '../runs/index.js';
import { Trainer } from './trainer.js';
import type { ProbeExplainerFactory } from './probes.js';

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
  /** Explains a probe sample at each probe (the training process passes engine/explain's). */
  explainer?: ProbeExplainerFactory;
}

/** What the graph's (single) input takes, so datasets can shape themselves to it. */
export function inputHint(graph: GraphFile, registry?: BlockRegistry): InputHint | undefined {
  const a = analyzeGraph(graph, registry);
  const input = [...a.nodes.values()].find((n) => n.block.type === 'io.input');
  const shape = input?.outputShapes?.out;
  if (!input || !shape) return undefined;
  return { shape: shape.slice(1).map((d) => d ?? 1), vocab: input.params.kind === 'tokens' ? (input.params.vocabSize as number) : undefined };
}

export async function setupRun(req: RunRequest, onEvent?: (e: TrainEvent) => void): Promise<Trainer> {
  // Cleans up after a killed checkpoint write, then names the newest complete checkpoint.
  const resume = req.resumeFrom ? await RunFolder.forResume(req.resumeFrom) : undefined;
  const { tf, backend, adapter, skipped } = await selectBackend({ backend: req.backend });
  const data = await prepareData(req.dataset, inputHint(req.graph, req.registry));
  const config = { ...req.config, dataset: req.dataset, backend, ...(adapter && { adapter }) };
  const runDir =
    req.out === null
      ? null
      : resume && !req.out?.dir
        ? resume.run
        : await RunFolder.create({
            base: req.out?.base,
            dir: req.out?.dir,
            name: req.graph.name,
            graph: withHead(req.graph, trainConfigSchema.parse(req.config ?? {}).head, data.classNames.length).graph,
            config,
            vocabulary: data.vocabulary,
          });
  return new Trainer({
    tf,
    backend: { name: backend, adapter, skipped },
    graph: req.graph,
    registry: req.registry,
    data,
    config: req.config ?? {},
    runDir,
    resumeFrom: resume?.checkpoint,
    onEvent,
    explainer: req.explainer,
  });
}
