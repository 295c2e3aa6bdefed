// The one interface between the renderer and everything outside the page: files,
// templates, the block catalogue, datasets, training, runs and export.
//
// The desktop shell reaches it through the preload bridge (IPC), the browser mode
// through a WebSocket; both end in the same HostService. Every request is one
// object validated by the zod schema below before the service sees it, so a
// compromised or buggy renderer cannot hand the service malformed input.
//
// This module is imported by the renderer: zod and types only, no Node.
import { z } from 'zod';
import type { AttentionKind, ParamDef, Shape } from '../../engine/blocks/contract.js';
import type { Diagnostic, GraphFile } from '../../engine/graph/types.js';
import type { DataPreview, DatasetSpec } from '../../engine/schemas/dataset.js';
import type { AttentionMap, ProbeExplanation, TrainEvent } from '../../engine/schemas/train-events.js';
import { trainConfigSchema, type TrainConfigInput } from '../../engine/schemas/train-config.js';
// The vocabularies the renderer's forms are made from (schema modules: zod and data only).
export { trainConfigSchema };
export { datasetSpecSchema, isSyntheticTask, SYNTHETIC_TASKS } from '../../engine/schemas/dataset.js';
import { explainOptionsSchema, type Inspection } from '../../engine/schemas/inspection.js';
import { exportFineTuningSchema } from '../../engine/schemas/export-fine-tuning.js';
import type { BatchRow, MetricRow, RunState, RunSummary } from '../../engine/runs/types.js';
import { TRAINING_BACKEND_OPTIONS } from '../../engine/schemas/backends.js';
export { adapterLabel, type GpuAdapter } from '../../engine/schemas/backends.js';
export { wordMap, type CaptionRecord } from '../../engine/schemas/caption.js';
import type { CaptionRecord } from '../../engine/schemas/caption.js';
import type { RunComparison } from '../../engine/runs/types.js';
import type { TrialRecord } from '../../engine/sweep/types.js';

export type { Diagnostic, GraphFile, Shape, AttentionKind, TrainEvent, AttentionMap, ProbeExplanation, TrainConfigInput, Inspection };

// ---------------------------------------------------------------- requests

const MAX_PATH = 4096;
/** A file-system path; absolute in the desktop app, relative to the workspace in browser mode. */
export const pathSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_PATH)
  .refine((p) => !p.includes('\0'), 'must not contain NUL');
const idSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be letters, digits, ".", "_" or "-"');
/** A graph as the editor holds it; the service checks it against the graph schema itself and answers with diagnostics. */
const graphSchema = z.looseObject({}) as unknown as z.ZodType<GraphFile>;
const empty = z.strictObject({});

import { EXPORT_FORMAT_IDS, type ExportFormat } from '../../engine/blocks/emit/targets.js';
export {
  EXPORT_FORMATS,
  EXPORT_FORMAT_IDS,
  EXPORT_TARGETS,
  EXPORT_TARGET_IDS,
  type ExportFormat,
  type ExportTarget,
} from '../../engine/blocks/emit/targets.js';

/**
 * What to train on: a built-in dataset (mnist, fashion-mnist), a synthetic task (copy,
 * reverse, sort, recall), or an image folder / .csv file (a path, confined to the
 * workspace in browser mode). The service checks the rest against engine/data's schema.
 */
const datasetRequest = z.looseObject({ name: z.string().min(1).max(MAX_PATH) });
export type DatasetRequest = z.input<typeof datasetRequest> & Omit<DatasetSpec, 'name'>;

export const TRAINING_BACKENDS = TRAINING_BACKEND_OPTIONS;
/** Backend `pytorch`: the interpreter (default: found as `findPytorch` finds it), torch device and ranks. */
export const pytorchOptionsSchema = z.strictObject({
  python: z.string().min(1).max(MAX_PATH).optional(),
  device: z.enum(['auto', 'cuda', 'mps', 'cpu']).default('auto'),
  nproc: z.number().int().min(1).max(64).default(1),
  /** With several ranks: BatchNorm statistics over the global batch rather than each rank's shard. */
  syncBatchNorm: z.boolean().default(true),
});

const runRef = z.strictObject({ runId: idSchema });

