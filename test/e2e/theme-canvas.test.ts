// The canvas and the passing messages in both themes (browser mode, headless
// Chromium): every text on the nodes, on the wires' shape labels, in the model
// summary and in a toast keeps 4.5:1 against what lies behind it, light as well as dark.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { browserModeSuite, skipReason } from './harness.js';
import { poorlyReadable, textColours } from './contrast.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

describe('canvas text contrast in both themes (browser mode, headless Chromium)', { skip, timeout: 120_000 }, () => {
  const env = browserModeSuite();

  for (const scheme of ['light', 'dark'] as const) {
    test(`prefers-color-scheme ${scheme}: node texts, shape labels, the summary and the template toast read at 4.5:1`, async () => {
      const context = await env.browser.newContext({ viewport: { width: 1600, height: 1000 }, colorScheme: scheme });
      try {
        const page = await context.newPage();
        page.setDefaultTimeout(15_000);
        await page.goto(env.server.url);
        await page.getByTestId('canvas').waitFor();
        // A template from the gallery: nodes with parameters, shapes on the wires, and a toast saying it is a copy.
        await page.getByTestId('new-from-template').click();
        await page.getByTestId('template-open-mnist-cnn').click();
        await page.getByTestId('toast-info').waitFor();
        await page.getByTestId('node-conv1').waitFor();

        const nodes = await textColours(page, '.react-flow__node');
        const wires = await textColours(page, '.react-flow__edgelabel-renderer');
        const toasts = await textColours(page, '.toasts');
        assert.ok(
          nodes.length > 10 && wires.length > 0 && toasts.length > 0,
          `${nodes.length} node texts, ${wires.length} wire labels, ${toasts.length} toasts`,
        );
        assert.deepEqual(poorlyReadable([...nodes, ...wires, ...toasts]), []);
      } finally {
        await context.close();
      }
    });
  }
});
