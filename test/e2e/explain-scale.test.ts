// The attention dock's scales, in headless Chromium against browser mode: a
// run folder holding a near-uniform spatial map (weights 0.0995…0.101, what a
// softmax that learnt nothing gives) is opened from the Runs tab. Under the
// shared scale (the default) the map is drawn as one flat colour, large, with a
// colour bar from 0; under the per-map scale it is stretched over the whole
// colour map, and a warning gives its range.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { RunFolder } from '../../engine/runs/index.js';
import { browserModeSuite, ROOT, skipReason, withEditor } from './harness.js';
import { writeFinishedSummary } from '../helpers/train-run.js';
import type { PageGlobals } from './training-page.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

const RUN = 'run-near-uniform';
const MAP = '[data-testid="attention-map-cbam-spatialMap"]';

/** Two probe samples of a 7×7 spatial map, every weight within 0.0995…0.101. */
const nearUniform = Float32Array.from({ length: 2 * 49 }, (_, i) => 0.0995 + (0.0015 * ((i * 17) % 49)) / 48);

/** A run of the CBAM template with one attention snapshot, written as training writes it. */
async function writeRun(runsDir: string): Promise<void> {
  const graph = JSON.parse(await readFile(path.join(ROOT, 'templates', 'cbam-mnist-small.attn.json'), 'utf8')) as unknown;
  const run = await RunFolder.create({
    dir: path.join(runsDir, RUN),
    name: 'near-uniform',
    graph,
    config: { dataset: { name: 'mnist', limit: 64 }, epochs: 1 },
  });
  await run.writeAttention(10, [
    { nodeId: 'cbam', port: 'spatialMap', kind: 'spatial', axes: 'batch, height, width', shape: [2, 7, 7], fullShape: [2, 7, 7], data: nearUniform },
    {
      nodeId: 'cbam',
      port: 'channelWeights',
      kind: 'channel',
      axes: 'batch, channel',
      shape: [2, 8],
      fullShape: [2, 8],
      data: Float32Array.from({ length: 16 }, (_, i) => (i % 8) / 8),
    },
  ]);
  await writeFinishedSummary(run, RUN, 'near-uniform');
}

/** The spread of R+G+B over the middle of the map's canvas: about 0 for one flat colour, hundreds for a full colour map. */
function colourSpread(page: Page): Promise<number> {
  return page.evaluate((sel) => {
    const c = [...(globalThis as unknown as PageGlobals).document.querySelectorAll(`${sel} canvas`)][0];
    const x0 = Math.floor(c.width * 0.15);
    const y0 = Math.floor(c.height * 0.15);
    const d = c.getContext('2d').getImageData(x0, y0, Math.floor(c.width * 0.7), Math.floor(c.height * 0.7)).data;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < d.length; i += 4) {
      const s = d[i] + d[i + 1] + d[i + 2];
      lo = Math.min(lo, s);
      hi = Math.max(hi, s);
    }
    return hi - lo;
  }, MAP);
}

describe('attention map scales (browser mode, headless Chromium)', { skip, timeout: 120_000 }, () => {
  const env = browserModeSuite(async (workspace) => writeRun(path.join(path.dirname(workspace), 'state', 'runs')));

  test('a near-uniform map is drawn uniform under the shared scale, and stretched with a warning under the per-map scale', async () => {
    await withEditor(env, async ({ page, errors }) => {
      await page.getByTestId('dock-tab-runs').click();
      await page.getByTestId(`run-open-${RUN}`).click();
      await page.getByTestId('dock-tab-attention').click();
      await page.locator('[data-testid="attention-source-1"] option[value="cbam.spatialMap"]').waitFor({ state: 'attached' });
      await page.getByTestId('attention-source-1').selectOption('cbam.spatialMap');
      await page.locator(MAP).waitFor();
      // The heat alone, not the digit under it.
      await page.getByTestId('attention-opacity').focus();
      await page.keyboard.press('End');

      assert.equal(await page.getByTestId('attention-scale').inputValue(), 'shared', 'the shared scale is the default');
      const bar = page.getByTestId('attention-map-cbam-spatialMap-colour-bar');
      const [lo, hi] = ((await bar.getAttribute('data-range')) ?? '').split(' ').map(Number);
      assert.ok(lo === 0 && Math.abs(hi - 0.101) < 1e-6, `the shared scale runs from 0 to the largest weight, not ${lo}…${hi}`);
      assert.match((await bar.textContent()) ?? '', /^0.*0\.101$/);
      const flat = await colourSpread(page);
      assert.ok(flat < 30, `under the shared scale the map's colours spread ${flat}`);
      assert.equal(await page.getByTestId('attention-map-cbam-spatialMap-scale-warning').count(), 0);

      // Large, and fitted to the dock without scrolling.
      const size = await page.locator(`${MAP} canvas`).boundingBox();
      assert.ok(size && size.width >= 150 && Math.abs(size.width - size.height) <= 1, `the map is ${size?.width}×${size?.height} px`);
      const tiles = await page.locator('.attn-tiles').evaluate((el) => {
        const e = el as unknown as { scrollHeight: number; clientHeight: number };
        return { scroll: e.scrollHeight, client: e.clientHeight };
      });
      assert.ok(tiles.scroll <= tiles.client + 1, `the panel fits the dock (${tiles.scroll} > ${tiles.client})`);

      await page.getByTestId('attention-scale').selectOption('map');
      await page.getByTestId('attention-map-cbam-spatialMap-scale-warning').waitFor();
      assert.match((await page.getByTestId('attention-map-cbam-spatialMap-scale-warning').textContent()) ?? '', /range 0\.0995–0\.101: contrast stretched/);
      assert.match((await bar.textContent()) ?? '', /^0\.0995.*0\.101$/);
      const stretched = await colourSpread(page);
      assert.ok(stretched > 300, `under the per-map scale the map's colours spread ${stretched}`);
      assert.deepEqual(errors, []);
    });
  });
});
