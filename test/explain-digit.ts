// How much of an explanation's mass lies on an MNIST digit, by three regions,
// each beside the share a uniform map would get (the region's share of the
// image), since a region that covers more of the image gets more of any map:
//   ink:   the digit's pixels (above the background). A map of rows × cols
//          upsampled to 28 × 28 cannot follow a stroke thinner than its cell:
//          even the ink itself, averaged over the cells and upsampled, keeps
//          only `inkAtResolution` of its mass on the ink (0.57–0.61 at 7 × 7,
//          0.77–0.80 at 14 × 14 on MNIST; a map peaked on thick strokes can beat it).
//   near:  the ink dilated by one cell of the map (28 / rows pixels, square):
//          where a map that is right at its own resolution puts its mass, since
//          bilinear upsampling spreads a cell over one cell either side.
//   box:   the digit's bounding box, the "energy-based pointing game" of
//          Score-CAM (Wang et al., CVPRW 2020).
// The map is measured as the overlay draws it: upsampled with pixel centres
// aligned (engine/explain/overlay.ts), before the overlay's min-max scaling.
import { upsample } from '../engine/explain/index.js';

export const REGIONS = ['ink', 'near', 'box'] as const;
export type Region = (typeof REGIONS)[number];

export interface DigitRegions {
  height: number;
  width: number;
  masks: Record<Region, Uint8Array>;
}

/** The regions of a grey image [height × width] whose background is its smallest value, for a map of `rows` rows. */
export function digitRegions(pixels: ArrayLike<number>, height: number, width: number, rows: number): DigitRegions {
  let background = Infinity;
  for (let i = 0; i < pixels.length; i++) background = Math.min(background, pixels[i]);
  const ink = Uint8Array.from({ length: height * width }, (_, i) => (pixels[i] > background + 1e-6 ? 1 : 0));
  const r = Math.round(height / rows);
  const near = new Uint8Array(height * width);
  let [top, bottom, left, right] = [height, -1, width, -1];
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      if (!ink[y * width + x]) continue;
      [top, bottom, left, right] = [Math.min(top, y), Math.max(bottom, y), Math.min(left, x), Math.max(right, x)];
      for (let dy = Math.max(0, y - r); dy <= Math.min(height - 1, y + r); dy++)
        for (let dx = Math.max(0, x - r); dx <= Math.min(width - 1, x + r); dx++) near[dy * width + dx] = 1;
    }
  const box = Uint8Array.from({ length: height * width }, (_, i) => {
    const [y, x] = [Math.floor(i / width), i % width];
    return y >= top && y <= bottom && x >= left && x <= right ? 1 : 0;
  });
  return { height, width, masks: { ink, near, box } };
}

const shareOf = (values: Float32Array, mask: Uint8Array) => {
  let [on, all] = [0, 0];
  for (let i = 0; i < values.length; i++) [on, all] = [on + (mask[i] ? values[i] : 0), all + values[i]];
  return on / all;
};

/** The share of a non-negative rows × cols map on each region, upsampled as the overlay does (NaN for an empty map). */
export function sharesOnDigit(map: Float32Array, rows: number, cols: number, d: DigitRegions): Record<Region, number> {
  const up = upsample(map, rows, cols, d.height, d.width);
  return Object.fromEntries(REGIONS.map((k) => [k, shareOf(up, d.masks[k])])) as Record<Region, number>;
}

/** What a uniform map gets: each region's share of the image. */
export function uniformShares(d: DigitRegions): Record<Region, number> {
  return Object.fromEntries(REGIONS.map((k) => [k, d.masks[k].reduce((s, v) => s + v, 0) / (d.height * d.width)])) as Record<Region, number>;
}

/** The ink averaged over the map's cells and upsampled: the share on the ink of a map that follows the digit exactly at its resolution. */
export function inkAtResolution(d: DigitRegions, rows: number, cols: number): number {
  const [sy, sx] = [d.height / rows, d.width / cols];
  const cells = new Float32Array(rows * cols);
  for (let y = 0; y < d.height; y++)
    for (let x = 0; x < d.width; x++) cells[Math.floor(y / sy) * cols + Math.floor(x / sx)] += d.masks.ink[y * d.width + x] / (sy * sx);
  return sharesOnDigit(cells, rows, cols, d).ink;
}

export const mean = (xs: readonly number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;

function ranks(a: Float32Array): Float64Array {
  const order = Array.from(a.keys()).sort((i, j) => a[i] - a[j]);
  const r = new Float64Array(a.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && a[order[j + 1]] === a[order[i]]) j++;
    for (let k = i; k <= j; k++) r[order[k]] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}

/** Spearman's rank correlation (ties get their mean rank). */
export function spearman(a: Float32Array, b: Float32Array): number {
  const [ra, rb] = [ranks(a), ranks(b)];
  const [ma, mb] = [mean(Array.from(ra)), mean(Array.from(rb))];
  let [c, va, vb] = [0, 0, 0];
  for (let i = 0; i < ra.length; i++) {
    c += (ra[i] - ma) * (rb[i] - mb);
    va += (ra[i] - ma) ** 2;
    vb += (rb[i] - mb) ** 2;
  }
  return c / Math.sqrt(va * vb);
}
