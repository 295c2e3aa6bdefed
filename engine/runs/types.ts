// The run folder's records as data, free of Node: the app's renderer sees them
// through common/host-api.
import type { AttentionKind } from '../blocks/contract.js';
import type { GraphDiff } from '../graph/diff.js';

/** One line of metrics.jsonl: written at the end of each epoch. */
export interface MetricRow {
  epoch: number;
  step: number;
  seconds: number;
  [metric: string]: number;
}

/** One batch as the training process streamed it (at most ten a second). */
export interface BatchRow {
  step: number;
  epoch: number;
  /** The epoch's mean so far. */
  loss: number;
  accuracy?: number;
  /** The batch's own loss and accuracy (runs recorded before these were streamed lack them). */
  batchLoss?: number;
  batchAccuracy?: number;
  lr: number;
}

/** One attention output for the probe samples, as the trainer hands it over. */
export interface SnapshotMap {
  nodeId: string;
  port: string;
  kind: AttentionKind;
  axes?: string;
  shape: number[];
  fullShape: number[];
  data: Float32Array<ArrayBuffer>;
}

export type RunState = 'starting' | 'running' | 'paused' | 'stopping' | 'done' | 'stopped' | 'failed';

export interface RunSummary {
  runId: string;
  name: string;
  state: RunState;
  startedAt: string;
  dataset?: string;
  epochs?: number;
  backend?: string;
  finalMetrics: Record<string, number>;
  /** Why it failed, for a failed run. */
  message?: string;
}

export const isFinal = (s: RunState) => s === 'done' || s === 'stopped' || s === 'failed';

export const RUN_STATES: readonly RunState[] = ['starting', 'running', 'paused', 'stopping', 'done', 'stopped', 'failed'];

// ---------------------------------------------------------------- comparison (compare.ts)

export interface ComparedRun {
  dir: string;
  runId: string;
  name: string;
  summary?: RunSummary;
  /** One row per epoch, with `seconds` since the run's start. */
  epochs: MetricRow[];
  batches: BatchRow[];
  finalMetrics: Record<string, number>;
  /** Settings flattened to dotted names: lr, dataset.name, probe.samples. */
  settings: Record<string, unknown>;
  /** Steps with an attention snapshot. */
  snapshots: number[];
}

export interface RunComparison {
  runs: ComparedRun[];
  /** Settings whose values are not all the same, one value per run (undefined: not recorded). */
  settingsDiff: { key: string; values: unknown[] }[];
  /** Each run's graph against the first run's (the first has none). */
  graphDiffs: { runId: string; against: string; diff: GraphDiff }[];
  /** Metrics that every run has at its end. */
  metricNames: string[];
}
