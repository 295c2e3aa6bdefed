// The attention dock in the light theme (browser mode, headless Chromium,
// 1600×1000): a CBAM run's folder (14×14 spatial map and 8 channel weights,
// written as training writes them) opened from the Runs tab, the "Selected
// node" panel following the cbam node. The bar chart's labels read at 4.5:1
// against the panel, and the spatial map under the bars keeps a useful size.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { RunFolder } from '../../engine/runs/index.js';
import { browserModeSuite, ROOT, skipReason, withEditor } from './harness.js';
import { writeFinishedSummary } from '../helpers/train-run.js';
import { bestContrasts } from './page-checks.js';
import { READABLE } from './contrast.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

const RUN = 'run-cbam-light';
const BARS = '[data-testid="attention-map-cbam-channelWeights"] canvas';
const SPATIAL = '[data-testid="attention-map-cbam-spatialMap"] canvas';
const CHANNELS = 8;

async function writeRun(runsDir: string): Promise<void> {
  const graph = JSON.parse(await readFile(path.join(ROOT, 'templates', 'cbam-mnist-small.attn.json'), 'utf8')) as unknown;
  const run = await RunFolder.create({ dir: path.join(runsDir, RUN), name: 'cbam-light', graph, config: { dataset: { name: 'mnist', limit: 64 }, epochs: 1 } });
  await run.writeAttention(10, [
    {
      nodeId: 'cbam',
      port: 'spatialMap',
      kind: 'spatial',
      axes: 'batch, height, width',
      shape: [1, 14, 14],
      fullShape: [1, 14, 14],
      data: Float32Array.from({ length: 196 }, (_, i) => ((i * 37) % 196) / 196),
    },
    {
      nodeId: 'cbam',
      port: 'channelWeights',
      kind: 'channel',
      axes: 'batch, channel',
      shape: [1, CHANNELS],
      fullShape: [1, CHANNELS],
      data: Float32Array.from({ length: CHANNELS }, (_, i) => 0.3 + i / 12),
    },
  ]);
  await writeFinishedSummary(run, RUN, 'cbam-light');
}

interface Dom {
  document: { querySelector(sel: string): El | null };
  getComputedStyle(el: El): { backgroundColor: string };
}
interface El {
  parentElement: El | null;
  clientWidth: number;
  clientHeight: number;
}

describe('the attention dock in the light theme (browser mode, headless Chromium)', { skip, timeout: 120_000 }, () => {
  const env = browserModeSuite(async (workspace) => writeRun(path.join(path.dirname(workspace), 'state', 'runs')));

  test("the channel bars' labels read at 4.5:1, and the spatial map under them is 160 px or more", async () => {
    await withEditor(
      env,
      async ({ page, errors }) => {
        await page.getByTestId('dock-tab-runs').click();
        await page.getByTestId(`run-open-${RUN}`).click();
        await page.getByTestId('node-image').waitFor();
        // The "Selected node" panel follows the cbam node, picked on the canvas.
        await page.getByTestId('cmd-view.fit').click();
        await page.getByTestId('node-cbam').locator('.block-node__title').click();
        await page.getByTestId('dock-tab-attention').click();
        await page.locator(BARS).waitFor();
        await page.locator(SPATIAL).waitFor();
        await page.waitForTimeout(300); // drawn once the panel's width and height are measured

        const spatial = await page.locator(SPATIAL).boundingBox();
        assert.ok(spatial && spatial.height >= 160, `the spatial map is ${spatial?.width}×${spatial?.height} px`);

        const { width, height, background } = await page.evaluate((sel) => {
          const g = globalThis as unknown as Dom;
          const c = g.document.querySelector(sel)!;
          let bg = 'rgb(255, 255, 255)';
          for (let el: El | null = c; el; el = el.parentElement) {
            const b = g.getComputedStyle(el).backgroundColor;
            if (b !== 'transparent' && !/rgba\(.*, 0\)$/.test(b)) {
              bg = b;
              break;
            }
          }
          return { width: c.clientWidth, height: c.clientHeight, background: bg };
        }, BARS);
        // The labels: one under each bar, in the bottom 16 px (MapCanvas's drawBars).
        const bw = (width - 28) / CHANNELS;
        const columns = Array.from({ length: CHANNELS }, (_, i): [number, number] => [28 + i * bw + 1, 28 + (i + 1) * bw - 1]);
        const best = await bestContrasts(page, BARS, { y0: height - 14, y1: height }, columns, background);
        assert.ok(
          best.every((c) => c >= READABLE),
          `label contrasts against ${background}: ${best.map((c) => c.toFixed(2)).join(', ')}`,
        );
        assert.deepEqual(errors, []);
      },
      { viewport: { width: 1600, height: 1000 }, colorScheme: 'light' },
    );
  });
});
