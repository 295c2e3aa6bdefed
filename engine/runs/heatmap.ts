// An attention map as a picture: one probe sample, reduced to rows × columns,
// min-max normalised and coloured with viridis, scaled up with nearest pixels.
// NaN and infinite values (a diverged model) are drawn in NON_FINITE, and the
// range is taken over the finite ones.
import type { AttentionKind } from '../blocks/contract.js';
import type { RasterImage } from '../data/png.js';

const VIRIDIS = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

/** Magenta: not a viridis colour, so a NaN or infinite value stands out. */
export const NON_FINITE = [255, 0, 255];

/** Writes the viridis colour of t ∈ [0, 1] (NON_FINITE for NaN or ±∞) at out[o…o+2]. */
export function colour(t: number, out: Uint8Array, o: number): void {
  if (!Number.isFinite(t)) {
    out.set(NON_FINITE, o);
    return;
  }
  const x = Math.min(Math.max(t, 0), 1) * (VIRIDIS.length - 1);
  const i = Math.min(Math.floor(x), VIRIDIS.length - 2);
  const f = x - i;
  for (let c = 0; c < 3; c++) out[o + c] = Math.round(VIRIDIS[i][c] * (1 - f) + VIRIDIS[i + 1][c] * f);
}

/**
 * The first sample of a probe output [P, ...] as a grid: a spatial map or gate
 * [H, W, C] is averaged over channels; channel weights become one row; anything
 * else puts its last two axes as rows × columns, its leading axes (heads) side by side.
 */
export function attentionGrid(
  data: Float32Array,
  shape: readonly number[],
  kind: AttentionKind,
): { rows: number; cols: number; tiles: number; values: Float32Array } {
  const dims = shape.slice(1);
  const size = dims.reduce((a, b) => a * b, 1);
  const sample = data.subarray(0, size);
  if (dims.length <= 1 || kind === 'channel') return { rows: 1, cols: size, tiles: 1, values: sample };
  if ((kind === 'spatial' || kind === 'gate') && dims.length === 3) {
    const [h, w, c] = dims;
    const values = new Float32Array(h * w);
    for (let i = 0; i < h * w; i++) {
      let s = 0;
      for (let k = 0; k < c; k++) s += sample[i * c + k];
      values[i] = s / c;
    }
    return { rows: h, cols: w, tiles: 1, values };
  }
  const rows = dims[dims.length - 2];
  const cols = dims[dims.length - 1];
  return { rows, cols, tiles: size / (rows * cols), values: sample };
}

export function heatmap(data: Float32Array, shape: readonly number[], kind: AttentionKind, target = 256): RasterImage {
  const { rows, cols, tiles, values } = attentionGrid(data, shape, kind);
  let lo = Infinity,
    hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo > hi) lo = hi = 0; // nothing finite
  const span = hi - lo || 1;
  const gap = tiles > 1 ? 1 : 0;
  const sx = Math.max(1, Math.min(32, Math.floor(target / (cols * tiles))));
  const sy = Math.max(1, Math.min(32, Math.floor(target / rows)), rows === 1 ? 16 : 1);
  const width = tiles * cols * sx + (tiles - 1) * gap;
  const height = rows * sy;
  const out = new Uint8Array(width * height * 3).fill(255);
  for (let t = 0; t < tiles; t++)
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) {
        const v = (values[t * rows * cols + r * cols + c] - lo) / span;
        for (let y = r * sy; y < (r + 1) * sy; y++) for (let x = 0; x < sx; x++) colour(v, out, (y * width + t * (cols * sx + gap) + c * sx + x) * 3);
      }
  return { width, height, channels: 3, data: out };
}
