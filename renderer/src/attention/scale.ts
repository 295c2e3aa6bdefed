// Which values a map's colours stand for, and how big its tiles are drawn.
// The shared scale (the default) is one range for every map of a kind in a
// snapshot, over all probe samples and heads, from 0 when no value is negative:
// attention weights are, and 0 is their baseline, so a uniform map (every
// weight 0.1) is drawn as one flat colour instead of being stretched into
// noise. The per-map scale stretches each map over its own range and says so
// when that range is a sliver of its values.
import type { AttentionKind, AttentionMap } from '../../../common/host-api/api.js';
import { range } from './maps.js';

export type ScaleMode = 'shared' | 'map';
export type Range = [number, number];

/** One range over several sets of values, anchored at 0 when none is negative. */
export function sharedScale(sets: Iterable<ArrayLike<number>>): Range {
  let lo = Infinity;
  let hi = -Infinity;
  for (const values of sets) {
    const [a, b] = range(values);
    if (values.length === 0) continue;
    lo = Math.min(lo, a);
    hi = Math.max(hi, b);
  }
  if (!(lo <= hi)) return [0, 1];
  return [Math.min(lo, 0), hi];
}

/** The shared scale of each kind of map in a snapshot (a gate's weights never set a matrix's colours). */
export function sharedScales(maps: readonly Pick<AttentionMap, 'kind' | 'data'>[]): Map<AttentionKind, Range> {
  const kinds = new Set(maps.map((m) => m.kind));
  return new Map([...kinds].map((k) => [k, sharedScale(maps.filter((m) => m.kind === k).map((m) => m.data))]));
}

/** A range below this fraction of the values' mean magnitude is stretched past what it means. */
export const STRETCH_LIMIT = 0.05;

const mean = (values: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return values.length ? s / values.length : 0;
};

/** A number as the colour bar and the warnings print it. */
export const fmtValue = (v: number) => (v === 0 ? '0' : Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(2) : String(Number(v.toPrecision(3))));

/**
 * The warning a per-map scale owes its reader: when the map's range is tiny
 * relative to its mean, its contrast is mostly the scale's doing.
 */
export function stretchWarning(values: ArrayLike<number>): string | null {
  const [lo, hi] = range(values);
  const m = Math.abs(mean(values));
  if (hi <= lo || m === 0 || (hi - lo) / m >= STRETCH_LIMIT) return null;
  return `range ${fmtValue(lo)}–${fmtValue(hi)}: contrast stretched`;
}

/** Evenly spaced values from lo to hi, both included. */
export function ticks([lo, hi]: Range, count = 3): number[] {
  return Array.from({ length: count }, (_, i) => lo + ((hi - lo) * i) / (count - 1));
}

export interface TileLayout {
  perRow: number;
  tileW: number;
  tileH: number;
}

/**
 * The largest tiles (rows/cols = `aspect`) that put `n` of them in `width` and,
 * when it can be done with tiles at least `min` wide, in `maxHeight` too.
 * `extraW` and `extraH` are each tile's labels and gaps beside and under it.
 */
export function tileLayout(
  n: number,
  aspect: number,
  {
    width,
    maxHeight = Infinity,
    extraW = 0,
    extraH = 0,
    gap = 0,
    min = 24,
    max = 640,
  }: { width: number; maxHeight?: number; extraW?: number; extraH?: number; gap?: number; min?: number; max?: number },
): TileLayout {
  // Of equally large tiles, the fewest rows of them.
  let best = { perRow: 1, rows: Infinity, tileW: -Infinity };
  for (let perRow = 1; perRow <= Math.max(1, n); perRow++) {
    const rows = Math.ceil(n / perRow);
    const byWidth = Math.floor((width - gap * (perRow - 1)) / perRow) - extraW;
    const byHeight = Math.floor((maxHeight / rows - extraH - gap) / aspect);
    const tileW = Math.min(max, byWidth, byHeight);
    if (tileW > best.tileW || (tileW === best.tileW && rows < best.rows)) best = { perRow, rows, tileW };
    if (byWidth < min) break;
  }
  const tileW = Math.max(min, best.tileW);
  return { perRow: best.perRow, tileW, tileH: Math.max(1, Math.round(tileW * aspect)) };
}
