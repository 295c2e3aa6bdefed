// Colour maps as 256-entry RGB lookup tables, built from a few control points of
// the matplotlib maps (perceptually uniform ones first).
const STOPS = {
  viridis: ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725'],
  magma: ['#000004', '#180f3d', '#440f76', '#721f81', '#9e2f7f', '#cd4071', '#f1605d', '#fd9668', '#feca8d', '#fcfdbf'],
  inferno: ['#000004', '#1b0c41', '#4a0c6b', '#781c6d', '#a52c60', '#cf4446', '#ed6925', '#fb9b06', '#f7d13d', '#fcffa4'],
  turbo: [
    '#30123b',
    '#4145ab',
    '#4675ed',
    '#39a2fc',
    '#1bcfd4',
    '#24eca6',
    '#61fc6c',
    '#a4fc3b',
    '#d1e834',
    '#f3c63a',
    '#fe9b2d',
    '#f36315',
    '#d93806',
    '#b11901',
    '#7a0403',
  ],
  gray: ['#000000', '#ffffff'],
} as const;

export type ColormapName = keyof typeof STOPS;
export const COLORMAPS = Object.keys(STOPS) as ColormapName[];

const hex = (h: string) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
const cache = new Map<ColormapName, Uint8ClampedArray>();

/** 256 × RGB. */
export function lut(name: ColormapName): Uint8ClampedArray {
  let t = cache.get(name);
  if (t) return t;
  const stops = STOPS[name].map(hex);
  t = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const x = (i / 255) * (stops.length - 1);
    const k = Math.min(Math.floor(x), stops.length - 2);
    const f = x - k;
    for (let c = 0; c < 3; c++) t[i * 3 + c] = stops[k][c] * (1 - f) + stops[k + 1][c] * f;
  }
  cache.set(name, t);
  return t;
}

/** CSS colour of value t in [0, 1]. */
export function cssColor(name: ColormapName, t: number): string {
  const l = lut(name);
  const i = Math.round(Math.min(Math.max(t, 0), 1) * 255) * 3;
  return `rgb(${l[i]}, ${l[i + 1]}, ${l[i + 2]})`;
}
