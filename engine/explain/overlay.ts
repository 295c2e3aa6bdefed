// An explanation drawn over its input: the map scaled up to the image
// (bilinear, pixel centres aligned as cv2.resize and torch's
// align_corners=False do), min-max normalised, coloured with viridis and
// blended over the input in grey.
import type { RasterImage } from '../data/png.js';
import { colour } from '../runs/heatmap.js';

/** A rows × cols map resized to height × width by bilinear interpolation. */
export function upsample(map: Float32Array, rows: number, cols: number, height: number, width: number): Float32Array {
  const out = new Float32Array(height * width);
  const sy = rows / height,
    sx = cols / width;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), rows - 1);
    const y0 = Math.floor(fy),
      y1 = Math.min(y0 + 1, rows - 1),
      wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), cols - 1);
      const x0 = Math.floor(fx),
        x1 = Math.min(x0 + 1, cols - 1),
        wx = fx - x0;
      const top = map[y0 * cols + x0] * (1 - wx) + map[y0 * cols + x1] * wx;
      const bottom = map[y1 * cols + x0] * (1 - wx) + map[y1 * cols + x1] * wx;
      out[y * width + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return out;
}

/** Values scaled to [0, 1] by their minimum and maximum (all 0 when constant). */
export function normalise(values: Float32Array): Float32Array {
  let lo = Infinity,
    hi = -Infinity;
  for (const v of values) if (Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  const span = hi - lo;
  return values.map((v) => (span > 0 ? (v - lo) / span : 0));
}

/** The map over the input image [height, width, channels] (any scale), as an RGB picture; opacity is the map's share. */
export function overlay(input: Float32Array, shape: readonly number[], map: Float32Array, rows: number, cols: number, opacity = 0.5): RasterImage {
  const [height, width, channels] = shape;
  const grey = new Float32Array(height * width);
  for (let i = 0; i < grey.length; i++) {
    let s = 0;
    for (let c = 0; c < channels; c++) s += input[i * channels + c];
    grey[i] = s / channels;
  }
  const shade = normalise(grey);
  const heat = normalise(upsample(map, rows, cols, height, width));
  const data = new Uint8Array(height * width * 3);
  const rgb = new Uint8Array(3);
  for (let i = 0; i < heat.length; i++) {
    colour(heat[i], rgb, 0);
    for (let c = 0; c < 3; c++) data[i * 3 + c] = Math.round((1 - opacity) * shade[i] * 255 + opacity * rgb[c]);
  }
  return { width, height, channels: 3, data };
}