/** The largest image `inspectImage` takes (the file's bytes, before base64). */
export const MAX_IMAGE_BYTES = 16 * 1024 * 1024;
/** Why a file of this size cannot be inspected, or undefined when it can. */
export const imageTooLarge = (name: string, bytes: number): string | undefined =>
  bytes > MAX_IMAGE_BYTES ? `${name} is ${(bytes / 2 ** 20).toFixed(1)} MiB; images of at most ${MAX_IMAGE_BYTES / 2 ** 20} MiB can be inspected` : undefined;
/** A dropped image file: its name (shown, and named in errors) and its bytes as base64 (requests travel as JSON). */
const imageFileSchema = z.strictObject({
  name: z.string().min(1).max(255),
  base64: z
    .string()
    .max(Math.ceil(MAX_IMAGE_BYTES / 3) * 4, `must be at most ${MAX_IMAGE_BYTES / 1024 / 1024} MiB`)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64'),
});
export type ImageFile = z.input<typeof imageFileSchema>;

/** One zod schema per method: the transports validate with these, and the request types derive from them. */
export const requestSchemas = {
  info: empty,

  // Files. `openFile`/`saveFileAs` without a path show the native dialog in the desktop
  // app; in browser mode (no dialogs) the renderer lists files and passes the path.
  openFile: z.strictObject({ path: pathSchema.optional() }),
  saveFile: z.strictObject({ path: pathSchema, graph: graphSchema }),
  saveFileAs: z.strictObject({ graph: graphSchema, path: pathSchema.optional(), suggestedName: z.string().max(200).optional() }),
  listFiles: z.strictObject({ dir: pathSchema.optional() }),
  readGraph: z.strictObject({ path: pathSchema }),
  writeGraph: z.strictObject({ path: pathSchema, graph: graphSchema }),
  /** Checks a graph (schema and semantics) without touching the disk. */
  checkGraph: z.strictObject({ graph: graphSchema }),

  recentFiles: empty,
  clearRecentFiles: empty,

  // Crash recovery: the editor writes its graph every few seconds; a clean close clears it.
  writeRecovery: z.strictObject({ graph: graphSchema, path: pathSchema.nullable().default(null), dirty: z.boolean().default(true) }),
  readRecovery: empty,
  clearRecovery: empty,

  listTemplates: empty,
  loadTemplate: z.strictObject({ id: idSchema }),

  blockCatalogue: empty,
  listDatasets: empty,

  startTraining: z.strictObject({
    graph: graphSchema,
    dataset: datasetRequest as unknown as z.ZodType<DatasetRequest>,
    config: trainConfigSchema.optional(),
    backend: z.enum(TRAINING_BACKENDS).default('auto'),
    pytorch: pytorchOptionsSchema.optional(),
    /**
     * Continue an earlier run (in its own folder) from its latest or a named checkpoint;
     * `moreEpochs`: train that many epochs past the checkpoint's (config.epochs is then ignored).
     */
    resumeFrom: z.strictObject({ runId: idSchema, checkpoint: idSchema.optional(), moreEpochs: z.number().int().min(1).max(100_000).optional() }).optional(),
  }),
  /** The Python with PyTorch that a `pytorch` run would use (`python`: that interpreter only), or why there is none. */
  findPytorch: z.strictObject({ python: z.string().min(1).max(MAX_PATH).optional() }),
  pauseTraining: runRef,
  resumeTraining: runRef,
  stopTraining: runRef,

  listRuns: empty,
  openRun: runRef,
  /** The attention maps of one stored snapshot of a run. */
  readSnapshot: z.strictObject({ runId: idSchema, step: z.number().int().min(0) }),
  /** Loads a dataset as training would (shaped for `graph`'s input) and shows a few samples, or what is wrong with it. */
  previewDataset: z.strictObject({ dataset: datasetRequest as unknown as z.ZodType<DatasetRequest>, graph: graphSchema.optional() }),
  /** One validation sample through a run's checkpoint (its latest by default): the prediction and every attention map (and, asked for, explanations). */
  inspectSample: z.strictObject({ runId: idSchema, index: z.number().int().min(0), checkpoint: idSchema.optional(), explain: explainOptionsSchema.optional() }),
  /** A PNG or JPEG through a run's checkpoint, fitted to the model's input as its dataset's images were. */
  inspectImage: z.strictObject({ runId: idSchema, image: imageFileSchema, checkpoint: idSchema.optional(), explain: explainOptionsSchema.optional() }),
  /** A typed text through a run trained on text, tokenised with the run's vocabulary. */
  inspectText: z.strictObject({
    runId: idSchema,
    text: z.string().min(1).max(100_000),
    checkpoint: idSchema.optional(),
    explain: explainOptionsSchema.optional(),
  }),

  /** fineTuning: the Training form's, written over the graph's training section (engine/export/fine-tune-settings.ts). */
  exportCode: z.strictObject({ graph: graphSchema, target: z.enum(EXPORT_FORMAT_IDS), fineTuning: exportFineTuningSchema.optional() }),

  /** Two runs or more side by side (a sweep's trial: sweeps/<sweep>/<trial>). */
  compareRuns: z.strictObject({ runIds: z.array(z.string().min(1).max(420)).min(2).max(12) }),
  listSweeps: empty,
  openSweep: z.strictObject({ sweepId: idSchema }),
  sweepTrialGraph: z.strictObject({ sweepId: idSchema, trialId: idSchema }),
  /** A sweep of `graph` over `params` (the `attn sweep --param` syntax), run by the host. */
  startSweep: z.strictObject({
    graph: graphSchema,
    params: z.array(z.string().min(1).max(500)).min(1).max(20),
    strategy: z.enum(['grid', 'random']).default('grid'),
    trials: z.number().int().min(1).max(1000).optional(),
    seed: z.number().int().min(0).default(0),
    metric: z.string().min(1).max(100).default('val_accuracy'),
    earlyStop: z.enum(['none', 'median', 'halving']).default('median'),
    dataset: z.string().min(1).max(MAX_PATH),
    limit: z.number().int().min(1).optional(),
    epochs: z.number().int().min(1).optional(),
    batchSize: z.number().int().min(1).optional(),
    parallel: z.number().int().min(1).max(64).optional(),
    backend: z.enum(TRAINING_BACKEND_OPTIONS).default('auto'),
  }),
  stopSweep: z.strictObject({ sweepId: idSchema }),
  /** Pretrained weights (.safetensors, .pth, .pt) into a new run for `graph`: training starts from it with config.initWeights = its runId. */
  importWeights: z.strictObject({ graph: graphSchema, path: pathSchema, partial: z.boolean().default(false) }),
} as const;

