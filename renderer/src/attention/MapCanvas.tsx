// Draws one attention map for one probe sample on a <canvas>: heatmaps (over the
// input image for spatial maps), attention matrices per head with token labels,
// and bar charts for channel weights and gates.
import { useEffect, useRef, useState } from 'react';
import { useStore } from 'zustand';
import { observeSize } from '../resizeObserver.js';
import { theme } from '../theme.js';
import { lut, type ColormapName } from './colormaps.js';
import { range, topK, type MapView, type Tile } from './maps.js';
import { tileLayout } from './scale.js';

export interface DrawOptions {
  colormap: ColormapName;
  /** Heat over the input image: 0 shows only the image, 1 only the heat. */
  opacity: number;
  /** The value range to colour (the shared scale); null: this map's own range, over all its tiles. */
  scale: [number, number] | null;
  sort: 'index' | 'value';
  topK: number;
}

export interface Underlay {
  /** [H, W, C] */
  shape: number[];
  data: Float32Array | Int32Array;
}

/** An offscreen canvas holding pixels (smoothing happens when it is drawn scaled). */
function pixels(w: number, h: number, fill: (rgba: Uint8ClampedArray) => void): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  const ctx = c.getContext('2d')!;
  const img = ctx.createImageData(w, h);
  fill(img.data);
  ctx.putImageData(img, 0, 0);
  return c;
}

function heatPixels(t: Tile, cmap: ColormapName, [lo, hi]: [number, number]): HTMLCanvasElement {
  const table = lut(cmap);
  const span = hi - lo || 1;
  return pixels(t.cols, t.rows, (px) => {
    for (let i = 0; i < t.values.length; i++) {
      const k = Math.round(Math.min(Math.max((t.values[i] - lo) / span, 0), 1) * 255) * 3;
      px[i * 4] = table[k];
      px[i * 4 + 1] = table[k + 1];
      px[i * 4 + 2] = table[k + 2];
      px[i * 4 + 3] = 255;
    }
  });
}

function imagePixels(u: Underlay): HTMLCanvasElement {
  const [h, w, c = 1] = u.shape;
  const [lo, hi] = range(u.data);
  const span = hi - lo || 1;
  return pixels(w, h, (px) => {
    for (let i = 0; i < h * w; i++) {
      for (let k = 0; k < 3; k++) px[i * 4 + k] = ((u.data[i * c + (c >= 3 ? k : 0)] - lo) / span) * 255;
      px[i * 4 + 3] = 255;
    }
  });
}

/** Width of the element, followed as it resizes. */
function useWidth(): [React.RefObject<HTMLDivElement | null>, number] {
  const ref = useRef<HTMLDivElement>(null);
  const [w, setW] = useState(0);
  useEffect(() => {
    const el = ref.current!;
    setW(el.clientWidth);
    return observeSize(el, () => setW(el.clientWidth));
  }, []);
  return [ref, w];
}

function prepare(canvas: HTMLCanvasElement, w: number, h: number): CanvasRenderingContext2D {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  canvas.style.width = `${w}px`;
  canvas.style.height = `${h}px`;
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return ctx;
}

const LABEL_FONT = '9px ui-monospace, "DejaVu Sans Mono", monospace';

/** The colours a canvas draws its labels and lines in, as CSS resolves them for the theme (training.css, `.map-canvas canvas`). */
interface Ink {
  text: string;
  muted: string;
  line: string;
}
function inkOf(canvas: HTMLCanvasElement): Ink {
  const css = (canvas.ownerDocument.defaultView ?? window).getComputedStyle(canvas);
  return { text: css.color, muted: css.textDecorationColor, line: css.columnRuleColor };
}

interface TilesProps {
  view: Extract<MapView, { draw: 'tiles' }>;
  opts: DrawOptions;
  underlay?: Underlay;
  /** Token labels for matrices (query rows, key columns). */
  tokens?: string[];
  /** The tiles are sized to fit this height too (the dock's panels); without it they stay small. */
  maxHeight?: number;
}

/** The range a map's own scale colours: every tile of it, so its heads compare. */
const ownRange = (tiles: readonly Tile[]): [number, number] => {
  let lo = Infinity;
  let hi = -Infinity;
  for (const t of tiles) {
    const [a, b] = range(t.values);
    lo = Math.min(lo, a);
    hi = Math.max(hi, b);
  }
  return lo <= hi ? [lo, hi] : [0, 1];
};

