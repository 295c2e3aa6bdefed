// Layout and readability of the canvas in headless Chromium against browser
// mode, with real clicks and keys: every template opens from the gallery laid
// out left to right with no two nodes overlapping, at a zoom where every text
// on a node is at least 11 px on screen, its input end in view; a node that
// gets a problem keeps its size, the problem a badge hanging under it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { browserModeSuite, copyTemplates, countIs, openFile, ROOT, skipReason, withEditor, zoomIs } from './harness.js';
import { fitWhole } from './canvas-page.js';

/** 11 px on screen for the smallest node text, 10 px (renderer/src/canvas/framing.ts). */
const READABLE_ZOOM = 1.1;
/** The template with the most nodes, opened as a file (its own positions), then auto-laid out. */
const AUTO_LAYOUT_FILE = 'residual-attention-56.attn.json';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

interface TemplateFile {
  nodes: { id: string }[];
  edges: { to: { node: string } }[];
}

interface Box {
  id: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

// Functions run in the page. This file compiles without the DOM's types, so the
// page's globals are typed here as far as these functions use them.
interface PageElement {
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { x: number; y: number; width: number; height: number; right: number; bottom: number };
  querySelectorAll(sel: string): ArrayLike<PageElement>;
  childNodes: ArrayLike<{ nodeType: number; textContent: string | null }>;
}
interface PageGlobals {
  document: { querySelector(sel: string): PageElement | null; querySelectorAll(sel: string): ArrayLike<PageElement> };
  getComputedStyle(el: PageElement): { fontSize: string; visibility: string };
  innerWidth: number;
  innerHeight: number;
}

/** The canvas zoom (React Flow's viewport transform). */
const zoomOf = (page: Page) =>
  page
    .locator('.react-flow__viewport')
    .evaluate((el) => Number(/scale\(([\d.]+)\)/.exec((el as unknown as { style: { transform: string } }).style.transform)?.[1]));

/** The screen boxes of the nodes drawn, by node id. */
const nodeBoxes = (page: Page): Promise<Box[]> =>
  page.evaluate(() =>
    Array.from((globalThis as unknown as PageGlobals).document.querySelectorAll('.block-node[data-type]'), (el) => {
      const r = el.getBoundingClientRect();
      return { id: el.getAttribute('data-testid')!.slice('node-'.length), x: r.x, y: r.y, w: r.width, h: r.height };
    }),
  );

/** Pairs of boxes that overlap by more than half a pixel either way. */
function overlaps(boxes: Box[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i];
      const b = boxes[j];
      const dx = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
      const dy = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
      if (dx > 0.5 && dy > 0.5) out.push(`${a.id} × ${b.id}`);
    }
  return out;
}

/** Font sizes on screen (CSS px × zoom) of the visible text of the nodes in the window, smallest first: [size, "node: text"]. */
const smallestTexts = (page: Page, zoom: number): Promise<[number, string][]> =>
  page.evaluate((z) => {
    const g = globalThis as unknown as PageGlobals;
    const sizes: [number, string][] = [];
    for (const node of Array.from(g.document.querySelectorAll('.block-node[data-type]'))) {
      const r = node.getBoundingClientRect();
      if (r.right < 0 || r.bottom < 0 || r.x > g.innerWidth || r.y > g.innerHeight) continue;
      for (const el of [node, ...Array.from(node.querySelectorAll('*'))]) {
        const own = Array.from(el.childNodes).filter((c) => c.nodeType === 3 && c.textContent!.trim());
        const style = g.getComputedStyle(el);
        if (own.length && style.visibility === 'visible')
          sizes.push([parseFloat(style.fontSize) * z, `${node.getAttribute('data-testid')}: ${own[0].textContent!.trim()}`]);
      }
    }
    return sizes.sort((a, b) => a[0] - b[0]);
  }, zoom);

async function openTemplateCopy(page: Page, id: string, nodes: number): Promise<void> {
  await page.getByTestId('new-from-template').click();
  await page.getByTestId('gallery').waitFor();
  const unsaved = (await page.getByTestId('dirty-marker').count()) > 0;
  await page.getByTestId(`template-open-${id}`).click();
  // The next template replaces the unsaved copy once the in-app prompt says so.
  if (unsaved) await page.getByTestId('confirm-ok').click();
  await page.getByTestId('gallery').waitFor({ state: 'detached' });
  await page.getByTestId('dirty-marker').waitFor();
  // Opened at the input end: the view settles at the readable zoom.
  await page.waitForFunction(zoomIs, READABLE_ZOOM);
  assert.ok(nodes > 0);
}

