// ResNet-50 as it opens from the gallery (browser mode, headless Chromium,
// 1600×1000, light theme), and a file opened at the same size: what the first
// look shows must read. No input label touches its shape, and a rank hint is
// shown whole or not at all; the toast covers no
// button; every button's characters exist in the fonts; the summary counts
// BatchNorm's moving statistics as non-trainable, as the gallery and the
// trainer do; the minimap covers no node, even over a short canvas; a file
// opens at a readable zoom.
// With ATTN_SCREENSHOTS=DIR it saves DIR/resnet50-opened.png (docs/).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { browserModeSuite, copyTemplates, openFile, ROOT, skipReason, textIs, withEditor, zoomIs } from './harness.js';
import { boxes, missingGlyphs, overlapsBetween } from './page-checks.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

const SIZE = { viewport: { width: 1600, height: 1000 }, colorScheme: 'light' as const };
const FILE = 'mnist-cnn.attn.json';

interface PortEl {
  getBoundingClientRect(): { left: number; right: number; top: number; bottom: number; width: number };
  querySelectorAll(sel: string): ArrayLike<PortEl>;
  getAttribute(name: string): string | null;
  scrollWidth: number;
  clientWidth: number;
}
interface PortDom {
  document: { querySelectorAll(sel: string): ArrayLike<PortEl>; querySelector(sel: string): { style: { transform: string } } | null };
}

/** For each node in view, the room between the texts of an input row and of the output beside it (px), smallest first. */
function portGaps(page: Page): Promise<[number, string][]> {
  return page.evaluate(() => {
    const g = globalThis as unknown as PortDom;
    const gaps: [number, string][] = [];
    for (const node of Array.from(g.document.querySelectorAll('.block-node[data-type]'))) {
      const texts = (port: PortEl) => Array.from(port.querySelectorAll('span')).map((s) => s.getBoundingClientRect());
      for (const input of Array.from(node.querySelectorAll('.port--in')))
        for (const output of Array.from(node.querySelectorAll('.port--out'))) {
          const a = input.getBoundingClientRect();
          const b = output.getBoundingClientRect();
          if (a.bottom <= b.top || b.bottom <= a.top) continue; // not side by side
          const inRight = Math.max(...texts(input).map((r) => r.right));
          const outLeft = Math.min(...texts(output).map((r) => r.left));
          gaps.push([outLeft - inRight, `${input.getAttribute('data-testid')} / ${output.getAttribute('data-testid')}`]);
        }
    }
    return gaps.sort((x, y) => x[0] - y[0]);
  });
}

/** Rank hints drawn only in part (cut, or ending in an ellipsis): each must be whole in its port's row or wholly clipped below it. */
function partlyDrawnRankHints(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const g = globalThis as unknown as PortDom;
    const partial: string[] = [];
    for (const port of Array.from(g.document.querySelectorAll('.port--in'))) {
      const row = port.getBoundingClientRect();
      for (const hint of Array.from(port.querySelectorAll('.port__meta'))) {
        const r = hint.getBoundingClientRect();
        const hidden = r.top >= row.bottom;
        const whole = r.bottom <= row.bottom + 1 && r.right <= row.right + 1 && hint.scrollWidth <= hint.clientWidth;
        if (!hidden && !whole)
          partial.push(`${port.getAttribute('data-testid')}: ${r.top.toFixed(0)}–${r.bottom.toFixed(0)} in ${row.top.toFixed(0)}–${row.bottom.toFixed(0)}`);
      }
    }
    return partial;
  });
}

const zoomOf = (page: Page) =>
  page.evaluate(() =>
    Number(/scale\(([\d.]+)\)/.exec((globalThis as unknown as PortDom).document.querySelector('.react-flow__viewport')!.style.transform)![1]),
  );

