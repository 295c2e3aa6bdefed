// The training form: dataset and hyperparameters as the user sets them, turned
// into a startTraining request for the graph on the canvas.
import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import type { DatasetRequest, GraphFile } from '../../../common/host-api/api.js';
import type { StartRequest } from './session.js';
import { TRAINING_BACKENDS } from '../../../common/host-api/api.js';

export const SYNTHETIC = ['copy', 'reverse', 'sort', 'recall'] as const;
export const BACKENDS = TRAINING_BACKENDS;

export interface TrainForm {
  /** mnist, fashion-mnist, a synthetic task, or 'import' (an image folder or a .csv file). */
  dataset: string;
  importPath: string;
  csvLabel: string;
  /** 0: all samples. */
  limit: number;
  validationSplit: number;
  seqLength: number;
  vocab: number;
  size: number;
  optimizer: 'sgd' | 'adam' | 'adamw';
  lr: number;
  schedule: 'constant' | 'step' | 'cosine';
  warmupSteps: number;
  minLr: number;
  stepEpochs: number;
  gamma: number;
  momentum: number;
  weightDecay: number;
  batchSize: number;
  epochs: number;
  seed: number;
  probeSamples: number;
  probeEvery: number;
  probeIntervalMs: number;
  backend: (typeof BACKENDS)[number];
  /** Loss weight per output node (overrides the Output node's own weight for this run). */
  lossWeights: Record<string, number>;
}

export const defaultForm = (): TrainForm => ({
  dataset: 'mnist',
  importPath: '',
  csvLabel: '',
  limit: 2048,
  validationSplit: 0.1,
  seqLength: 0,
  vocab: 0,
  size: 2048,
  optimizer: 'adam',
  lr: 1e-3,
  schedule: 'constant',
  warmupSteps: 0,
  minLr: 0,
  stepEpochs: 10,
  gamma: 0.1,
  momentum: 0.9,
  weightDecay: 0,
  batchSize: 32,
  epochs: 1,
  seed: 0,
  probeSamples: 4,
  probeEvery: 5,
  probeIntervalMs: 500,
  backend: 'auto',
  lossWeights: {},
});

export const trainForm = createStore<TrainForm>()(() => defaultForm());

export function useTrainForm<T>(selector: (s: TrainForm) => T): T {
  return useStore(trainForm, selector);
}

export const setForm = (patch: Partial<TrainForm>) => trainForm.setState(patch);

/** Settings a graph file carries (`training`, `dataset`) over the form's defaults. */
export function formFromGraph(graph: GraphFile): Partial<TrainForm> {
  const t = (graph.training ?? {}) as Record<string, unknown>;
  const d = (graph.dataset ?? {}) as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const out: Partial<TrainForm> = {};
  if (typeof d.name === 'string') out.dataset = d.name.replace(/^synthetic:/, '');
  if (num(d.limit)) out.limit = num(d.limit);
  if (typeof t.optimizer === 'string' && ['sgd', 'adam', 'adamw'].includes(t.optimizer)) out.optimizer = t.optimizer as TrainForm['optimizer'];
  const lr = num(t.lr) ?? num(t.learningRate);
  if (lr) out.lr = lr;
  if (num(t.batchSize)) out.batchSize = num(t.batchSize);
  if (num(t.epochs)) out.epochs = num(t.epochs);
  if (typeof t.schedule === 'string' && ['constant', 'step', 'cosine'].includes(t.schedule)) out.schedule = t.schedule as TrainForm['schedule'];
  return out;
}

/** The Output nodes of a graph with their loss weights. */
export function outputsOf(graph: GraphFile): { id: string; weight: number }[] {
  return graph.nodes.filter((n) => n.type === 'io.output').map((n) => ({ id: n.id, weight: typeof n.params.weight === 'number' ? n.params.weight : 1 }));
}

export const isSynthetic = (name: string) => (SYNTHETIC as readonly string[]).includes(name);

export function datasetRequest(f: TrainForm): DatasetRequest {
  if (f.dataset === 'import') return { name: f.importPath.trim(), validationSplit: f.validationSplit, ...(f.limit > 0 ? { limit: f.limit } : {}), ...(f.csvLabel.trim() ? { label: f.csvLabel.trim() } : {}), seed: f.seed };
  if (isSynthetic(f.dataset))
    return { name: f.dataset, validationSplit: f.validationSplit, size: f.size, seed: f.seed, ...(f.seqLength >= 2 ? { length: f.seqLength } : {}), ...(f.vocab >= 2 ? { vocab: f.vocab } : {}) };
  return { name: f.dataset, validationSplit: f.validationSplit, seed: f.seed, ...(f.limit > 0 ? { limit: f.limit } : {}) };
}

export function startRequest(f: TrainForm, graph: GraphFile): StartRequest {
  // Loss weights are the Output nodes' own parameter: the run trains a copy of the graph with them set.
  const trained: GraphFile = {
    ...graph,
    nodes: graph.nodes.map((n) => (n.type === 'io.output' && f.lossWeights[n.id] !== undefined ? { ...n, params: { ...n.params, weight: f.lossWeights[n.id] } } : n)),
  };
  return {
    graph: trained,
    dataset: datasetRequest(f),
    backend: f.backend,
    config: {
      epochs: f.epochs,
      batchSize: f.batchSize,
      optimizer: f.optimizer,
      lr: f.lr,
      momentum: f.momentum,
      ...(f.weightDecay > 0 ? { weightDecay: f.weightDecay } : {}),
      schedule: f.schedule,
      warmupSteps: f.warmupSteps,
      stepEpochs: f.stepEpochs,
      gamma: f.gamma,
      minLr: f.minLr,
      seed: f.seed,
      probe: { enabled: f.probeSamples > 0, samples: Math.max(1, f.probeSamples), everyBatches: f.probeEvery, minIntervalMs: f.probeIntervalMs },
    },
  };
}
