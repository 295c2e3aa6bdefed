// What the training and inspection e2e tests do on the page: open a template,
// fill the training form, wait for a state, count the colours a canvas shows,
// drop a file.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { openFile, textIs } from './harness.js';

/** Opens a template with an image input (its node `image`). */
export const openTemplate = (page: Page, name: string) => openFile(page, name, 'node-image');

/** Sets a training form field (numbers are typed, as a person would). */
export async function setField(page: Page, key: string, value: string | number): Promise<void> {
  await page.getByTestId(`train-${key}`).fill(String(value));
}

/** The Training tab's settings: a backend, a dataset, and values for the form's fields by key. */
export interface TrainingForm {
  backend?: string;
  dataset?: string;
  [field: string]: string | number | undefined;
}

/** Opens the Training tab and fills its form: backend and dataset first (they set the fields' defaults), then the fields in order. */
export async function fillTrainingForm(page: Page, { backend, dataset, ...fields }: TrainingForm): Promise<void> {
  await page.getByTestId('dock-tab-training').click();
  if (backend) await page.getByTestId('train-backend').selectOption(backend);
  if (dataset) await page.getByTestId('train-dataset').selectOption(dataset);
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) await setField(page, key, value);
}

export const text = (page: Page, testId: string) => page.getByTestId(testId).first().textContent();

// Functions run in the page. This file compiles without the DOM's types, so the
// page's globals are typed here as far as these functions use them.
interface PageElement {
  textContent: string | null;
  getAttribute(name: string): string | null;
}
interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}
export interface PageGlobals {
  document: { querySelector(sel: string): PageElement | null; querySelectorAll(sel: string): Iterable<PageCanvas> };
  attnEditor: { getState(): { graph: { nodes: unknown[] }; addBlock(type: string, at: { x: number; y: number }): string } };
  DataTransfer: new () => { items: { add(file: unknown): void } };
  File: new (parts: Uint8Array[], name: string, opts: { type: string }) => unknown;
  atob(s: string): string;
}
// (Each page function spells out `globalThis as unknown as PageGlobals`: they are serialised one by one.)

export async function waitForState(page: Page, state: string, timeout = 90_000): Promise<void> {
  await page.waitForFunction(textIs, ['train-state', state] as [string, string], { timeout });
}

/**
 * Asserts that the canvases inside `scope` come to show more than `atLeast`
 * colours within `timeout`: panels draw after data arrives (from the run
 * folder, a probe, a worker), so one look may come a frame early.
 */
export async function assertDrawn(page: Page, scope: string, atLeast: number, message: string, timeout = 15_000): Promise<void> {
  const sel = `${scope} canvas`;
  // The counter goes to the page as source: a page function cannot call this module's functions.
  const drawn = await page
    .waitForFunction(`(${countColours.toString()})(${JSON.stringify(sel)}) > ${atLeast}`, undefined, { timeout, polling: 100 })
    .then(() => true)
    .catch(() => false);
  if (!drawn) assert.fail(`${message}: ${await page.evaluate(countColours, sel)} colours drawn, more than ${atLeast} expected`);
}

/** Distinct colours drawn on the canvases matching `sel` (a blank canvas has at most one). */
function countColours(sel: string): number {
  let best = 0;
  for (const c of (globalThis as unknown as PageGlobals).document.querySelectorAll(sel)) {
    if (!c.width || !c.height) continue;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const seen = new Set<number>();
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    best = Math.max(best, seen.size);
  }
  return best;
}

/** Points the first attention panel at one output, once a snapshot holding it has arrived. */
export async function selectOutput(page: Page, key: string): Promise<void> {
  await page.locator(`[data-testid="attention-source-1"] option[value="${key}"]`).waitFor({ state: 'attached', timeout: 60_000 });
  await page.getByTestId('attention-source-1').selectOption(key);
}

/** Drops a file onto an element as a person dragging it from their desktop would (dragover, then drop). */
export async function dropFile(page: Page, testId: string, name: string, bytes: Buffer): Promise<void> {
  const dataTransfer = await page.evaluateHandle(
    ([fileName, base64]) => {
      const g = globalThis as unknown as PageGlobals;
      const dt = new g.DataTransfer();
      dt.items.add(new g.File([Uint8Array.from(g.atob(base64), (c) => c.charCodeAt(0))], fileName, { type: 'image/png' }));
      return dt;
    },
    [name, bytes.toString('base64')] as [string, string],
  );
  const target = page.getByTestId(testId);
  await target.dispatchEvent('dragover', { dataTransfer });
  await target.dispatchEvent('drop', { dataTransfer });
}