describe('canvas layout and readability (browser mode, headless Chromium)', { skip, timeout: 600_000 }, () => {
  const env = browserModeSuite((workspace) => copyTemplates(workspace, [AUTO_LAYOUT_FILE]));

  test('every template opens laid out with no two nodes overlapping, readable, its input end in view', async () => {
    const files = (await readdir(path.join(ROOT, 'templates'))).filter((f) => f.endsWith('.attn.json')).sort();
    assert.ok(files.length >= 20, `${files.length} templates`);
    await withEditor(env, async ({ page, errors }) => {
      const report: string[] = [];
      for (const file of files) {
        const id = file.slice(0, -'.attn.json'.length);
        const template = JSON.parse(await readFile(path.join(ROOT, 'templates', file), 'utf8')) as TemplateFile;
        await openTemplateCopy(page, id, template.nodes.length);

        // Readable: every text on the nodes in view is 11 px or more on screen.
        const zoom = await zoomOf(page);
        const texts = await smallestTexts(page, zoom);
        assert.ok(texts.length > 0, `${id}: nodes in view`);
        assert.ok(texts[0][0] >= 11 - 1e-6, `${id}: text "${texts[0][1]}" is ${texts[0][0].toFixed(2)} px on screen`);
        // The input end: a node no wire enters is in the window.
        const entered = new Set(template.edges.map((e) => e.to.node));
        const inView = await nodeBoxes(page);
        const sources = inView.filter((b) => !entered.has(b.id) && b.x >= 0 && b.x + b.w <= 1400 && b.y >= 0 && b.y + b.h <= 900);
        assert.ok(sources.length > 0, `${id}: an input node is in view (${inView.map((b) => b.id).join(', ')})`);

        // No overlaps: the whole graph in view (every node drawn), then every pair of boxes.
        await page.getByTestId('cmd-view.fit').click();
        await page.waitForFunction(countIs, ['.block-node[data-type]', template.nodes.length] as [string, number]);
        await page.waitForTimeout(250); // fitView's animation
        const boxes = await nodeBoxes(page);
        assert.equal(boxes.length, template.nodes.length);
        assert.deepEqual(overlaps(boxes), [], `${id}: overlapping nodes`);
        // Fixed widths cut nothing that matters: every shape on a port is shown whole.
        const cut = await page.evaluate(() =>
          Array.from(
            (globalThis as unknown as PageGlobals).document.querySelectorAll('.port__shape'),
            (el) => el as unknown as { scrollWidth: number; clientWidth: number; textContent: string },
          )
            .filter((el) => el.scrollWidth > el.clientWidth + 1)
            .map((el) => el.textContent),
        );
        assert.deepEqual(cut, [], `${id}: port shapes cut short`);
        report.push(`${id} ${boxes.length} nodes, smallest text ${texts[0][0].toFixed(1)} px`);
      }
      console.log(`# ${report.length} templates, no overlaps:\n# ${report.join('\n# ')}`);
      assert.deepEqual(errors, []);
    });
  });

  test('a node that gets a problem keeps its width and height; the problem is a badge under it', async () => {
    await withEditor(env, async ({ page, errors }) => {
      await openTemplateCopy(page, 'mnist-cnn', 10);
      const box = async (testId: string) => (await page.getByTestId(testId).boundingBox())!;
      const before = await box('node-conv1');
      // Delete the input (click its title, press Delete): conv1's input is left unconnected.
      await page.getByTestId('node-image').locator('.block-node__title').click();
      await page.keyboard.press('Delete');
      await page.getByTestId('node-image').waitFor({ state: 'detached' });
      const badge = page.getByTestId('node-error-conv1');
      await badge.waitFor();
      await page.getByTestId('error-badge-conv1').waitFor();
      const after = await box('node-conv1');
      assert.deepEqual([after.width, after.height], [before.width, before.height], 'the node keeps its size');
      assert.ok(Math.abs(after.width - 196 * (await zoomOf(page))) < 1, `fixed width: ${after.width}`);
      const b = await box('node-error-conv1');
      assert.ok(b.width <= after.width + 0.5, `the badge (${b.width} px) is no wider than its node (${after.width} px)`);
      assert.ok(b.y >= after.y + after.height, 'the badge hangs under the node');
      assert.ok(((await badge.getAttribute('title')) ?? '').startsWith((await badge.textContent()) ?? '-'), 'the full message on hover');
      // Nothing overlaps the badge either: the gap to the next node in the layer holds it.
      const others = (await nodeBoxes(page)).filter((n) => n.id !== 'conv1');
      assert.deepEqual(
        overlaps([{ id: 'badge', x: b.x, y: b.y, w: b.width, h: b.height }, ...others]).filter((p) => p.startsWith('badge')),
        [],
      );
      assert.deepEqual(errors, []);
    });
  });

  test('Auto-layout (Shift+L) lays a file out with no overlaps and frames its input end readably', async () => {
    await withEditor(env, async ({ page, errors }) => {
      const template = JSON.parse(await readFile(path.join(ROOT, 'templates', AUTO_LAYOUT_FILE), 'utf8')) as TemplateFile;
      await openFile(page, AUTO_LAYOUT_FILE);
      await fitWhole(page); // every node loaded and drawn (a file too wide to fit readably opens at its input end)
      await page.getByTestId('canvas').click({ position: { x: 5, y: 5 } }); // focus on the canvas, nothing selected
      await page.keyboard.press('Shift+L');
      await page.waitForFunction(zoomIs, READABLE_ZOOM);
      const texts = await smallestTexts(page, READABLE_ZOOM);
      assert.ok(texts.length > 0 && texts[0][0] >= 11 - 1e-6, `smallest text ${texts[0]?.[0]} px`);
      await page.getByTestId('cmd-view.fit').click();
      await page.waitForFunction(countIs, ['.block-node[data-type]', template.nodes.length] as [string, number]);
      await page.waitForTimeout(250);
      assert.deepEqual(overlaps(await nodeBoxes(page)), []);
      assert.deepEqual(errors, []);
    });
  });
});