export type HostMethod = keyof typeof requestSchemas;
export type HostRequest<M extends HostMethod> = z.input<(typeof requestSchemas)[M]>;
/** The request after validation (defaults filled in): what the service receives. */
export type HostRequestParsed<M extends HostMethod> = z.output<(typeof requestSchemas)[M]>;

export const HOST_METHODS = Object.keys(requestSchemas) as HostMethod[];

export function isHostMethod(name: unknown): name is HostMethod {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(requestSchemas, name);
}

/** Thrown for a request that does not fit its schema (never reaches the service). */
export class HostRequestError extends Error {
  constructor(
    message: string,
    readonly method?: string,
  ) {
    super(message);
    this.name = 'HostRequestError';
  }
}

/** Validates a request from an untrusted sender; throws HostRequestError with a readable reason. */
export function parseHostRequest<M extends HostMethod>(method: unknown, request: unknown): { method: M; request: HostRequestParsed<M> } {
  if (!isHostMethod(method)) throw new HostRequestError(`unknown host method ${JSON.stringify(method)}`);
  const r = requestSchemas[method].safeParse(request ?? {});
  if (!r.success) {
    const why = r.error.issues.map((i) => `${i.path.map(String).join('.') || 'request'}: ${i.message}`).join('; ');
    throw new HostRequestError(`bad request for ${method}: ${why}`, method);
  }
  return { method: method as M, request: r.data as HostRequestParsed<M> };
}

// ---------------------------------------------------------------- responses

export interface HostInfo {
  mode: 'desktop' | 'browser';
  version: string;
  platform: string;
  /** True in the desktop app: openFile/saveFileAs without a path show a dialog. */
  nativeDialogs: boolean;
  /** Browser mode: the folder that paths are relative to and confined to. */
  workspace?: string;
  /** Whether a training process can be started here, and why not if not. */
  training: { available: boolean; reason?: string };
  exportAvailable: boolean;
}

