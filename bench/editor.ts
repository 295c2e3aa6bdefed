// The editor's frame time while a run streams attention maps, against its idle
// frame time: browser mode in headless Chromium, the SE-CNN benchmark net
// training in its own process with the probes run after every batch, the
// attention panels open and drawing every map. Frame times are the deltas
// between requestAnimationFrame callbacks over a few seconds.
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { launch, openEditor, ROOT, serve, skipReason } from '../test/e2e/harness.js';

const TEMPLATE = 'bench-se-cnn.attn.json';
const WINDOW_MS = 4000;

interface FrameStats {
  frames: number;
  medianMs: number;
  p95Ms: number;
  maxMs: number;
  /** Frames longer than 50 ms (a visible stutter). */
  longFrames: number;
}

/** rAF deltas over `ms` in the page. */
async function frameTimes(page: Page, ms: number): Promise<number[]> {
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

function stats(deltas: number[]): FrameStats {
  const s = [...deltas].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
  const r = (x: number) => Math.round(x * 100) / 100;
  return { frames: s.length, medianMs: r(q(0.5)), p95Ms: r(q(0.95)), maxMs: r(s.at(-1) ?? NaN), longFrames: s.filter((d) => d > 50).length };
}

const snapshotCount = async (page: Page) => Number((await page.getByTestId('attention-step-label').textContent())?.match(/\/(\d+)\)/)?.[1] ?? 0);

export async function benchEditor(): Promise<Record<string, unknown>> {
  const skip = skipReason();
  if (skip) return { skipped: skip };
  const [server, browser] = await Promise.all([serve(), launch()]);
  try {
    await copyFile(path.join(ROOT, 'templates', TEMPLATE), path.join(server.workspace, TEMPLATE));
    const { page } = await openEditor(browser, server.url);
    await page.getByTestId('cmd-file.open').click();
    await page.getByTestId(`file-entry-${TEMPLATE}`).click();
    await page.getByTestId('node-se').waitFor();
    await page.getByTestId('dock-tab-attention').click();
    await page.waitForTimeout(500);
    const idle = stats(await frameTimes(page, WINDOW_MS));

    await page.getByTestId('dock-tab-training').click();
    for (const [k, v] of [['limit', 4096], ['epochs', 1], ['batchSize', 32], ['probeSamples', 4], ['probeEvery', 1], ['probeIntervalMs', 0]] as const) await page.getByTestId(`train-${k}`).fill(String(v));
    await page.getByTestId('train-start').click();
    await page.getByTestId('dock-tab-attention').click();
    // Once maps flow, draw every output of the net.
    await page.locator('[data-testid="attention-source-1"] option[value="se.weights"]').waitFor({ state: 'attached', timeout: 120_000 });
    await page.getByTestId('attention-tile-all').click();
    const before = await snapshotCount(page);
    const t0 = Date.now();
    const streaming = stats(await frameTimes(page, WINDOW_MS));
    const seconds = (Date.now() - t0) / 1000;
    const received = (await snapshotCount(page)) - before;
    await page.getByTestId('dock-tab-training').click();
    const rate = Number(await page.getByTestId('train-rate').textContent());
    const backend = (await page.getByTestId('train-backend-info').textContent())?.match(/Backend (\S+)/)?.[1];
    await page.getByTestId('train-stop').click();
    await page.waitForFunction(
      (id) => ['stopped', 'done', 'failed'].includes((globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document.querySelector(`[data-testid="${id}"]`)?.textContent ?? ''),
      'train-state',
      { timeout: 60_000 },
    );
    return {
      graph: TEMPLATE,
      backend,
      windowMs: WINDOW_MS,
      idle,
      streaming,
      snapshotsPerSec: Math.round((received / seconds) * 10) / 10,
      trainingSamplesPerSec: rate,
      note: 'requestAnimationFrame deltas in headless Chromium (software rendering); the training process shares the same CPU cores',
    };
  } finally {
    await browser.close();
    await server.stop();
  }
}

// Run on its own: node dist/bench/editor.js
if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await benchEditor(), null, 2));