function drawTiles(canvas: HTMLCanvasElement, width: number, { view, opts, underlay, tokens, maxHeight }: TilesProps): void {
  const n = view.tiles.length;
  const first = view.tiles[0];
  const labelled = view.kind === 'matrix' && tokens && tokens.length === first.cols && first.cols <= 40;
  const margin = labelled ? 22 : 0;
  const gap = n > 1 ? 6 : 0;
  const caption = n > 1 ? 11 : 0;
  const { perRow, tileW, tileH } = tileLayout(n, first.rows / first.cols, {
    width,
    maxHeight,
    extraW: margin,
    extraH: margin + caption,
    gap,
    max: maxHeight === undefined ? (n === 1 ? 240 : 160) : 640,
  });
  const scale = opts.scale ?? ownRange(view.tiles);
  const rowsOfTiles = Math.ceil(n / perRow);
  const height = rowsOfTiles * (tileH + margin + caption + gap);
  // As wide as the tiles, so a map fitted to the height sits in the middle of the panel.
  const used = Math.min(n, perRow) * (tileW + margin + gap) - gap;
  const ctx = prepare(canvas, Math.min(width, used), Math.max(height, 20));
  const image = underlay && view.kind !== 'matrix' ? imagePixels(underlay) : null;
  const ink = inkOf(canvas);
  view.tiles.forEach((t, i) => {
    const x = (i % perRow) * (tileW + margin + gap) + margin;
    const y = Math.floor(i / perRow) * (tileH + margin + caption + gap) + caption + margin;
    const heat = heatPixels(t, opts.colormap, scale);
    ctx.imageSmoothingEnabled = false;
    if (image) {
      ctx.globalAlpha = 1;
      ctx.drawImage(image, x, y, tileW, tileH);
      ctx.globalAlpha = opts.opacity;
      ctx.imageSmoothingEnabled = true; // a coarse spatial map over a finer image: blend, don't block
      ctx.drawImage(heat, x, y, tileW, tileH);
      ctx.globalAlpha = 1;
    } else {
      ctx.drawImage(heat, x, y, tileW, tileH);
    }
    ctx.strokeStyle = '#3b414d';
    ctx.strokeRect(x + 0.5, y + 0.5, tileW - 1, tileH - 1);
    ctx.fillStyle = ink.muted;
    ctx.font = LABEL_FONT;
    if (t.label) ctx.fillText(t.label, x, y - margin - 2);
    if (labelled) {
      const cw = tileW / t.cols;
      const ch = tileH / t.rows;
      ctx.textAlign = 'right';
      for (let r = 0; r < t.rows; r += Math.ceil(9 / ch)) ctx.fillText(tokens![r] ?? '', x - 3, y + (r + 0.5) * ch + 3);
      ctx.textAlign = 'center';
      for (let c = 0; c < t.cols; c += Math.ceil(12 / cw)) ctx.fillText(tokens![c] ?? '', x + (c + 0.5) * cw, y - 4);
      ctx.textAlign = 'start';
    }
  });
}

function drawBars(canvas: HTMLCanvasElement, width: number, view: Extract<MapView, { draw: 'bars' }>, opts: DrawOptions): void {
  const n = view.values.length;
  const order = Array.from({ length: n }, (_, i) => i);
  if (opts.sort === 'value') order.sort((a, b) => view.values[b] - view.values[a]);
  const top = topK(view.values, opts.topK);
  const [lo0, hi0] = opts.scale ?? range(view.values);
  const lo = Math.min(0, lo0);
  const hi = Math.max(hi0, lo + 1e-6);
  const height = 120;
  const axis = 16;
  const ctx = prepare(canvas, width, height);
  const bw = (width - 28) / n;
  const y0 = height - axis;
  const scaleY = (v: number) => y0 - ((v - lo) / (hi - lo)) * (y0 - 6);
  const ink = inkOf(canvas);
  ctx.fillStyle = ink.muted;
  ctx.font = LABEL_FONT;
  ctx.fillText(hi.toPrecision(2), 0, 12);
  ctx.fillText(lo.toPrecision(2), 0, y0);
  const table = lut(opts.colormap);
  order.forEach((idx, pos) => {
    const v = view.values[idx];
    const x = 28 + pos * bw;
    const k = Math.round(Math.min(Math.max((v - lo) / (hi - lo), 0), 1) * 255) * 3;
    ctx.fillStyle = top.has(idx) ? `rgb(${table[k]}, ${table[k + 1]}, ${table[k + 2]})` : '#4a5160';
    const y = scaleY(v);
    ctx.fillRect(x + (bw > 3 ? 0.5 : 0), Math.min(y, scaleY(0)), Math.max(1, bw - (bw > 3 ? 1 : 0)), Math.max(1, Math.abs(scaleY(0) - y)));
    if (bw >= 12 || (pos % Math.ceil(14 / bw) === 0 && n <= 256)) {
      ctx.fillStyle = top.has(idx) ? ink.text : ink.muted;
      ctx.textAlign = 'center';
      ctx.fillText(String(idx), x + bw / 2, height - 4);
      ctx.textAlign = 'start';
    }
  });
  ctx.strokeStyle = ink.line;
  ctx.beginPath();
  ctx.moveTo(28, scaleY(0) + 0.5);
  ctx.lineTo(width, scaleY(0) + 0.5);
  ctx.stroke();
}

export function MapCanvas({
  view,
  opts,
  underlay,
  tokens,
  maxHeight,
  testId,
}: {
  view: MapView;
  opts: DrawOptions;
  underlay?: Underlay;
  tokens?: string[];
  maxHeight?: number;
  testId?: string;
}) {
  const [box, width] = useWidth();
  const canvas = useRef<HTMLCanvasElement>(null);
  // Labels are drawn in the theme's colours: a new theme redraws them.
  const themeChoice = useStore(theme, (s) => s.choice);
  useEffect(() => {
    if (!canvas.current || width <= 0) return;
    if (view.draw === 'tiles') drawTiles(canvas.current, width, { view, opts, underlay, tokens, maxHeight });
    else drawBars(canvas.current, width, view, opts);
  }, [view, opts, underlay, tokens, maxHeight, width, themeChoice]);
  return (
    <div className="map-canvas" ref={box}>
      <canvas
        ref={canvas}
        data-testid={testId}
        data-kind={view.kind}
        data-draw={view.draw}
        data-labels={view.draw === 'tiles' ? view.tiles.map((t) => t.label ?? '').join('|') : undefined}
      />
    </div>
  );
}
