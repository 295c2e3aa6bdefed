// The canvas with a 500-node graph (a residual stack of real blocks, every
// node and edge in view at once): frame times while panning (middle-button
// drag) and zooming (mouse wheel) through real input events in headless
// Chromium, panning again at 100 % (only the nodes in view drawn), and the
// time from a parameter edit in the inspector to the new shapes on the node
// and on its outgoing edge.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { serializeGraph } from '../engine/graph/schema.js';
import { openEditor, skipReason } from '../test/e2e/harness.js';
import { canvasGraph, edgeInto, EDITED_NODE } from '../test/helpers/canvas-graph.js';
import { frameTimes, openWorkspaceFile, quantile, settle, stats, withBrowserMode } from './browser.js';

const FILE = 'canvas-bench.attn.json';
const WINDOW_MS = 4000;
const EDITS = 12;
/** The edited conv feeds this activation; the edge between them carries the conv's output shape. */
const EDITED_EDGE = edgeInto('r0', 'in');

/** The page's globals this bench uses, typed here: the benches compile without the DOM library. */
interface PageGlobals {
  document: {
    querySelector(selector: string): { textContent: string | null; dispatchEvent(e: unknown): boolean } | null;
    querySelectorAll(selector: string): { length: number };
    body: unknown;
  };
  requestAnimationFrame(cb: () => void): number;
  MutationObserver: new (cb: () => void) => { observe(target: unknown, options: object): void; disconnect(): void };
  HTMLInputElement: { prototype: object };
  Event: new (type: string, init?: object) => unknown;
}

/** The transform of React Flow's viewport: to check that the gestures really moved the view. */
const viewport = (page: Page) => page.locator('.react-flow__viewport').evaluate((el) => (el as unknown as { style: { transform: string } }).style.transform);

/** Frame times while `step` is sent again and again (each step one input event, awaited). */
async function whileDriving(page: Page, step: (i: number) => Promise<void>) {
  let done = false;
  const frames = frameTimes(page, WINDOW_MS).finally(() => (done = true));
  let inputs = 0;
  while (!done) await step(inputs++);
  return { ...stats(await frames), inputEvents: inputs };
}

async function canvasCentre(page: Page) {
  const box = (await page.getByTestId('canvas').boundingBox())!;
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

async function pan(page: Page) {
  const c = await canvasCentre(page);
  const before = await viewport(page);
  await page.mouse.move(c.x, c.y);
  await page.mouse.down({ button: 'middle' });
  // Circles around the centre, so the graph stays in view.
  const r = await whileDriving(page, (i) => page.mouse.move(c.x + 150 * Math.sin(i / 8), c.y + 100 * Math.cos(i / 8) - 100));
  await page.mouse.up({ button: 'middle' });
  return { ...r, moved: (await viewport(page)) !== before };
}

async function zoom(page: Page) {
  const c = await canvasCentre(page);
  const before = await viewport(page);
  await page.mouse.move(c.x, c.y);
  // Six notches in, six out.
  const r = await whileDriving(page, (i) => page.mouse.wheel(0, Math.floor(i / 6) % 2 ? 100 : -100));
  return { ...r, moved: (await viewport(page)) !== before };
}

/**
 * One edit of the conv's filters through the inspector field, timed in the
 * page: until both shape labels show the new channel count, and until the
 * frame after that begins.
 */
function timeEdit(page: Page, filters: number) {
  return page.evaluate(
    ({ filters, labels }) => {
      const g = globalThis as unknown as PageGlobals;
      const d = g.document;
      const input = d.querySelector('[data-testid="param-filters"]')!;
      const shown = () => labels.every((id) => d.querySelector(`[data-testid="${id}"]`)?.textContent?.endsWith(`, ${filters}]`));
      return new Promise<{ domMs: number; frameMs: number }>((resolve) => {
        const t0 = performance.now();
        const observer = new g.MutationObserver(() => {
          if (!shown()) return;
          observer.disconnect();
          const domMs = performance.now() - t0;
          g.requestAnimationFrame(() => resolve({ domMs, frameMs: performance.now() - t0 }));
        });
        observer.observe(d.body, { subtree: true, childList: true, characterData: true });
        // What typing does: the value changes and the field hears an input event.
        Object.getOwnPropertyDescriptor(g.HTMLInputElement.prototype, 'value')!.set!.call(input, String(filters));
        input.dispatchEvent(new g.Event('input', { bubbles: true }));
      });
    },
    { filters, labels: [`shape-${EDITED_NODE}-out`, `edge-${EDITED_EDGE}`] },
  );
}

async function edits(page: Page) {
  // Back to the whole graph (the gestures may have left the edited node out of view).
  await page.getByTestId('cmd-view.fit').click();
  await page.getByTestId(`node-${EDITED_NODE}`).click();
  await page.getByTestId('param-filters').waitFor();
  const dom: number[] = [];
  const frame: number[] = [];
  for (let i = 0; i < EDITS; i++) {
    const r = await timeEdit(page, 20 + i);
    dom.push(r.domMs);
    frame.push(r.frameMs);
  }
  const summary = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return { medianMs: +quantile(s, 0.5).toFixed(1), maxMs: +s.at(-1)!.toFixed(1) };
  };
  return { edits: EDITS, toShapesInDom: summary(dom), toNextFrame: summary(frame) };
}

export async function benchCanvas(): Promise<Record<string, unknown>> {
  const skip = skipReason();
  if (skip) return { skipped: skip };
  const graph = canvasGraph();
  return withBrowserMode(async (server, browser) => {
    await writeFile(path.join(server.workspace, FILE), serializeGraph(graph));
    const { page } = await openEditor(browser, server.url);
    const t0 = Date.now();
    await openWorkspaceFile(page, FILE);
    // A graph this wide opens at its input end, readable; fitted to the view, every node is drawn.
    await page.locator('.react-flow__node').first().waitFor({ timeout: 60_000 });
    await page.getByTestId('cmd-view.fit').click();
    await page.waitForFunction((n) => (globalThis as unknown as PageGlobals).document.querySelectorAll('.react-flow__node').length >= n, graph.nodes.length, {
      timeout: 60_000,
    });
    const drawnMs = Date.now() - t0;
    await settle(page);
    const openMs = Date.now() - t0;
    const idle = stats(await frameTimes(page, 1000));
    const drawn = await page.locator('.react-flow__node').count();
    const panning = await pan(page);
    await settle(page);
    const zooming = await zoom(page);
    await settle(page);
    // At 100 % (where editing happens) only the nodes in view are drawn.
    await page.getByTestId('cmd-view.fit').click();
    await settle(page);
    await page.keyboard.press('Control+0');
    await settle(page);
    const nodesDrawnAt100 = await page.locator('.react-flow__node').count();
    const panningAt100 = await pan(page);
    await settle(page);
    return {
      nodes: graph.nodes.length,
      edges: graph.edges.length,
      nodesDrawn: drawn,
      /** From Open to every node in the DOM, and to steady frames after that. */
      drawnMs,
      openMs,
      windowMs: WINDOW_MS,
      idle,
      pan: panning,
      zoom: zooming,
      nodesDrawnAt100,
      panAt100: panningAt100,
      edit: await edits(page),
      note: 'requestAnimationFrame deltas in headless Chromium (software rendering, 60 Hz frames at best); pan and zoom are real mouse events, each awaited before the next',
    };
  });
}

// Run on its own: node dist/bench/canvas.js
if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await benchCanvas(), null, 2));
