// A sweep's records as data, free of Node: the app's renderer sees them through
// common/host-api (sweep.json is written by manifest.ts).

/** A swept value: a number, a choice's text, or true/false. */
export type ParamValue = number | string | boolean;

export type TrialStatus = 'pending' | 'running' | 'done' | 'pruned' | 'failed';

export interface TrialRecord {
  id: string;
  values: Record<string, ParamValue>;
  /** The trial's run folder, relative to the sweep folder. */
  run: string;
  status: TrialStatus;
  /** The sweep's metric at the trial's end (or when it was stopped). */
  metric?: number;
  /** Every final metric of the run. */
  metrics?: Record<string, number>;
  /** The metric after each epoch, as the early stopping saw it. */
  history?: number[];
  error?: string;
  /** The training process, while it runs (so a resumed sweep can wait for an orphan). */
  pid?: number;
  startedAt?: string;
  seconds?: number;
}

/** What a sweep is; re-running with a different spec into the same folder is refused. */
export interface SweepSpec {
  graph: string;
  params: string[];
  strategy: string;
  trials?: number;
  seed: number;
  metric: string;
  goal: 'max' | 'min';
  earlyStop: string;
  dataset: string;
  limit?: number;
  backend: string;
  /** Training settings given for every trial (epochs, batch size, ...). */
  train: Record<string, unknown>;
}

export interface SweepManifest {
  format: 'attention-studio.sweep';
  version: 1;
  name: string;
  spec: SweepSpec;
  state: 'running' | 'done' | 'interrupted';
  startedAt: string;
  updatedAt: string;
  trials: TrialRecord[];
  /** The trial with the best metric. */
  best?: string;
}