/** A Python with PyTorch (interpreter, versions, the devices torch sees), or why none was found. */
export type PytorchInfo =
  | {
      found: true;
      python: string;
      pythonVersion: string;
      torch: string;
      devices: string[];
      /** The host's train_worker.py, for the torchrun command. */ worker: string;
    }
  | { found: false; reason: string };

/** A graph read from disk (or a template): the graph only when the file could be parsed. */
export interface GraphLoad {
  /** The file it came from; null for a template (it opens as a new, unsaved graph). */
  path: string | null;
  /** File or template name for the title bar. */
  name: string;
  graph?: GraphFile;
  diagnostics: Diagnostic[];
}

export interface GraphWrite {
  path: string;
  /** False when the graph was refused (schema errors) and nothing was written. */
  written: boolean;
  /** Schema problems (when refused) or semantic ones (written anyway: work in progress is saved). */
  diagnostics: Diagnostic[];
}

export interface FileEntry {
  name: string;
  path: string;
  kind: 'file' | 'dir';
  mtimeMs?: number;
}

export interface FileListing {
  dir: string;
  parent?: string;
  /** Folders and *.attn.json files, folders first. */
  entries: FileEntry[];
}

export interface RecentFile {
  path: string;
  name: string;
  openedAt: string;
}

export interface Recovery {
  graph: GraphFile;
  /** The file the graph belongs to, null for an unsaved graph. */
  path: string | null;
  dirty: boolean;
  savedAt: string;
}

export interface TemplateInfo {
  id: string;
  name: string;
  description?: string;
  nodes: number;
  edges: number;
}

export interface PortInfo {
  name: string;
  doc: string;
  rank?: number | readonly number[];
  optional?: boolean;
  attention?: AttentionKind;
  axes?: string;
  dtype?: 'float32' | 'int32';
}

/** A block as the palette and inspector see it (ports for the default parameters). */
export interface BlockInfo {
  type: string;
  label: string;
  category: string;
  doc: string;
  paper?: string;
  inputs: PortInfo[];
  outputs: PortInfo[];
  params: Record<string, ParamDef>;
}

export interface DatasetInfo {
  id: string;
  name: string;
  kind: 'image' | 'sequence' | 'tabular' | 'text';
  description: string;
  /** Sample shape without the batch axis. */
  inputShape: number[];
  classes?: string[];
  samples?: number;
}

// A run's summary (run.json), metrics and batch rows: as engine/runs writes them.
export type { BatchRow, MetricRow, RunState, RunSummary };

export interface RunDetail extends RunSummary {
  config: Record<string, unknown>;
  graph?: GraphFile;
  metrics: MetricRow[];
  /** Per-batch loss and accuracy as streamed (runs trained by the app). */
  batches: BatchRow[];
  checkpoints: string[];
  /** Steps for which attention snapshots are stored. */
  snapshots: number[];
}

export type { RunComparison, TrialRecord };

/** A sweep in the Sweeps list (its sweep.json, summed up). */
export interface SweepSummary {
  sweepId: string;
  name: string;
  state: 'running' | 'done' | 'interrupted';
  startedAt: string;
  metric: string;
  goal: 'max' | 'min';
  strategy: string;
  total: number;
  finished: number;
  best?: string;
  bestMetric?: number;
}

export interface SweepDetail extends SweepSummary {
  /** The --param texts. */
  params: string[];
  trials: TrialRecord[];
  /** Trial ids with a metric, best first. */
  ranking: string[];
}

/** One attention snapshot of a run: the maps of every attention output for the probe samples, the probes' explanation, and a captioning model's captions. */
export interface RunSnapshot {
  step: number;
  maps: AttentionMap[];
  explanation?: ProbeExplanation;
  caption?: CaptionRecord;
}

/** A dataset as training would see it, or why it cannot be used. */
export type DatasetPreview = ({ ok: true } & DataPreview) | { ok: false; name: string; error: string };

export interface ExportResult {
  target: ExportFormat;
  /** Empty when the graph has errors (see diagnostics). Binary files (ONNX) come base64-encoded. */
  files: { name: string; content: string; encoding?: 'base64' }[];
  diagnostics: Diagnostic[];
}

