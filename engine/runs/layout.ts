// Names inside a run folder, and the guard that keeps every path read from a
// run folder inside it.
import path from 'node:path';

/** The files and folders of a run folder. */
export const RUN_FILES = {
  graph: 'graph.attn.json',
  config: 'config.json',
  /** Text data: the tokenizer's vocabulary (Vocabulary), so new text is tokenised as in training. */
  vocabulary: 'vocabulary.json',
  /** One row per finished epoch (MetricRow). */
  metrics: 'metrics.jsonl',
  /** The run's summary for the Runs list (RunSummary). */
  summary: 'run.json',
  /** Per-batch numbers as streamed (BatchRow). */
  batches: 'batches.jsonl',
  checkpoints: 'checkpoints',
  attention: 'attention',
  /** In checkpoints/: the newest checkpoint's name (a hint; a scan of checkpoints/ decides). */
  latest: 'latest.json',
} as const;

/** A run-folder problem: a file that is missing, damaged, or points outside the folder. */
export class RunFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunFolderError';
  }
}

/** A name made safe for a file name: letters, digits, `.`, `_`, `-`; at most 60 characters. */
export function slug(s: string, max = 60): string {
  return (
    s
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[-.]+|-+$/g, '')
      .slice(0, max) || 'run'
  );
}

/** The folder name of step N's checkpoint or attention snapshot: step-000120. */
export function stepName(step: number): string {
  return `step-${String(step).padStart(6, '0')}`;
}

const STEP_NAME = /^step-(\d{6,})$/;

/** The step a checkpoint or snapshot folder name stands for; undefined for any other name (temporary folders included). */
export function stepOf(name: string): number | undefined {
  const m = STEP_NAME.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** A new run's folder name: its start time (UTC) and the graph's name, e.g. 20261206T164705-tiny-mlp. */
export function runFolderName(name: string, at = new Date()): string {
  return `${at.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}-${slug(name)}`;
}

/**
 * `rel` (a name read from a file in the run folder) resolved in `dir`, refused
 * unless it stays inside: no absolute path, no `..`, no separator when
 * `plain` (a file name, not a path).
 */
export function inside(dir: string, rel: unknown, what: string, plain = true): string {
  const ok = typeof rel === 'string' && rel !== '' && !path.isAbsolute(rel) && !rel.includes('\0') && (!plain || !/[\\/]/.test(rel));
  const full = ok ? path.resolve(dir, rel) : '';
  const relative = ok ? path.relative(path.resolve(dir), full) : '';
  if (!ok || relative === '' || relative.startsWith('..') || path.isAbsolute(relative))
    throw new RunFolderError(`${what} names ${JSON.stringify(rel)}, which is not a file inside ${dir}: refused`);
  return full;
}
