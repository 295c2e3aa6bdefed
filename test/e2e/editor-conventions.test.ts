// The node-editor conventions, end to end in headless Chromium with real mouse
// and keys: context menus (canvas, node, wire), a wire dropped on empty canvas,
// in-app prompts, bypass, align and distribute, ungroup, the knife, comments
// and reroute points saved in the file.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { browserModeSuite, countIs, openEditor, openFile, ROOT, skipReason, textIs, titleIncludes, withEditor } from './harness.js';
import { fitWhole } from './canvas-page.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

const TEMPLATE = 'mnist-cnn.attn.json';
/** The template with its nodes on a staggered diagonal (for align and distribute). */
const STAGGERED = 'staggered.attn.json';

interface SavedGraph {
  nodes: { id: string; type: string; bypass?: boolean; position: { x: number; y: number } }[];
  edges: { from: { node: string }; to: { node: string }; via?: { x: number; y: number }[] }[];
  comments?: { id: string; text: string }[];
}

async function center(page: Page, testId: string): Promise<{ x: number; y: number }> {
  const b = await page.getByTestId(testId).boundingBox();
  assert.ok(b, `${testId} is on screen`);
  return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
}

async function rightClick(page: Page, at: { x: number; y: number }): Promise<void> {
  await page.mouse.move(at.x, at.y);
  await page.mouse.down({ button: 'right' });
  await page.mouse.up({ button: 'right' });
}

/** A point on the empty canvas: below the row of nodes. */
async function emptySpot(page: Page): Promise<{ x: number; y: number }> {
  const canvas = await page.getByTestId('canvas').boundingBox();
  assert.ok(canvas);
  return { x: canvas.x + canvas.width * 0.4, y: canvas.y + canvas.height * 0.8 };
}

const edgeCount = (page: Page) => page.locator('[data-testid^="edge-"]').count();

async function saveAs(page: Page, workspace: string, name: string): Promise<SavedGraph> {
  await page.getByTestId('cmd-file.saveAs').click();
  await page.getByTestId('file-name').fill(name);
  await page.getByTestId('file-save').click();
  await page.waitForFunction(titleIncludes, name.split('.')[0]);
  return JSON.parse(await readFile(path.join(workspace, name), 'utf8')) as SavedGraph;
}

