// What the editor benches share: browser mode with headless Chromium, opening a
// graph through the app's own file dialog, and frame timing in the page (the
// deltas between requestAnimationFrame callbacks, and their summary).
import type { Browser, Page } from 'playwright-core';
import { launch, serve, type Served } from '../test/e2e/harness.js';

/** Runs `f` with browser mode serving and headless Chromium open; both are closed whatever happens. */
export async function withBrowserMode<T>(f: (server: Served, browser: Browser) => Promise<T>): Promise<T> {
  const server = await serve();
  try {
    const browser = await launch();
    try {
      return await f(server, browser);
    } finally {
      await browser.close();
    }
  } finally {
    await server.stop();
  }
}

/** Opens a file of the workspace through the toolbar's Open and the file dialog, as a user does. */
export async function openWorkspaceFile(page: Page, name: string): Promise<void> {
  await page.getByTestId('cmd-file.open').click();
  await page.getByTestId(`file-entry-${name}`).click();
}

export interface FrameStats {
  frames: number;
  medianMs: number;
  p95Ms: number;
  maxMs: number;
  /** Frames longer than 50 ms (a visible stutter). */
  longFrames: number;
}

/** rAF deltas over `ms` in the page. */
export async function frameTimes(page: Page, ms: number): Promise<number[]> {
  return page.evaluate((ms) => {
    const g = globalThis as unknown as { requestAnimationFrame(cb: (t: number) => void): number };
    return new Promise<number[]>((resolve) => {
      const deltas: number[] = [];
      let last = -1;
      let start = -1;
      const tick = (t: number) => {
        if (start < 0) start = t;
        if (last >= 0) deltas.push(t - last);
        last = t;
        if (t - start < ms) g.requestAnimationFrame(tick);
        else resolve(deltas);
      };
      g.requestAnimationFrame(tick);
    });
  }, ms);
}

/**
 * Waits until the page draws `run` frames in a row within `frameMs` each (the
 * work after an open or a gesture is done); gives up after `timeoutMs`.
 */
export async function settle(page: Page, { run = 10, frameMs = 34, timeoutMs = 30_000 } = {}): Promise<boolean> {
  return page.evaluate(
    ({ run, frameMs, timeoutMs }) => {
      const g = globalThis as unknown as { requestAnimationFrame(cb: (t: number) => void): number };
      return new Promise<boolean>((resolve) => {
        let last = -1;
        let start = -1;
        let steady = 0;
        const tick = (t: number) => {
          if (start < 0) start = t;
          steady = last >= 0 && t - last <= frameMs ? steady + 1 : 0;
          last = t;
          if (steady >= run) resolve(true);
          else if (t - start > timeoutMs) resolve(false);
          else g.requestAnimationFrame(tick);
        };
        g.requestAnimationFrame(tick);
      });
    },
    { run, frameMs, timeoutMs },
  );
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** The value below which a fraction `p` of the sorted samples lie. */
export function quantile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

export function stats(deltas: readonly number[]): FrameStats {
  const s = [...deltas].sort((a, b) => a - b);
  return {
    frames: s.length,
    medianMs: round2(quantile(s, 0.5)),
    p95Ms: round2(quantile(s, 0.95)),
    maxMs: round2(s.at(-1) ?? NaN),
    longFrames: s.filter((d) => d > 50).length,
  };
}
