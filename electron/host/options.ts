// What a HostService is built from: the shell's choices (mode, folders, dialogs)
// and the parts it plugs in (the training process, the exporter, inspection).
import type {
  DatasetInfo,
  ExportFormat,
  ExportResult,
  HostRequestParsed,
  Inspection,
  TrainConfigInput,
  TRAINING_BACKENDS,
  TrainingEvent,
  Unsubscribe,
} from '../../common/host-api/api.js';
import type { GraphFile } from '../../engine/graph/types.js';
import type { DatasetSpec } from '../../engine/data/index.js';
import type { InspectCommand } from '../../engine/worker/protocol.js';
import type { PathPolicy } from './paths.js';

/** Native open/save dialogs (desktop only). They answer an absolute path, or null when cancelled. */
export interface Dialogs {
  openGraph(): Promise<string | null>;
  saveGraph(suggestedName: string): Promise<string | null>;
}

export interface TrainingStart {
  runId: string;
  runDir: string;
  graph: GraphFile;
  dataset: DatasetSpec;
  config?: TrainConfigInput;
  backend: (typeof TRAINING_BACKENDS)[number];
  pytorch?: HostRequestParsed<'startTraining'>['pytorch'];
  /** Continue from here (a run folder or one of its checkpoints) instead of starting afresh. */
  resume?: string;
}

/** The training process, seen from the host (see training.ts). */
export interface TrainingDriver {
  start(req: TrainingStart): Promise<void>;
  pause(runId: string): Promise<void>;
  resume(runId: string): Promise<void>;
  stop(runId: string): Promise<void>;
  onEvent(listener: (runId: string, event: TrainingEvent) => void): Unsubscribe;
  dispose(): Promise<void>;
}

export interface Exporter {
  (graph: GraphFile, target: ExportFormat): Promise<ExportResult['files']>;
}

export interface HostServiceOptions {
  mode: 'desktop' | 'browser';
  version: string;
  paths: PathPolicy;
  /** Recent files and the recovery file live here (Electron's userData, or a dot-folder). */
  stateDir: string;
  templatesDir: string;
  runsDir: string;
  dialogs?: Dialogs;
  training?: TrainingDriver;
  /** Why training is unavailable, when `training` is absent. */
  trainingUnavailable?: string;
  datasets?: () => Promise<DatasetInfo[]>;
  exporter?: Exporter;
  /** Runs a sample through a checkpoint in a training process (engine/worker's InspectionPool). */
  inspect?: (cmd: InspectCommand) => Promise<Inspection>;
}
