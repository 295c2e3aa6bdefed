// Small page helpers for the canvas end-to-end tests.
import type { Page } from 'playwright-core';

/** Waits until the element with this test id reads exactly `text` (the page's CSP allows no eval, so no string predicates). */
export const shows = (page: Page, testId: string, text: string) =>
  page.locator(`[data-testid="${testId}"]`, { hasText: new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }).waitFor();

interface NodeDom {
  document: { querySelectorAll(sel: string): { length: number }; querySelector(sel: string): { textContent: string | null } | null };
}
/** The canvas draws as many nodes as the status bar counts (it draws only those in view). */
const allNodesDrawn = () => {
  const d = (globalThis as unknown as NodeDom).document;
  const counted = /(\d+) nodes/.exec(d.querySelector('[data-testid="statusbar"]')?.textContent ?? '');
  return !!counted && d.querySelectorAll('[data-testid^="node-"][data-type]').length === Number(counted[1]);
};

/**
 * Fits the whole graph in view with the Fit button, as a person does to reach its
 * far nodes, unless it opened whole: a graph too wide to read whole opens at its
 * input end. Waits until every node is drawn and the fit's 200 ms animation has ended.
 */
export async function fitWhole(page: Page): Promise<void> {
  await page.locator('[data-testid^="node-"][data-type]').first().waitFor(); // the graph has loaded
  await page.waitForTimeout(150); // the opening's own framing (60 ms after the load) comes first
  if (await page.evaluate(allNodesDrawn)) return; // it opened fitted whole
  await page.getByTestId('cmd-view.fit').click();
  await page.waitForFunction(allNodesDrawn, undefined, { timeout: 30_000 });
  await page.waitForTimeout(300);
}
