// The editor in headless Chromium against browser mode, used the way a person
// uses it: through the page, its buttons and keys, with real files on disk.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { browserModeSuite, copyTemplates, countIs, nodeIds, openFile, ROOT, skipReason, textIs, titleIncludes, withEditor } from './harness.js';
import { fitWhole } from './canvas-page.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

const TEMPLATE = 'mnist-cnn.attn.json';
const templateGraph = async () => JSON.parse(await readFile(path.join(ROOT, 'templates', TEMPLATE), 'utf8')) as { name: string; nodes: { id: string }[] };

/** Waits until the element with this test id shows exactly `text` (shapes update after an edit). */
async function waitForText(page: Page, testId: string, text: string): Promise<void> {
  await page.waitForFunction(textIs, [testId, text] as const);
}

/** Drags with the mouse from the centre of one element to the centre of another, in steps (React Flow connects on pointer moves). */
async function dragBetween(page: Page, fromTestId: string, toTestId: string, whileOver?: () => Promise<void>): Promise<void> {
  const a = await page.getByTestId(fromTestId).boundingBox();
  const b = await page.getByTestId(toTestId).boundingBox();
  assert.ok(a && b, `${fromTestId} and ${toTestId} are on screen`);
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 12 });
  await whileOver?.();
  await page.mouse.up();
}