/** Loaded weights: the new run (its id is what config.initWeights takes), or why not; the names matched, missing, unexpected, of another shape. */
export interface WeightsImport {
  ok: boolean;
  runId?: string;
  error?: string;
  /** How the file's names were read: our PyTorch export's, or a reference implementation's. */
  source?: string;
  loaded: string[];
  missing: string[];
  unexpected: string[];
  mismatched: { name: string; file: number[]; graph: number[] }[];
}

/** What each method answers. */
export interface HostResponses {
  info: HostInfo;
  /** null: the user cancelled the dialog. */
  openFile: GraphLoad | null;
  saveFile: GraphWrite;
  saveFileAs: GraphWrite | null;
  listFiles: FileListing;
  readGraph: GraphLoad;
  writeGraph: GraphWrite;
  checkGraph: { diagnostics: Diagnostic[] };
  recentFiles: RecentFile[];
  clearRecentFiles: void;
  writeRecovery: void;
  readRecovery: Recovery | null;
  clearRecovery: void;
  listTemplates: TemplateInfo[];
  loadTemplate: GraphLoad;
  blockCatalogue: BlockInfo[];
  listDatasets: DatasetInfo[];
  startTraining: { runId: string };
  findPytorch: PytorchInfo;
  pauseTraining: void;
  resumeTraining: void;
  stopTraining: void;
  listRuns: RunSummary[];
  openRun: RunDetail;
  readSnapshot: RunSnapshot;
  previewDataset: DatasetPreview;
  inspectSample: Inspection;
  inspectImage: Inspection;
  inspectText: Inspection;
  exportCode: ExportResult;
  compareRuns: RunComparison;
  listSweeps: SweepSummary[];
  openSweep: SweepDetail;
  sweepTrialGraph: GraphLoad;
  startSweep: { sweepId: string };
  stopSweep: void;
  importWeights: WeightsImport;
}

// ---------------------------------------------------------------- events

/** Commands the desktop menu sends to the renderer (the renderer binds the same ones to keys). */
export const MENU_COMMANDS = [
  'file.new',
  'file.open',
  'file.openRecent',
  'file.save',
  'file.saveAs',
  'file.export',
  'edit.undo',
  'edit.redo',
  'edit.cut',
  'edit.copy',
  'edit.paste',
  'edit.duplicate',
  'edit.delete',
  'edit.selectAll',
  'view.zoomIn',
  'view.zoomOut',
  'view.zoomReset',
  'view.fit',
  'view.togglePalette',
  'view.toggleInspector',
  'view.toggleSummary',
  'view.toggleTraining',
  'view.cycleTheme',
  'help.shortcuts',
  'help.about',
] as const;
export type MenuCommand = (typeof MENU_COMMANDS)[number];

/** The host's own word on a run's state (the training process reports the rest as TrainEvents). */
export interface RunStateEvent {
  type: 'state';
  state: RunState;
  message?: string;
}

/** Events of one run: the training process's own (progress, epoch, attention maps as Float32Arrays, ...) or a state change. */
export type TrainingEvent = TrainEvent | RunStateEvent;

export type HostEvent = { channel: 'training'; runId: string; event: TrainingEvent } | { channel: 'menu'; command: MenuCommand; arg?: string };

export type Unsubscribe = () => void;

// ---------------------------------------------------------------- the interface

// `{} extends R`: R has no required field, so the request may be left out.
type Call<M extends HostMethod> =
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  {} extends HostRequest<M> ? (request?: HostRequest<M>) => Promise<HostResponses[M]> : (request: HostRequest<M>) => Promise<HostResponses[M]>;

/** One method per request schema, plus the event subscription. */
export type HostCalls = { [M in HostMethod]: Call<M> };

export interface HostApi extends HostCalls {
  /** Training progress, attention maps (Float32Array, never JSON arrays) and menu commands. */
  onEvent(listener: (event: HostEvent) => void): Unsubscribe;
}

/** The service side: takes validated requests, may know which window asked. */
export type HostHandlers = { [M in HostMethod]: (request: HostRequestParsed<M>) => Promise<HostResponses[M]> };

/** file.save's argument when the renderer should close its window once the save succeeded. */
export const CLOSE_AFTER_SAVE = 'close';
