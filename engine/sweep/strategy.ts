// Which trials a sweep runs: every combination (grid) or seeded samples (random).
import { deriveSeed, rng } from '../data/random.js';
import type { Domain, ParamValue, SweepParam } from './params.js';
import { SweepParamError } from './params.js';

export const STRATEGIES = ['grid', 'random'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** A grid larger than this is refused: it is a typo more often than a plan. */
export const MAX_GRID = 10_000;

/** Four significant digits: a sampled 0.0031622776 is written 0.003162. */
const tidy = (x: number) => Number(x.toPrecision(4));

function gridValues(d: Domain): ParamValue[] {
  switch (d.kind) {
    case 'choice':
      return d.values;
    case 'int':
      return Array.from({ length: d.hi - d.lo + 1 }, (_, k) => d.lo + k);
    case 'float':
      return Array.from({ length: d.points }, (_, k) => {
        const f = k / (d.points - 1);
        return tidy(d.log ? Math.exp(Math.log(d.lo) + f * (Math.log(d.hi) - Math.log(d.lo))) : d.lo + f * (d.hi - d.lo));
      });
  }
}

function sample(d: Domain, random: () => number): ParamValue {
  const u = random();
  switch (d.kind) {
    case 'choice':
      return d.values[Math.min(d.values.length - 1, Math.floor(u * d.values.length))];
    case 'int':
      if (!d.log) return d.lo + Math.min(d.hi - d.lo, Math.floor(u * (d.hi - d.lo + 1)));
      return Math.min(d.hi, Math.max(d.lo, Math.round(Math.exp(Math.log(d.lo) + u * (Math.log(d.hi) - Math.log(d.lo))))));
    case 'float':
      return tidy(d.log ? Math.exp(Math.log(d.lo) + u * (Math.log(d.hi) - Math.log(d.lo))) : d.lo + u * (d.hi - d.lo));
  }
}

/** The size of the full grid. */
export function gridSize(params: readonly SweepParam[]): number {
  return params.reduce((n, p) => n * gridValues(p.domain).length, 1);
}

/**
 * The trials' values, in order. Grid: every combination, the first parameter
 * varying slowest, cut to `trials` when given. Random: `trials` samples drawn
 * with `seed` (the same seed, the same trials).
 */
export function trialValues(params: readonly SweepParam[], strategy: Strategy, opts: { trials?: number; seed: number }): Record<string, ParamValue>[] {
  if (strategy === 'random') {
    if (opts.trials === undefined) throw new SweepParamError('--strategy random needs --trials N');
    const random = rng(deriveSeed(opts.seed, 'sweep'));
    return Array.from({ length: opts.trials }, () => Object.fromEntries(params.map((p) => [p.key, sample(p.domain, random)])));
  }
  const size = gridSize(params);
  if (size > MAX_GRID) throw new SweepParamError(`the grid has ${size} trials (more than ${MAX_GRID}); use fewer values or --strategy random`);
  let combos: Record<string, ParamValue>[] = [{}];
  for (const p of params) combos = combos.flatMap((c) => gridValues(p.domain).map((v) => ({ ...c, [p.key]: v })));
  return opts.trials === undefined ? combos : combos.slice(0, opts.trials);
}