describe('node-editor conventions (browser mode, headless Chromium)', { skip, timeout: 240_000 }, () => {
  const env = browserModeSuite(async (workspace) => {
    const text = await readFile(path.join(ROOT, 'templates', TEMPLATE), 'utf8');
    await writeFile(path.join(workspace, TEMPLATE), text);
    const g = JSON.parse(text) as SavedGraph;
    g.nodes.forEach((n, i) => (n.position = { x: i * 260 + (i % 3) * 40, y: (i % 3) * 90 }));
    await writeFile(path.join(workspace, STAGGERED), JSON.stringify(g));
  });

  test('context menus on a node, the canvas and a wire: keys, Esc and a click away; a right drag pans instead', async () => {
    await withEditor(env, async ({ page, errors }) => {
      await openFile(page, TEMPLATE, 'node-conv1');
      await fitWhole(page);
      const menu = page.getByTestId('context-menu');

      // Node menu, by keys: Down to Duplicate, Enter.
      await rightClick(page, await center(page, 'node-dropout'));
      await menu.waitFor();
      assert.equal(await menu.getAttribute('data-target'), 'node');
      assert.match((await menu.locator('.context-menu__item.active').textContent()) ?? '', /^Rename/);
      await page.keyboard.press('ArrowDown');
      assert.match((await menu.locator('.context-menu__item.active').textContent()) ?? '', /^Duplicate/);
      await page.keyboard.press('Enter');
      await menu.waitFor({ state: 'detached' });
      await page.waitForFunction(countIs, ['[data-type="core.dropout"]', 2] as const);

      // Rename in the menu itself.
      await rightClick(page, await center(page, 'node-conv1'));
      await page.getByTestId('menu-rename').click();
      await page.getByTestId('menu-rename-input').fill('Stem conv');
      await page.keyboard.press('Enter');
      await page.getByTestId('node-conv1').locator('.block-node__title', { hasText: 'Stem conv' }).waitFor();

      // Esc closes; so does a click elsewhere.
      await rightClick(page, await center(page, 'node-fc'));
      await menu.waitFor();
      await page.keyboard.press('Escape');
      await menu.waitFor({ state: 'detached' });
      const spot = await emptySpot(page);
      await rightClick(page, spot);
      await menu.waitFor();
      assert.equal(await menu.getAttribute('data-target'), 'canvas');
      await page.mouse.click(spot.x + 300, spot.y - 40);
      await menu.waitFor({ state: 'detached' });

      // Canvas menu: add a block at the point (the quick-add search opens there).
      await rightClick(page, spot);
      await page.getByTestId('menu-add-block').click();
      const quick = page.getByTestId('quick-add');
      await quick.waitFor();
      const qb = await quick.boundingBox();
      assert.ok(qb && Math.abs(qb.x - spot.x) < 2 && Math.abs(qb.y - spot.y) < 2, 'the search opens at the click');
      await page.keyboard.type('layer norm');
      await page.keyboard.press('Enter');
      await page.waitForFunction(countIs, ['[data-type="core.layerNorm"]', 1] as const);

      // Wire menu: delete the wire pool2 -> flatten (e5) from its label.
      const before = await edgeCount(page);
      await rightClick(page, await center(page, 'edge-e5'));
      assert.equal(await menu.getAttribute('data-target'), 'edge');
      await page.getByTestId('menu-delete-wire').click();
      await page.getByTestId('edge-e5').waitFor({ state: 'detached' });
      assert.equal(await edgeCount(page), before - 1);

      // A right drag pans the view and opens no menu.
      const transform = () => page.locator('.react-flow__viewport').evaluate((el) => (el as unknown as { style: { transform: string } }).style.transform);
      const t0 = await transform();
      const clear = { x: spot.x + 300, y: spot.y + 20 }; // the layer norm now sits at the spot
      await page.mouse.move(clear.x, clear.y);
      await page.mouse.down({ button: 'right' });
      await page.mouse.move(clear.x + 120, clear.y - 30, { steps: 8 });
      await page.mouse.up({ button: 'right' });
      assert.notEqual(await transform(), t0, 'the view moved');
      assert.equal(await menu.count(), 0, 'no menu after a drag');
      assert.deepEqual(errors, []);
    });
  });

  test('a wire dropped on empty canvas offers only blocks that take it, and connects the one chosen', async () => {
    await withEditor(env, async ({ page, errors }) => {
      await openFile(page, TEMPLATE, 'node-conv1');
      await fitWhole(page);
      const edgesBefore = await edgeCount(page);
      const from = await center(page, 'handle-pool2-out-out');
      const spot = await emptySpot(page);
      await page.mouse.move(from.x, from.y);
      await page.mouse.down();
      await page.mouse.move(spot.x, spot.y, { steps: 12 });
      await page.mouse.up();
      const quick = page.getByTestId('quick-add');
      await quick.waitFor();
      assert.equal(await quick.getAttribute('data-wire'), 'source');
      // pool2 carries [?, 7, 7, 32] (rank 4): an LSTM (rank 3) is not offered, a convolution is. "lstm"
      // still finds Per sentence, which takes rank 4 and runs an LSTM inside.
      await page.keyboard.type('lstm');
      await page.getByTestId('quick-add-item-core.perSentence').waitFor();
      assert.equal(await page.getByTestId('quick-add-item-core.lstm').count(), 0, 'the LSTM block is not offered for a rank-4 wire');
      await page.getByTestId('quick-add-input').fill('conv');
      await page.getByTestId('quick-add-item-core.conv2d').waitFor();
      await page.getByTestId('quick-add-input').fill('flatten');
      await page.keyboard.press('Enter');
      await quick.waitFor({ state: 'detached' });
      await page.waitForFunction(countIs, ['[data-type="core.flatten"]', 2] as const);
      const added = await page
        .locator('[data-type="core.flatten"]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')!.slice('node-'.length)).filter((id) => id !== 'flatten'));
      assert.equal(added.length, 1);
      await page.waitForFunction(textIs, [`shape-${added[0]}-out`, '[?, 1568]'] as const);
      assert.equal(await edgeCount(page), edgesBefore + 1);
      assert.deepEqual(errors, []);
    });
  });

  test('shortcut list, in-app unsaved-change prompt (no native dialog), and no text selection across the chrome', async () => {
    const { context, page, errors } = await openEditor(env.browser, env.server.url);
    const native: string[] = [];
    page.on('dialog', (d) => {
      native.push(d.type());
      void d.dismiss();
    });
    try {
      await page.keyboard.press('F1');
      const help = page.getByTestId('help-dialog');
      await help.waitFor();
      await page.getByTestId('shortcut-edit.group').getByText('Group the selection into a composite').waitFor();
      await page.getByTestId('shortcut-edit.ungroup').waitFor();
      await help.getByText('Double-click a composite node (or Enter)').waitFor();
      await help.getByText('Esc inside a composite').waitFor();
      await page.keyboard.press('Escape');
      await help.waitFor({ state: 'detached' });

      await openFile(page, TEMPLATE, 'node-conv1');

      await fitWhole(page);
      await page.getByTestId('node-dropout').locator('.block-node__title').click();
      await page.keyboard.press('Delete');
      await page.getByTestId('dirty-marker').waitFor();
      await page.getByTestId('cmd-file.new').click();
      const ask = page.getByTestId('confirm-dialog');
      await ask.waitFor();
      await page.getByTestId('confirm-cancel').click();
      await ask.waitFor({ state: 'detached' });
      await page.getByTestId('node-conv1').waitFor();
      await page.getByTestId('cmd-file.new').click();
      await page.keyboard.press('Escape'); // Esc answers no as well
      await ask.waitFor({ state: 'detached' });
      assert.equal(await page.getByTestId('node-conv1').count(), 1, 'the graph stays');
      await page.getByTestId('cmd-file.new').click();
      await page.getByTestId('confirm-ok').click();
      await page.getByTestId('node-conv1').waitFor({ state: 'detached' });
      assert.deepEqual(native, [], 'no native confirm()');

      // A drag from the palette's header across the toolbar selects nothing.
      const a = await page.getByTestId('palette').boundingBox();
      assert.ok(a);
      await page.mouse.move(a.x + 5, a.y + 5);
      await page.mouse.down();
      await page.mouse.move(a.x + 600, a.y + 400, { steps: 10 });
      await page.mouse.up();
      assert.equal(await page.evaluate(() => String((globalThis as unknown as { getSelection(): unknown }).getSelection())), '');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('bypass: refused with the node named where shapes change; a bypassed node is greyed, saved, and compiles as identity', async () => {
    await withEditor(env, async ({ page, errors }) => {
      await openFile(page, TEMPLATE, 'node-conv1');
      await fitWhole(page);
      await page.getByTestId('node-conv2').locator('.block-node__title').click();
      await page.keyboard.press('Control+b');
      await page
        .getByTestId('toast-error')
        .filter({ hasText: /node "conv2" cannot be bypassed: it turns \[\?, 14, 14, 16\] into \[\?, 14, 14, 32\]/ })
        .waitFor();
      assert.equal(await page.getByTestId('node-conv2').getAttribute('data-bypassed'), null);

      // pool1 halves the map: refused too. dropout keeps the shape: bypassed, from its menu.
      await rightClick(page, await center(page, 'node-dropout'));
      await page.getByTestId('menu-bypass').click();
      await page.locator('[data-testid="node-dropout"][data-bypassed="true"]').waitFor();
      const opacity = await page
        .getByTestId('node-dropout')
        .evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { opacity: string } }).getComputedStyle(el).opacity);
      assert.equal(opacity, '0.5', 'drawn greyed');
      const saved = await saveAs(page, env.server.workspace, 'bypassed.attn.json');
      assert.equal(saved.nodes.find((n) => n.id === 'dropout')?.bypass, true);
      assert.equal(saved.nodes.filter((n) => n.bypass).length, 1);

      // The summary compiles the graph: the same parameter count, and no error.
      await page.getByTestId('status-errors').getByText('✓ valid graph').waitFor();
      // Ctrl+B again restores it.
      await page.getByTestId('node-dropout').locator('.block-node__title').click();
      await page.keyboard.press('Control+b');
      await page.locator('[data-testid="node-dropout"]:not([data-bypassed])').waitFor();
      assert.deepEqual(errors, []);
    });
  });

  test('align, distribute, group then ungroup, and the knife cuts the wires it crosses', async () => {
    await withEditor(env, async ({ page, errors }) => {
      await openFile(page, STAGGERED, 'node-conv1');
      await fitWhole(page);
      await page.getByTestId('cmd-view.fit').click();
      const ids = ['conv1', 'pool1', 'conv2'];
      const boxes = async () => Promise.all(ids.map(async (id) => (await page.getByTestId(`node-${id}`).boundingBox())!));
      await page.getByTestId('node-conv1').locator('.block-node__title').click();
      for (const id of ids.slice(1))
        await page
          .getByTestId(`node-${id}`)
          .locator('.block-node__title')
          .click({ modifiers: ['Shift'] });
      const staggered = await boxes();
      assert.ok(new Set(staggered.map((b) => Math.round(b.y))).size === 3, 'the nodes start at three heights');

      await page.keyboard.press('Shift+T');
      await page.waitForFunction(([a, b, c]) => {
        const top = (id: string) =>
          (globalThis as unknown as { document: { querySelector(s: string): { getBoundingClientRect(): { top: number } } } }).document
            .querySelector(`[data-testid="node-${id}"]`)
            .getBoundingClientRect().top;
        return Math.abs(top(a) - top(b)) < 0.5 && Math.abs(top(a) - top(c)) < 0.5;
      }, ids);
      const aligned = await boxes();
      assert.ok(Math.abs(aligned[0].y - Math.min(...staggered.map((b) => b.y))) < 1, 'aligned on the topmost');

      await page.keyboard.press('Shift+H');
      await page.waitForFunction(([a, b, c]) => {
        const box = (id: string) =>
          (globalThis as unknown as { document: { querySelector(s: string): { getBoundingClientRect(): { left: number; right: number } } } }).document
            .querySelector(`[data-testid="node-${id}"]`)
            .getBoundingClientRect();
        return Math.abs(box(b).left - box(a).right - (box(c).left - box(b).right)) < 1;
      }, ids);

      // Group two nodes (Ctrl+G), then ungroup (Ctrl+Shift+G): the same nodes and shapes again.
      await page.getByTestId('node-pool1').locator('.block-node__title').click();
      await page
        .getByTestId('node-conv2')
        .locator('.block-node__title')
        .click({ modifiers: ['Shift'] });
      await page.keyboard.press('Control+g');
      await page.getByTestId('node-pool1').waitFor({ state: 'detached' });
      await page.locator('[data-type="composite:group1"]').waitFor();
      await page.keyboard.press('Control+Shift+G');
      await page.getByTestId('node-pool1').waitFor();
      await page.getByTestId('node-conv2').waitFor();
      assert.equal(await page.locator('[data-type="composite:group1"]').count(), 0);
      await page.waitForFunction(textIs, ['shape-conv2-out', '[?, 14, 14, 32]'] as const);
      await page.getByTestId('status-errors').getByText('✓ valid graph').waitFor();

      // The knife: Ctrl + right drag across the wire image -> conv1, and only that one.
      const before = await edgeCount(page);
      const a = await center(page, 'handle-image-out-out');
      const b = await center(page, 'handle-conv1-in-in');
      const mid = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
      await page.keyboard.down('Control');
      await page.mouse.move(mid.x - 6, mid.y - 60);
      await page.mouse.down({ button: 'right' });
      await page.mouse.move(mid.x + 6, mid.y + 60, { steps: 10 });
      await page.mouse.up({ button: 'right' });
      await page.keyboard.up('Control');
      await page.waitForFunction(countIs, ['[data-testid^="edge-"]', before - 1] as const);
      assert.equal(await page.getByTestId('context-menu').count(), 0, 'the knife opens no menu');
      assert.deepEqual(errors, []);
    });
  });

  test('comments and reroute points: added from the menus, saved in the file, there again after reopening', async () => {
    await withEditor(env, async ({ page, errors }) => {
      await openFile(page, TEMPLATE, 'node-conv1');
      await fitWhole(page);
      const spot = await emptySpot(page);
      await rightClick(page, spot);
      await page.getByTestId('menu-add-comment').click();
      await page.getByTestId('comment-comment1').waitFor();
      await page.getByTestId('comment-title-comment1').dblclick();
      await page.getByTestId('comment-text-comment1').fill('Feature extractor');
      await page.keyboard.press('Enter');
      await page.getByTestId('comment-title-comment1').getByText('Feature extractor').waitFor();

      await rightClick(page, await center(page, 'edge-e6'));
      await page.getByTestId('menu-insert-reroute').click();
      await page.getByTestId('reroute-e6-0').waitFor();

      // Dragging a reroute point or a comment's title moves it by as much as the mouse moved.
      for (const id of ['reroute-e6-0', 'comment-title-comment1']) {
        const before = (await page.getByTestId(id).boundingBox())!;
        const from = { x: before.x + Math.min(8, before.width / 2), y: before.y + before.height / 2 };
        await page.mouse.move(from.x, from.y);
        await page.mouse.down();
        await page.mouse.move(from.x + 60, from.y + 40, { steps: 6 });
        await page.mouse.up();
        const after = (await page.getByTestId(id).boundingBox())!;
        assert.ok(
          Math.abs(after.x - before.x - 60) < 2 && Math.abs(after.y - before.y - 40) < 2,
          `${id} moved by ${after.x - before.x}, ${after.y - before.y}`,
        );
      }

      const saved = await saveAs(page, env.server.workspace, 'noted.attn.json');
      assert.deepEqual(
        saved.comments?.map((c) => c.text),
        ['Feature extractor'],
      );
      const rerouted = saved.edges.filter((e) => e.via);
      assert.equal(rerouted.length, 1);
      assert.deepEqual([rerouted[0].from.node, rerouted[0].to.node], ['flatten', 'fc']);

      await page.reload();
      await page.getByTestId('canvas').waitFor();
      await openFile(page, 'noted.attn.json', 'node-conv1');
      await fitWhole(page);
      await page.getByTestId('comment-title-comment1').getByText('Feature extractor').waitFor();
      await page.locator('[data-testid^="reroute-"]').first().waitFor();
      assert.deepEqual(errors, []);
    });
  });
});
