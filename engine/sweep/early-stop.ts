// Early stopping of trials that fall behind, decided at the end of each epoch
// from every trial's metric so far. Scores are oriented so that higher is
// better (a loss is negated before it comes here).
export const EARLY_STOP_RULES = ['none', 'median', 'halving'] as const;
export type EarlyStopRule = (typeof EARLY_STOP_RULES)[number];

export interface EarlyStopOptions {
  /** Epochs every trial runs before it can be stopped. */
  grace: number;
  /** Median rule: the fewest other trials at the same epoch for the median to count. */
  minPeers: number;
  /** Successive halving: the fraction 1/eta of the trials at a rung goes on. */
  eta: number;
}

export const EARLY_STOP_DEFAULTS: EarlyStopOptions = { grace: 1, minPeers: 2, eta: 3 };

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const bestOf = (xs: readonly number[]) => Math.max(...xs);

/**
 * Whether trial `id` should stop now, having just finished epoch
 * `scores.get(id).length` of `epochs`.
 *
 * median: its best score so far is below the median of the other trials'
 * best scores over as many epochs (Google Vizier's median stopping rule).
 * halving: at rungs grace·eta^k epochs, it goes on only while it ranks in the
 * top 1/eta of the trials that reached that rung (asynchronous successive
 * halving: the first to arrive always goes on).
 */
export function shouldStop(
  rule: EarlyStopRule,
  scores: ReadonlyMap<string, readonly number[]>,
  id: string,
  epochs: number,
  opts: EarlyStopOptions = EARLY_STOP_DEFAULTS,
): boolean {
  const own = scores.get(id) ?? [];
  const done = own.length;
  if (rule === 'none' || done < opts.grace || done >= epochs) return false;
  const peers = [...scores].filter(([other, s]) => other !== id && s.length >= done).map(([, s]) => s.slice(0, done));
  if (rule === 'median') return peers.length >= opts.minPeers && bestOf(own) < median(peers.map(bestOf));
  const rung = Math.round(Math.log(done / opts.grace) / Math.log(opts.eta));
  if (opts.grace * opts.eta ** rung !== done) return false;
  const here = own[done - 1];
  const rivals = peers.map((s) => s[done - 1]);
  const keep = Math.ceil((rivals.length + 1) / opts.eta);
  return rivals.filter((r) => r > here).length >= keep;
}