describe('the first look at a big template and a file (browser mode, headless Chromium, 1600×1000 light)', { skip, timeout: 300_000 }, () => {
  const env = browserModeSuite((workspace) => copyTemplates(workspace, [FILE]));

  test('ResNet-50 from the gallery: labels clear of shapes, toast clear of buttons, real glyphs, minimap clear, BatchNorm statistics non-trainable', async () => {
    const template = JSON.parse(await readFile(path.join(ROOT, 'templates', 'resnet50.attn.json'), 'utf8')) as { description: string };
    const quoted = /([\d,]+) trainable/.exec(template.description)![1];
    await withEditor(
      env,
      async ({ page, errors }) => {
        await page.getByTestId('new-from-template').click();
        await page.getByTestId('template-open-resnet50').click();
        await page.getByTestId('toast-info').waitFor();
        await page.getByTestId('node-bn1').waitFor();
        await page.waitForTimeout(300); // the view settles at the input end

        const gaps = await portGaps(page);
        assert.ok(gaps.length >= 2, `side-by-side ports in view: ${gaps.length}`);
        assert.ok(gaps[0][0] >= 6, `an input's label ${gaps[0][0].toFixed(1)} px from the shape beside it (${gaps[0][1]})`);
        assert.deepEqual(await partlyDrawnRankHints(page), []);

        assert.deepEqual(overlapsBetween(await boxes(page, '[data-testid="toast-info"]'), await boxes(page, 'button')), []);
        assert.deepEqual(await missingGlyphs(page, 'button'), []);
        assert.deepEqual(overlapsBetween(await boxes(page, '.react-flow__minimap'), await boxes(page, '.react-flow__node')), []);

        // The model summary's split, once the counting worker has counted every block.
        await page.waitForFunction(textIs, ['summary-trainable', quoted] as const, { timeout: 200_000 });
        assert.equal(await page.getByTestId('summary-frozen').textContent(), '0');
        // BatchNorm's moving means and variances: 2 × 26,560 channels.
        assert.equal(await page.getByTestId('summary-non-trainable').textContent(), (2 * 26_560).toLocaleString('en-US'));
        assert.equal(await page.getByTestId('summary-all').textContent(), (25_557_032 + 2 * 26_560).toLocaleString('en-US'));

        const dir = process.env.ATTN_SCREENSHOTS;
        if (dir) {
          await mkdir(dir, { recursive: true });
          await page.screenshot({ path: path.join(dir, 'resnet50-opened.png') });
        }
        assert.deepEqual(errors, []);
      },
      SIZE,
    );
  });

  test('with the dock open (a short canvas), a template opens at its input end with no node under the minimap', async () => {
    await withEditor(
      env,
      async ({ page, errors }) => {
        await page.getByTestId('dock-tab-training').click();
        await page.getByTestId('training-dock').waitFor();
        await page.getByTestId('new-from-template').click();
        await page.getByTestId('template-open-mnist-cnn').click();
        await page.getByTestId('node-conv1').waitFor();
        await page.waitForFunction(zoomIs, 1.1);
        const nodes = await boxes(page, '.react-flow__node');
        assert.ok(nodes.length >= 3, `${nodes.length} nodes in view`);
        assert.deepEqual(overlapsBetween(await boxes(page, '.react-flow__minimap'), nodes), []);
        assert.deepEqual(errors, []);
      },
      SIZE,
    );
  });

  test('a file too wide to fit readably opens at its input end, text 9 px or more, no node under the minimap', async () => {
    await withEditor(
      env,
      async ({ page, errors }) => {
        await openFile(page, FILE, 'node-image');
        await page.waitForTimeout(300);
        const zoom = await zoomOf(page);
        // The smallest text on a node is 10 px: at 0.9 it is 9 px on screen.
        assert.ok(zoom >= 0.9, `opened at zoom ${zoom}`);
        assert.deepEqual(overlapsBetween(await boxes(page, '.react-flow__minimap'), await boxes(page, '.react-flow__node')), []);
        // Fit shows it whole, still clear of the minimap.
        await page.getByTestId('cmd-view.fit').click();
        await page.waitForTimeout(400);
        assert.deepEqual(overlapsBetween(await boxes(page, '.react-flow__minimap'), await boxes(page, '.react-flow__node')), []);
        assert.deepEqual(errors, []);
      },
      SIZE,
    );
  });
});
