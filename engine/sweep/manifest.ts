// sweep.json: what a sweep is (its spec) and where each trial stands. The
// sweep folder holds it and one ordinary run folder per trial:
//
//   <sweep>/sweep.json         SweepManifest, rewritten after every change
//   <sweep>/trial-001/         a run folder (graph.attn.json, config.json, run.json, ...)
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeAtomic } from '../runs/index.js';
import type { SweepManifest, TrialRecord, TrialStatus } from './types.js';
export type { SweepManifest, SweepSpec, TrialRecord, TrialStatus } from './types.js';

export const SWEEP_FILE = 'sweep.json';
export const SWEEP_FORMAT = 'attention-studio.sweep';

/** A trial in one of these is not run again when the sweep resumes. */
export const FINISHED: readonly TrialStatus[] = ['done', 'pruned', 'failed'];

export class SweepFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SweepFileError';
  }
}

/** The sweep.json in `dir`, or undefined when there is none. */
export async function readManifest(dir: string): Promise<SweepManifest | undefined> {
  const file = path.join(dir, SWEEP_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  let m: SweepManifest;
  try {
    m = JSON.parse(text) as SweepManifest;
  } catch (err) {
    throw new SweepFileError(`${file} is not valid JSON (${(err as Error).message})`);
  }
  if (m?.format !== SWEEP_FORMAT || !Array.isArray(m.trials)) throw new SweepFileError(`${file} is not a sweep manifest`);
  return m;
}

export function writeManifest(dir: string, m: SweepManifest): Promise<void> {
  return writeAtomic(path.join(dir, SWEEP_FILE), `${JSON.stringify(m, null, 2)}\n`);
}

/** Trials that have the metric, best first. */
export function ranking(m: Pick<SweepManifest, 'trials' | 'spec'>): TrialRecord[] {
  const sign = m.spec.goal === 'min' ? 1 : -1;
  return m.trials.filter((t) => typeof t.metric === 'number' && Number.isFinite(t.metric)).sort((a, b) => sign * (a.metric! - b.metric!));
}

/** The goal a metric has by its name: losses and errors go down, the rest up. */
export const goalOf = (metric: string): 'max' | 'min' => (/loss|error|perplexity/i.test(metric) ? 'min' : 'max');
