// A 500-node graph (the one `npm run bench -- canvas` measures) opens in the
// editor and draws: every node, a shape on its wires, and an edit reaches the
// shapes downstream. Speed is the bench's business; this checks behaviour.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { serializeGraph } from '../../engine/graph/schema.js';
import { canvasGraph, edgeInto, EDITED_NODE } from '../helpers/canvas-graph.js';
import { browserModeSuite, openEditor, openFile, skipReason } from './harness.js';
import { fitWhole, shows } from './canvas-page.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

describe('a 500-node graph on the canvas (headless Chromium)', { skip, timeout: 180_000 }, () => {
  const graph = canvasGraph();
  const env = browserModeSuite(async (workspace) => {
    await writeFile(path.join(workspace, 'large.attn.json'), serializeGraph(graph));
  });

  test('opens valid, draws every node with its shapes, and an edit updates the shapes on the node and its wire', async () => {
    const { context, page, errors } = await openEditor(env.browser, env.server.url);
    page.setDefaultTimeout(60_000);
    try {
      await openFile(page, 'large.attn.json');
      // Too big to read whole, it opens at its input end; fitted into view, every node is drawn.
      await fitWhole(page);
      await page
        .locator('.react-flow__node')
        .nth(graph.nodes.length - 1)
        .waitFor();
      assert.equal(await page.locator('.react-flow__node').count(), graph.nodes.length);
      assert.equal(await page.getByTestId('status-errors').textContent(), '✓ valid graph');
      assert.equal(await page.locator('[data-testid^="edge-"]').count(), graph.edges.length, 'a label on every wire');
      const unknown = await page
        .locator('[data-testid^="edge-"]')
        .evaluateAll((els) => els.filter((e) => !/^\[\?, 32, 32, 16\]$/.test(e.textContent ?? '')).map((e) => e.getAttribute('data-testid')));
      assert.deepEqual(unknown, [], 'every wire carries [?, 32, 32, 16]');
      assert.equal(await page.getByTestId('shape-y-out').count(), 0, 'the output has no output port');
      assert.equal(await page.getByTestId(`shape-${EDITED_NODE}-out`).textContent(), '[?, 32, 32, 16]');

      // Far out the shapes are left undrawn (too small to read); the summary's row brings the node close.
      assert.equal(await page.getByTestId(`shape-${EDITED_NODE}-out`).isVisible(), false);
      await page.getByTestId(`summary-row-${EDITED_NODE}`).click();
      await page.getByTestId(`shape-${EDITED_NODE}-out`).waitFor();
      await page.getByTestId(`node-${EDITED_NODE}`).click();
      await page.getByTestId('param-filters').fill('40');
      await shows(page, `shape-${EDITED_NODE}-out`, '[?, 32, 32, 40]');
      assert.equal(await page.getByTestId(`edge-${edgeInto('r0', 'in')}`).textContent(), '[?, 32, 32, 40]');
      // The next conv brings the channels back to 16: nothing further downstream changes.
      assert.equal(await page.getByTestId(`edge-${edgeInto('add0', 'in1')}`).textContent(), '[?, 32, 32, 16]');
      assert.equal(await page.getByTestId('status-errors').textContent(), '✓ valid graph');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
