// The editor's frame time while a run streams attention maps, against its idle
// frame time: browser mode in headless Chromium, the SE-CNN benchmark net
// training in its own process with the probes run after every batch, the
// attention panels open and drawing every map. Frame times are the deltas
// between requestAnimationFrame callbacks over a few seconds.
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { openEditor, ROOT, skipReason } from '../test/e2e/harness.js';
import { frameTimes, openWorkspaceFile, stats, withBrowserMode } from './browser.js';

const TEMPLATE = 'bench-se-cnn.attn.json';
const WINDOW_MS = 4000;

const snapshotCount = async (page: Page) => Number((await page.getByTestId('attention-step-label').textContent())?.match(/\/(\d+)\)/)?.[1] ?? 0);

export async function benchEditor(): Promise<Record<string, unknown>> {
  const skip = skipReason();
  if (skip) return { skipped: skip };
  return withBrowserMode(async (server, browser) => {
    await copyFile(path.join(ROOT, 'templates', TEMPLATE), path.join(server.workspace, TEMPLATE));
    const { page } = await openEditor(browser, server.url);
    await openWorkspaceFile(page, TEMPLATE);
    await page.getByTestId('node-se').waitFor();
    await page.getByTestId('dock-tab-attention').click();
    await page.waitForTimeout(500);
    const idle = stats(await frameTimes(page, WINDOW_MS));

    await page.getByTestId('dock-tab-training').click();
    for (const [k, v] of [
      ['limit', 4096],
      ['epochs', 20],
      ['batchSize', 32],
      ['probeSamples', 4],
      ['probeEvery', 1],
      ['probeIntervalMs', 0],
    ] as const)
      await page.getByTestId(`train-${k}`).fill(String(v));
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
    // Many epochs, so that the run still streams when the window ends; stopped here.
    const liveThroughWindow = (await page.getByTestId('train-state').textContent()) === 'running';
    if (liveThroughWindow) await page.getByTestId('train-stop').click();
    await page.waitForFunction(
      (id) =>
        ['stopped', 'done', 'failed'].includes(
          (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document.querySelector(
            `[data-testid="${id}"]`,
          )?.textContent ?? '',
        ),
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
      liveThroughWindow,
      trainingSamplesPerSec: rate,
      note: 'requestAnimationFrame deltas in headless Chromium (software rendering); the training process shares the same CPU cores',
    };
  });
}

// Run on its own: node dist/bench/editor.js
if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await benchEditor(), null, 2));
