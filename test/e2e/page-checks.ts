// Checks on what a page draws, for the editor's and the dock's e2e tests: the
// boxes of elements, characters that no installed font has, and the contrast
// of what a canvas drew. Page code is written against minimal types: this file
// compiles without the DOM's.
import type { Page } from 'playwright-core';
import { contrast } from './contrast.js';

export interface Box {
  what: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

interface El {
  getBoundingClientRect(): { x: number; y: number; width: number; height: number };
  getAttribute(name: string): string | null;
  textContent: string | null;
  className: unknown;
  tagName: string;
}
interface Dom {
  document: { querySelectorAll(sel: string): ArrayLike<El>; createElement(tag: 'canvas'): PageCanvas };
  getComputedStyle(el: El): { font: string; visibility: string; backgroundColor: string };
}
interface PageCanvas {
  width: number;
  height: number;
  getContext(
    kind: '2d',
    opts?: { willReadFrequently: boolean },
  ): {
    font: string;
    clearRect(x: number, y: number, w: number, h: number): void;
    fillText(t: string, x: number, y: number): void;
    getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
  };
}

/** The shown elements matching `selector`, each named by its test id (or tag) and text. */
export function boxes(page: Page, selector: string): Promise<Box[]> {
  return page.evaluate((selector) => {
    const g = globalThis as unknown as Dom;
    return Array.from(g.document.querySelectorAll(selector))
      .map((el) => {
        const r = el.getBoundingClientRect();
        const what = `${el.getAttribute('data-testid') ?? el.tagName.toLowerCase()} "${(el.textContent ?? '').trim().slice(0, 30)}"`;
        return { what, x: r.x, y: r.y, w: r.width, h: r.height };
      })
      .filter((b) => b.w > 0 && b.h > 0);
  }, selector);
}

/** Whether two boxes share any area. */
export const overlap = (a: Box, b: Box): boolean => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/** Pairs of `a` and `b` boxes that overlap, described. */
export const overlapsBetween = (as: Box[], bs: Box[]): string[] => as.flatMap((a) => bs.filter((b) => overlap(a, b)).map((b) => `${a.what} over ${b.what}`));

/**
 * The characters in the text of the elements matching `selector` that the page's
 * fonts lack: drawn in the element's font, they come out as the same box as a
 * private-use character no font has (Chromium's .notdef).
 */
export function missingGlyphs(page: Page, selector: string): Promise<string[]> {
  return page.evaluate((selector) => {
    const g = globalThis as unknown as Dom;
    const canvas = g.document.createElement('canvas');
    canvas.width = canvas.height = 48;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const drawn = (font: string, ch: string) => {
      ctx.clearRect(0, 0, 48, 48);
      ctx.font = font;
      ctx.fillText(ch, 8, 32);
      return Array.from(ctx.getImageData(0, 0, 48, 48).data).join();
    };
    const missing = new Set<string>();
    for (const el of Array.from(g.document.querySelectorAll(selector))) {
      const font = g.getComputedStyle(el).font;
      const tofu = drawn(font, '\uE000');
      for (const ch of new Set(el.textContent ?? ''))
        if (ch.trim() && drawn(font, ch) === tofu) missing.add(`${ch} (U+${ch.codePointAt(0)!.toString(16).toUpperCase()})`);
    }
    return [...missing];
  }, selector);
}

/**
 * The best contrast any pixel a canvas drew in a band has against `background`
 * (CSS rgb()), per column range: each range is one label, and its darkest
 * (or lightest) stroke is what the eye reads.
 */
export function bestContrasts(
  page: Page,
  canvasSelector: string,
  band: { y0: number; y1: number },
  columns: [number, number][],
  background: string,
): Promise<number[]> {
  return page
    .evaluate(
      ([sel, y0, y1, cols]) => {
        const c = (globalThis as unknown as { document: { querySelector(s: string): PageCanvas | null } }).document.querySelector(sel)!;
        const scale = c.width / (c as unknown as { clientWidth: number }).clientWidth;
        const ctx = c.getContext('2d');
        return cols.map(([x0, x1]) => {
          const w = Math.max(1, Math.round((x1 - x0) * scale));
          const d = ctx.getImageData(Math.round(x0 * scale), Math.round(y0 * scale), w, Math.max(1, Math.round((y1 - y0) * scale))).data;
          const px: [number, number, number, number][] = [];
          for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0) px.push([d[i], d[i + 1], d[i + 2], d[i + 3]]);
          return px;
        });
      },
      [canvasSelector, band.y0, band.y1, columns] as const,
    )
    .then((perColumn) =>
      perColumn.map((pixels) => {
        const [br, bg, bb] = (background.match(/[\d.]+/g) ?? []).map(Number);
        let best = 1;
        for (const [r, gr, b, a] of pixels) {
          // Composited over the background, as the eye sees it.
          const k = a / 255;
          const rgb = `rgb(${r * k + br * (1 - k)}, ${gr * k + bg * (1 - k)}, ${b * k + bb * (1 - k)})`;
          best = Math.max(best, contrast(rgb, background));
        }
        return best;
      }),
    );
}
