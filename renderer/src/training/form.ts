// The training form: dataset and hyperparameters as the user sets them, turned
// into a startTraining request for the graph on the canvas. Its defaults, choices
// and ranges are those of the training schema (trainConfigSchema) and the dataset
// schema, which the CLI and the training process validate with too.
import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import type { z } from 'zod';
import type { DatasetRequest, GraphFile, HostRequest, TrainConfigInput } from '../../../common/host-api/api.js';
import { datasetSpecSchema, isSyntheticTask, pytorchOptionsSchema, trainConfigSchema, TRAINING_BACKENDS } from '../../../common/host-api/api.js';
import { registry } from '../../../engine/blocks/registry.js';
import { savedDatasetSettings } from '../../../engine/graph/training-section.js';
import type { ExportFineTuning } from '../../../engine/schemas/export-fine-tuning.js';

export const BACKENDS = TRAINING_BACKENDS;
export const TORCH_DEVICES = pytorchOptionsSchema.shape.device.unwrap().options;

/** What starts a run: the host's startTraining request, with the dataset as the form names it. */
export type StartRequest = Omit<HostRequest<'startTraining'>, 'dataset'> & { dataset: DatasetRequest };

const train = trainConfigSchema.shape;
const probe = train.probe.def.innerType.shape;
const dataset = datasetSpecSchema.shape;
const TRAIN_DEFAULTS = trainConfigSchema.parse({});

export const OPTIMIZERS = train.optimizer.unwrap().options;
export const SCHEDULES = train.schedule.unwrap().options;

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
  /** digit-captions: new training canvases every epoch. */
  freshEachEpoch: boolean;
  optimizer: (typeof OPTIMIZERS)[number];
  lr: number;
  schedule: (typeof SCHEDULES)[number];
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
  /** Backend pytorch: the interpreter ('' : found by the host), torch device and ranks on this machine. */
  pythonPath: string;
  torchDevice: (typeof TORCH_DEVICES)[number];
  nproc: number;
  /** With several ranks: BatchNorm statistics over the global batch, not each rank's shard. */
  syncBatchNorm: boolean;
  /** Loss weight per output node (overrides the Output node's own weight for this run). */
  lossWeights: Record<string, number>;
  /** Fine-tuning: the run holding loaded weights ('' : start from the graph's initialisation). */
  initWeights: string;
  /** Node ids or prefixes to freeze, separated by commas or spaces. */
  freeze: string;
  /** Learning-rate multipliers as "node=0.1, stage3=0.5". */
  lrMultipliers: string;
  /** A new head for the dataset's classes. */
  newHead: boolean;
  /** ImageNet preprocessing (resize, centre crop, mean/std) for image datasets. */
  imagenet: boolean;
}

export const defaultForm = (): TrainForm => {
  const t = TRAIN_DEFAULTS;
  return {
    dataset: 'mnist',
    importPath: '',
    csvLabel: '',
    limit: 2048,
    validationSplit: datasetSpecSchema.parse({ name: 'x' }).validationSplit,
    seqLength: 0,
    vocab: 0,
    size: 2048,
    freshEachEpoch: false,
    optimizer: t.optimizer,
    lr: t.lr,
    schedule: t.schedule,
    warmupSteps: t.warmupSteps,
    minLr: t.minLr,
    stepEpochs: t.stepEpochs,
    gamma: t.gamma,
    momentum: t.momentum,
    weightDecay: t.weightDecay ?? 0,
    batchSize: t.batchSize,
    epochs: t.epochs,
    seed: t.seed,
    probeSamples: t.probe.samples,
    probeEvery: t.probe.everyBatches,
    probeIntervalMs: t.probe.minIntervalMs,
    backend: BACKENDS[0],
    pythonPath: '',
    torchDevice: pytorchOptionsSchema.shape.device.parse(undefined),
    nproc: pytorchOptionsSchema.shape.nproc.parse(undefined),
    syncBatchNorm: pytorchOptionsSchema.shape.syncBatchNorm.parse(undefined),
    lossWeights: {},
    initWeights: '',
    freeze: '',
    lrMultipliers: '',
    newHead: false,
    imagenet: false,
  };
};

/** The freeze field as node patterns. */
export const freezeList = (text: string): string[] => text.split(/[\s,]+/).filter(Boolean);

/** "node=0.1, stage3=0.5" as multipliers; an entry that is not NAME=NUMBER ≥ 0 is named in the error. */
export function parseLrMultipliers(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of text.split(/[\s,]+/).filter(Boolean)) {
    const m = /^([^=]+)=(.+)$/.exec(entry);
    const v = m ? Number(m[2]) : NaN;
    if (!m || !Number.isFinite(v) || v < 0) throw new Error(`learning-rate multiplier "${entry}": write node=number (a number ≥ 0)`);
    out[m[1]] = v;
  }
  return out;
}