describe('editor end to end (browser mode, headless Chromium)', { skip, timeout: 300_000 }, () => {
  const env = browserModeSuite(async (workspace) => {
    await copyTemplates(workspace, [TEMPLATE]);
  });

  test('without the token the page loads but the host API is refused, a cookie with the token included', async () => {
    const token = new URL(env.server.url).searchParams.get('token')!;
    const context = await env.browser.newContext();
    try {
      const page = await context.newPage();
      const res = await page.goto(`${env.server.origin}/`);
      assert.equal(res?.status(), 200, 'the built renderer holds no secret');
      await page
        .locator('.statusbar .host')
        .getByText(/no host: open the URL that `npm run serve` printed/)
        .waitFor();
      const wrong = await page.goto(`${env.server.origin}/?token=not-the-token`);
      assert.equal(wrong?.status(), 403);
      // A cookie is what the server used to accept (and what any other server on 127.0.0.1 could read): no longer.
      await context.addCookies([{ name: 'attn_token', value: token, url: env.server.origin }]);
      await page.goto(`${env.server.origin}/`);
      const opened = (protocols: string[]) =>
        page.evaluate(
          ([url, protocols]) =>
            new Promise<string>((resolve) => {
              const ws = new WebSocket(url, protocols);
              ws.onopen = () => resolve('opened');
              ws.onclose = (e) => resolve(`closed ${e.code}`);
            }),
          [`ws://${new URL(env.server.origin).host}/api`, protocols] as const,
        );
      assert.equal(await opened([]), 'closed 1006');
      assert.equal(await opened(['attn.v1']), 'closed 1006');
      assert.equal(await opened(['attn.v1', 'attn.token.not-the-token']), 'closed 1006');
      assert.equal(await opened(['attn.v1', `attn.token.${token}`]), 'opened', 'the same page with the token gets in');
    } finally {
      await context.close();
    }
  });

  test('the token leaves the address bar for sessionStorage, and a reload still reaches the host', async () => {
    await withEditor(env, async ({ context, page, errors }) => {
      const token = new URL(env.server.url).searchParams.get('token')!;
      assert.equal(page.url(), `${env.server.origin}/`, 'the token is gone from the address bar (and the history entry)');
      assert.equal(
        await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('attn.token')),
        token,
      );
      assert.deepEqual(await context.cookies(), [], 'no cookie is set');
      await page.reload();
      await page.getByTestId('canvas').waitFor();
      await page.getByTestId('cmd-file.open').click();
      await page.getByTestId(`file-entry-${TEMPLATE}`).waitFor();
      assert.equal(page.url(), `${env.server.origin}/`);
      assert.deepEqual(errors, []);
    });
  });

  test('the editor loads with its palette and canvas, without errors or CSP violations', async () => {
    await withEditor(env, async ({ page, errors }) => {
      const items = await page.locator('[data-testid^="palette-item-"]').count();
      assert.ok(items >= 10, `${items} blocks in the palette`);
      await page.getByTestId('palette-item-core.dense').waitFor();
      // The host answered over the WebSocket: the workspace listing shows the template file.
      await page.getByTestId('cmd-file.open').click();
      await page.getByTestId(`file-entry-${TEMPLATE}`).waitFor();
      assert.deepEqual(errors, []);
    });
  });

  test('a template opens and its nodes render with their shapes', async () => {
    await withEditor(env, async ({ page, errors }) => {
      const template = await templateGraph();
      await openFile(page, TEMPLATE);
      await fitWhole(page);
      await page.getByTestId(`node-${template.nodes[0].id}`).waitFor();
      assert.deepEqual(await nodeIds(page), template.nodes.map((n) => n.id).sort());
      assert.equal(await page.getByTestId('shape-conv1-out').textContent(), '[?, 28, 28, 16]');
      assert.equal(await page.getByTestId('shape-pool2-out').textContent(), '[?, 7, 7, 32]');
      assert.equal(await page.locator('[data-testid^="error-badge-"]').count(), 0, 'a valid template has no error badges');
      assert.match((await page.getByTestId('doc-title').textContent()) ?? '', /mnist-cnn/);
      assert.deepEqual(errors, []);
    });
  });

  test('a broken file shows its diagnostics and changes nothing', async () => {
    await writeFile(path.join(env.server.workspace, 'broken.attn.json'), '{\n  "format": "attention-studio.graph",\n  "version": 1,\n  "nodes": [\n');
    await withEditor(env, async ({ page }) => {
      await openFile(page, TEMPLATE);
      await fitWhole(page);
      await page.getByTestId('node-conv1').waitFor();
      const before = await nodeIds(page);
      const title = await page.getByTestId('doc-title').textContent();
      await openFile(page, 'broken.attn.json');
      await page.getByTestId('load-diagnostics').waitFor();
      const diags = await page.getByTestId('load-diagnostic').allTextContents();
      assert.equal(diags.length, 1);
      assert.match(diags[0], /malformed JSON at line 5/);
      await page.getByTestId('dialog-close').click();
      assert.deepEqual(await nodeIds(page), before);
      assert.equal(await page.getByTestId('doc-title').textContent(), title);
      assert.equal(await page.getByTestId('dirty-marker').count(), 0);
    });
  });

  test('save, reload the page, open the file again: the same graph', async () => {
    await withEditor(env, async ({ page }) => {
      await openFile(page, TEMPLATE);
      await fitWhole(page);
      await page.getByTestId('node-conv1').waitFor();
      await page.getByTestId('cmd-file.saveAs').click();
      await page.getByTestId('file-dialog-save').waitFor();
      await page.getByTestId('file-name').fill('round-trip.attn.json');
      await page.getByTestId('file-save').click();
      await page.getByTestId('file-dialog-save').waitFor({ state: 'detached' });
      await page.waitForFunction(titleIncludes, 'round-trip');

      const saved = JSON.parse(await readFile(path.join(env.server.workspace, 'round-trip.attn.json'), 'utf8')) as {
        nodes: { id: string; params: unknown }[];
        edges: unknown[];
      };
      const template = JSON.parse(await readFile(path.join(ROOT, 'templates', TEMPLATE), 'utf8')) as typeof saved;
      assert.deepEqual(
        saved.nodes.map((n) => [n.id, n.params]),
        template.nodes.map((n) => [n.id, n.params]),
      );
      assert.deepEqual(saved.edges.length, template.edges.length);

      await page.reload();
      await page.getByTestId('canvas').waitFor();
      await openFile(page, 'round-trip.attn.json');
      await fitWhole(page);
      await page.getByTestId('node-conv1').waitFor();
      assert.deepEqual(await nodeIds(page), saved.nodes.map((n) => n.id).sort());
      assert.equal(await page.getByTestId('shape-conv1-out').textContent(), '[?, 28, 28, 16]');
    });
  });

  test('undo and redo a parameter edit and a deletion', async () => {
    await withEditor(env, async ({ page }) => {
      await openFile(page, TEMPLATE);
      await fitWhole(page);
      const shape = page.getByTestId('shape-conv1-out');
      await shape.waitFor();
      await page.getByTestId('node-conv1').locator('.block-node__title').click();
      const filters = page.getByTestId('param-filters');
      await filters.fill('24');
      await filters.blur();
      await waitForText(page, 'shape-conv1-out', '[?, 28, 28, 24]');
      await page.getByTestId('dirty-marker').waitFor();

      await page.getByTestId('cmd-edit.undo').click();
      await waitForText(page, 'shape-conv1-out', '[?, 28, 28, 16]');
      await page.getByTestId('cmd-edit.redo').click();
      await waitForText(page, 'shape-conv1-out', '[?, 28, 28, 24]');

      await page.getByTestId('node-dropout').locator('.block-node__title').click();
      await page.keyboard.press('Delete');
      await page.getByTestId('node-dropout').waitFor({ state: 'detached' });
      await page.getByTestId('cmd-edit.undo').click();
      await page.getByTestId('node-dropout').waitFor();
      await page.getByTestId('cmd-edit.redo').click();
      await page.getByTestId('node-dropout').waitFor({ state: 'detached' });
    });
  });

  test('drag a block from the palette, connect it and read the shape on the edge; an invalid connection is refused', async () => {
    await withEditor(env, async ({ page, errors }) => {
      await openFile(page, TEMPLATE);
      await fitWhole(page);
      await page.getByTestId('node-pool2').waitFor();
      const before = await nodeIds(page);
      const canvas = await page.getByTestId('canvas').boundingBox();
      assert.ok(canvas);
      await page.getByTestId('palette-item-core.flatten').dragTo(page.getByTestId('canvas'), {
        targetPosition: { x: canvas.width * 0.35, y: canvas.height * 0.85 },
      });
      await page.waitForFunction(countIs, ['[data-type="core.flatten"]', 2] as const);
      const added = (await nodeIds(page)).filter((id) => !before.includes(id));
      assert.equal(added.length, 1);
      const id = added[0];
      const edges = () => page.locator('[data-testid^="edge-"]').count();
      const edgesBefore = await edges();

      // pool2 [?, 7, 7, 32] -> the new Flatten: the edge carries the shape, the node shows its output.
      await dragBetween(page, 'handle-pool2-out-out', `handle-${id}-in-in`);
      await waitForText(page, `shape-${id}-out`, '[?, 1568]');
      assert.equal(await edges(), edgesBefore + 1);
      assert.ok((await page.locator('[data-testid^="edge-"]').allTextContents()).filter((t) => t === '[?, 7, 7, 32]').length >= 2);

      // Flatten's [?, 1568] into a convolution (rank 4 only): refused while dragging, with the reason, and not added.
      let hint = '';
      await dragBetween(page, `handle-${id}-out-out`, 'handle-conv2-in-in', async () => {
        await page.getByTestId('connection-hint').waitFor();
        hint = (await page.getByTestId('connection-hint').textContent()) ?? '';
      });
      assert.match(hint, /^✕ .*rank/);
      assert.equal(await edges(), edgesBefore + 1);
      assert.equal(await page.getByTestId('shape-conv2-out').textContent(), '[?, 14, 14, 32]');
      assert.deepEqual(errors, []);
    });
  });
});
