// Takes the screenshots in docs/ as a user would see them: browser mode and
// Debian's headless Chromium at 1600×1000, light theme.
//   resnet50-opened.png: ResNet-50 as it opens from the gallery, once the
//     summary has counted it;
//   attention-dock-training.png: the Attention tab after a short CBAM run on
//     MNIST, the "Selected node" panel on the cbam node and the panel on the
//     probe's explanation.
// Build first (npx tsc -p tsconfig.json, and vite build), then:
//   node dist/scripts/docs-screenshots.js [DIR]   (DIR defaults to docs/)
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { copyTemplates, launch, openFile, ROOT, serve } from '../test/e2e/harness.js';
import { fillTrainingForm, waitForState } from '../test/e2e/training-page.js';

const SIZE = { viewport: { width: 1600, height: 1000 }, colorScheme: 'light' as const };
const CBAM = 'cbam-mnist-small.attn.json';

interface Dom {
  document: { querySelectorAll(sel: string): ArrayLike<{ textContent: string | null }> };
}
/** Every row of the model summary has its count. */
const counted = () =>
  Array.from((globalThis as unknown as Dom).document.querySelectorAll('[data-testid^="summary-params-"]')).every((el) => el.textContent !== '…');

async function newPage(browser: Browser, url: string): Promise<Page> {
  const page = await (await browser.newContext(SIZE)).newPage();
  page.setDefaultTimeout(30_000);
  await page.goto(url);
  await page.getByTestId('canvas').waitFor();
  return page;
}

async function resnet50Opened(browser: Browser, url: string, dir: string): Promise<void> {
  const page = await newPage(browser, url);
  await page.getByTestId('new-from-template').click();
  await page.getByTestId('template-open-resnet50').click();
  await page.getByTestId('node-bn1').waitFor();
  await page.waitForFunction(counted, undefined, { timeout: 300_000, polling: 500 });
  await page.screenshot({ path: path.join(dir, 'resnet50-opened.png') });
}

async function attentionDock(browser: Browser, url: string, dir: string): Promise<void> {
  const page = await newPage(browser, url);
  await openFile(page, CBAM, 'node-image');
  await fillTrainingForm(page, { dataset: 'mnist', limit: 2048, epochs: 2, batchSize: 32 });
  await page.getByTestId('train-start').click();
  await waitForState(page, 'done', 600_000);
  await page.getByTestId('cmd-view.fit').click();
  await page.getByTestId('node-cbam').locator('.block-node__title').click();
  await page.getByTestId('dock-tab-attention').click();
  // The second panel, on the probe's explanation, is there by default.
  await page.locator('[data-testid="attention-map-cbam-spatialMap"] canvas').first().waitFor();
  await page.locator('[data-testid^="attention-panel-"]').last().locator('canvas').first().waitFor();
  await page.waitForTimeout(500);
  console.log(
    `attention dock at step ${await page
      .getByTestId('attention-step-label')
      .textContent()
      .catch(() => '?')}`,
  );
  await page.getByTestId('attention-panels').screenshot({ path: path.join(dir, 'attention-dock-training.png') });
}

const dir = path.resolve(process.argv[2] ?? path.join(ROOT, 'docs'));
const server = await serve();
let browser: Browser | undefined;
try {
  await copyTemplates(server.workspace, [CBAM]);
  browser = await launch();
  await resnet50Opened(browser, server.url, dir);
  console.log(`wrote ${path.join(dir, 'resnet50-opened.png')}`);
  await attentionDock(browser, server.url, dir);
  console.log(`wrote ${path.join(dir, 'attention-dock-training.png')}`);
} finally {
  await browser?.close();
  await server.stop();
}