/** The fine-tuning part of a run's settings (empty when none is set). */
export function fineTuneConfig(f: TrainForm): Pick<TrainConfigInput, 'freeze' | 'lrMultipliers' | 'head' | 'initWeights'> {
  const freeze = freezeList(f.freeze);
  const lr = parseLrMultipliers(f.lrMultipliers);
  return {
    ...(freeze.length ? { freeze } : {}),
    ...(Object.keys(lr).length ? { lrMultipliers: lr } : {}),
    ...(f.newHead ? { head: {} } : {}),
    ...(f.initWeights ? { initWeights: f.initWeights } : {}),
  };
}

/** What the Export dialog sends with the graph: the form's freeze, learning-rate multipliers and ImageNet preset; undefined when none is set. */
export function formFineTuning(f: TrainForm): ExportFineTuning | undefined {
  const { freeze, lrMultipliers } = fineTuneConfig(f);
  const out: ExportFineTuning = { ...(freeze && { freeze }), ...(lrMultipliers && { lrMultipliers }), ...(f.imagenet && { imagenet: true }) };
  return Object.keys(out).length ? out : undefined;
}

export type NumberKey = { [K in keyof TrainForm]: TrainForm[K] extends number ? K : never }[keyof TrainForm];

/** A numeric field: the schema that checks it, and what 0 means where the form gives 0 a meaning of its own. */
interface NumberField {
  schema: z.ZodType<number | undefined>;
  /** 0 is allowed although the schema's minimum is higher (it means: all samples, from the graph, no probes). */
  zeroMeans?: string;
}

/** Each numeric form field's schema: the one source of its range and whether it takes integers. */
const NUMBER_FIELDS: Record<NumberKey, NumberField> = {
  limit: { schema: dataset.limit, zeroMeans: 'all samples' },
  validationSplit: { schema: dataset.validationSplit },
  seqLength: { schema: dataset.length, zeroMeans: "from the graph's input" },
  vocab: { schema: dataset.vocab, zeroMeans: "from the graph's input" },
  size: { schema: dataset.size },
  lr: { schema: train.lr },
  warmupSteps: { schema: train.warmupSteps },
  minLr: { schema: train.minLr },
  stepEpochs: { schema: train.stepEpochs },
  gamma: { schema: train.gamma },
  momentum: { schema: train.momentum },
  weightDecay: { schema: train.weightDecay },
  batchSize: { schema: train.batchSize },
  epochs: { schema: train.epochs },
  seed: { schema: train.seed },
  probeSamples: { schema: probe.samples, zeroMeans: 'no probes' },
  probeEvery: { schema: probe.everyBatches },
  probeIntervalMs: { schema: probe.minIntervalMs },
  nproc: { schema: pytorchOptionsSchema.shape.nproc },
};

interface Bounds {
  minValue?: number | null;
  maxValue?: number | null;
  isInt?: boolean | null;
  unwrap?: () => unknown;
}

/** The number schema under `.default()` / `.optional()` wrappers. */
function numberSchema(schema: unknown): Bounds {
  let s = schema as Bounds;
  while (typeof s.unwrap === 'function' && s.minValue === undefined) s = s.unwrap() as Bounds;
  return s;
}

/** The input attributes of a numeric field (min, max, step) as its schema sets them. */
export function numberRange(k: NumberKey): { min?: number; max?: number; step: number | 'any' } {
  const field = NUMBER_FIELDS[k];
  const n = numberSchema(field.schema);
  const finite = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  return { min: field.zeroMeans ? 0 : finite(n.minValue), max: finite(n.maxValue), step: n.isInt ? 1 : 'any' };
}

