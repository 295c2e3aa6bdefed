// From an attention map as the probes send it ([probe samples, ...], row-major
// Float32Array) to what a panel draws for one sample: image-like tiles
// (spatial maps, matrices per head) or a list of values (channel weights, gates).
import type { AttentionKind, AttentionMap, CaptionRecord } from '../../../common/host-api/api.js';

export interface Tile {
  rows: number;
  cols: number;
  /** rows × cols values. */
  values: Float32Array;
  /** Head, channel or hop of this tile, when there are several. */
  label?: string;
}

export type MapView = { draw: 'tiles'; kind: AttentionKind; tiles: Tile[] } | { draw: 'bars'; kind: AttentionKind; values: Float32Array; labels: string[] };

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Number of probe samples in a map. */
export const sampleCount = (m: AttentionMap) => m.shape[0] ?? 0;

/** The values of probe sample `s` (a view, no copy). */
export function sampleValues(m: AttentionMap, s: number): Float32Array {
  const per = prod(m.shape.slice(1));
  const k = Math.min(Math.max(s, 0), Math.max(0, sampleCount(m) - 1));
  return m.data.subarray(k * per, (k + 1) * per);
}

/** Splits [rows, cols, k] (channels last) into k tiles. */
function channelsLast(v: Float32Array, rows: number, cols: number, k: number, name: string): Tile[] {
  if (k === 1) return [{ rows, cols, values: v }];
  return Array.from({ length: k }, (_, c) => {
    const t = new Float32Array(rows * cols);
    for (let i = 0; i < rows * cols; i++) t[i] = v[i * k + c];
    return { rows, cols, values: t, label: `${name} ${c}` };
  });
}

/** Splits [k, rows, cols] (leading axis first) into k tiles, labelled `labels[h]` where given, else "name h". */
function leading(v: Float32Array, rows: number, cols: number, name: string, labels?: readonly (string | undefined)[]): Tile[] {
  const k = v.length / (rows * cols);
  if (k === 1) return [{ rows, cols, values: v }];
  return Array.from({ length: k }, (_, h) => ({
    rows,
    cols,
    values: v.subarray(h * rows * cols, (h + 1) * rows * cols),
    label: labels?.[h] ?? `${name} ${h}`,
  }));
}

/**
 * What to draw for sample `s` of map `m`. `rowLabels` name the tiles of a matrix over words (a caption decoder's
 * attention: one tile per word, see captionRowLabels); a tile without one reads "word t".
 */
export function viewOf(m: AttentionMap, s: number, rowLabels?: readonly (string | undefined)[]): MapView {
  const dims = m.shape.slice(1);
  const v = sampleValues(m, s);
  const axes = (m.axes ?? '').toLowerCase();
  const bars = (labelAxis: string) => ({ draw: 'bars' as const, kind: m.kind, values: v, labels: Array.from(v, (_, i) => `${labelAxis} ${i}`) });
  switch (m.kind) {
    case 'spatial':
      if (dims.length === 2) return { draw: 'tiles', kind: m.kind, tiles: [{ rows: dims[0], cols: dims[1], values: v }] };
      if (dims.length === 3)
        return { draw: 'tiles', kind: m.kind, tiles: channelsLast(v, dims[0], dims[1], dims[2], axes.includes('head') ? 'head' : 'channel') };
      return bars('position');
    case 'matrix':
      if (dims.length >= 2)
        return {
          draw: 'tiles',
          kind: m.kind,
          // A caption decoder's rows are its words (axes "batch, word, row, column"), not heads.
          tiles: axes.includes('word')
            ? leading(v, dims[dims.length - 2], dims[dims.length - 1], 'word', rowLabels)
            : leading(v, dims[dims.length - 2], dims[dims.length - 1], axes.includes('hop') ? 'hop' : 'head'),
        };
      return bars('key');
    case 'channel':
      return bars('channel');
    case 'gate':
      // A gate over image positions reads best as a map; over channels, heads or sources as bars.
      if (axes.includes('position') && dims.length === 3) return { draw: 'tiles', kind: m.kind, tiles: channelsLast(v, dims[0], dims[1], dims[2], 'channel') };
      if (axes.includes('position') && dims.length === 2) return { draw: 'tiles', kind: m.kind, tiles: [{ rows: dims[0], cols: dims[1], values: v }] };
      return bars(axes.includes('head') ? 'head' : axes.includes('source') ? 'source' : axes.includes('channel') ? 'channel' : 'gate');
  }
}

export function range(values: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

/** The range over every sample of a map (the shared scale). */
export const sharedRange = (m: AttentionMap): [number, number] => range(m.data);

/** Indices of the k largest values. */
export function topK(values: ArrayLike<number>, k: number): Set<number> {
  return new Set(
    Array.from(values, (v, i) => [v, i] as const)
      .sort((a, b) => b[0] - a[0])
      .slice(0, k)
      .map((x) => x[1]),
  );
}

/** Whether a map has any contrast (a blank map is all one value). */
export const hasContrast = (values: ArrayLike<number>) => {
  const [lo, hi] = range(values);
  return hi - lo > 1e-7;
};

export const mapKey = (m: Pick<AttentionMap, 'nodeId' | 'port'>) => `${m.nodeId}.${m.port}`;

/**
 * The tile labels of a caption decoder's attention for probe sample `s`, one per decoder step: the word it wrote
 * ("1 three"), with the true word where that differs ("2 one (true four)"), and "<end>" where the truth ends.
 * Steps past the written caption carry the true word alone; a step with neither is left unlabelled (undefined).
 */
export function captionRowLabels(c: Pick<CaptionRecord, 'words' | 'truth' | 'steps'>, s: number): (string | undefined)[] {
  const written = c.words[s] ?? [];
  const truth = c.truth?.[s];
  const trueAt = (t: number) => (!truth ? undefined : t < truth.length ? truth[t] : t === truth.length ? '<end>' : undefined);
  return Array.from({ length: c.steps }, (_, t) => {
    const [w, want] = [written[t], trueAt(t)];
    if (w === undefined) return want === undefined ? undefined : `${t + 1} – (true ${want})`;
    return `${t + 1} ${w}${want !== undefined && want !== w ? ` (true ${want})` : ''}`;
  });
}

/**
 * The maps to draw as panels of their own beside a caption figure: all but the caption decoder's attention, which
 * the figure already draws, each word's weights labelled by the word and laid over the image.
 */
export const besideCaption = (maps: readonly AttentionMap[], caption: Pick<AttentionMap, 'nodeId' | 'port'> | undefined): AttentionMap[] =>
  caption ? maps.filter((m) => mapKey(m) !== mapKey(caption)) : [...maps];