/** Whether a number is a valid value of a numeric field: the schema's own check (exclusive bounds included). */
export function numberValid(k: NumberKey, v: number): boolean {
  const field = NUMBER_FIELDS[k];
  return (field.zeroMeans !== undefined && v === 0) || field.schema.safeParse(v).success;
}

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
  const out: Partial<TrainForm> = { ...sequenceFromInput(graph) };
  if (typeof d.name === 'string') out.dataset = d.name.replace(/^synthetic:/, '');
  if (num(d.limit)) out.limit = num(d.limit);
  if (num(d.length)) out.seqLength = num(d.length);
  if (num(d.vocab)) out.vocab = num(d.vocab);
  if (num(d.size)) out.size = num(d.size);
  if (typeof d.freshEachEpoch === 'boolean') out.freshEachEpoch = d.freshEachEpoch;
  const optimizer = train.optimizer.safeParse(t.optimizer);
  if (t.optimizer !== undefined && optimizer.success) out.optimizer = optimizer.data;
  const lr = num(t.lr) ?? num(t.learningRate);
  if (lr) out.lr = lr;
  if (num(t.batchSize)) out.batchSize = num(t.batchSize);
  if (num(t.epochs)) out.epochs = num(t.epochs);
  const schedule = train.schedule.safeParse(t.schedule);
  if (t.schedule !== undefined && schedule.success) out.schedule = schedule.data;
  for (const key of ['stepEpochs', 'gamma', 'minLr'] as const) {
    const v = num(t[key]);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

const defaultsOf = (type: string): Record<string, unknown> =>
  Object.fromEntries(Object.entries(registry.get(type)?.params ?? {}).map(([k, spec]) => [k, (spec as { default: unknown }).default]));

/** A token input's length and vocabulary: what a synthetic task takes when the form names none. */
function sequenceFromInput(graph: GraphFile): Partial<TrainForm> {
  const input = graph.nodes.find((n) => n.type === 'io.input' && n.params.kind === 'tokens');
  if (!input) return { seqLength: 0, vocab: 0 };
  const p = { ...defaultsOf('io.input'), ...input.params };
  return { seqLength: Number(p.length), vocab: Number(p.vocabSize) };
}

/** The form as a run was started: its dataset and settings (a reopened run, shown again). */
export function formFromRequest({ dataset: d, config: c = {} as NonNullable<StartRequest['config']>, backend }: StartRequest): Partial<TrainForm> {
  const out: Partial<TrainForm> = {
    ...formFromGraph({ ...({} as GraphFile), nodes: [], edges: [], dataset: d, training: c } as GraphFile),
    lossWeights: {},
  };
  if (d.validationSplit !== undefined) out.validationSplit = d.validationSplit;
  if (d.seed !== undefined) out.seed = d.seed;
  if (backend) out.backend = backend;
  const t = trainConfigSchema.safeParse(c);
  if (t.success) {
    const v = t.data;
    Object.assign(out, {
      momentum: v.momentum,
      weightDecay: v.weightDecay ?? 0,
      warmupSteps: v.warmupSteps,
      stepEpochs: v.stepEpochs,
      gamma: v.gamma,
      minLr: v.minLr,
      seed: v.seed,
      probeSamples: v.probe.enabled ? v.probe.samples : 0,
      probeEvery: v.probe.everyBatches,
      probeIntervalMs: v.probe.minIntervalMs,
    });
  }
  return out;
}

/** The Output nodes of a graph with their loss weights. */
export function outputsOf(graph: GraphFile): { id: string; weight: number }[] {
  return graph.nodes.filter((n) => n.type === 'io.output').map((n) => ({ id: n.id, weight: typeof n.params.weight === 'number' ? n.params.weight : 1 }));
}

export const isSynthetic = isSyntheticTask;

/** The built-in captions dataset, whose training canvases can be made anew each epoch. */
export const DIGIT_CAPTIONS = 'digit-captions';

export function datasetRequest(f: TrainForm): DatasetRequest {
  if (f.dataset === 'import')
    return {
      name: f.importPath.trim(),
      ...(f.imagenet ? { normalize: 'imagenet' as const } : {}),
      validationSplit: f.validationSplit,
      ...(f.limit > 0 ? { limit: f.limit } : {}),
      ...(f.csvLabel.trim() ? { label: f.csvLabel.trim() } : {}),
      seed: f.seed,
    };
  if (isSynthetic(f.dataset))
    return {
      name: f.dataset,
      validationSplit: f.validationSplit,
      size: f.size,
      seed: f.seed,
      ...(f.seqLength >= 2 ? { length: f.seqLength } : {}),
      ...(f.vocab >= 2 ? { vocab: f.vocab } : {}),
    };
  return {
    name: f.dataset,
    validationSplit: f.validationSplit,
    seed: f.seed,
    ...(f.limit > 0 ? { limit: f.limit } : {}),
    ...(f.dataset === DIGIT_CAPTIONS && { freshEachEpoch: f.freshEachEpoch }),
  };
}

/** The pytorch backend's settings, as the host takes them. */
function torchRequest(f: TrainForm) {
  return {
    ...(f.pythonPath.trim() ? { python: f.pythonPath.trim() } : {}),
    device: f.torchDevice,
    nproc: f.nproc,
    ...(f.nproc > 1 ? { syncBatchNorm: f.syncBatchNorm } : {}),
  };
}

/** The dataset settings the form has fields for; the graph file's section keeps the others (a text template's minCount). */
const FORM_DATASET_KEYS = ['limit', 'length', 'vocab', 'size', 'seed', 'validationSplit', 'label', 'normalize', 'freshEachEpoch'];

/** The dataset a run trains on: the form's, over what the graph file saved for it that the form does not show. */
export function runDataset(f: TrainForm, graph: GraphFile): DatasetRequest {
  const request = datasetRequest(f);
  const saved = savedDatasetSettings(graph.dataset as Record<string, unknown> | undefined, request.name);
  const unshown = Object.fromEntries(Object.entries(saved).filter(([k]) => !FORM_DATASET_KEYS.includes(k)));
  return { ...unshown, ...request };
}

export function startRequest(f: TrainForm, graph: GraphFile): StartRequest {
  // Loss weights are the Output nodes' own parameter: the run trains a copy of the graph with them set.
  const trained: GraphFile = {
    ...graph,
    nodes: graph.nodes.map((n) =>
      n.type === 'io.output' && f.lossWeights[n.id] !== undefined ? { ...n, params: { ...n.params, weight: f.lossWeights[n.id] } } : n,
    ),
  };
  return {
    graph: trained,
    dataset: runDataset(f, graph),
    backend: f.backend,
    ...(f.backend === 'pytorch' ? { pytorch: torchRequest(f) } : {}),
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
      ...fineTuneConfig(f),
    },
  };
}
