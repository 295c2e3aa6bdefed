// Small page helpers for the canvas end-to-end tests.
import type { Page } from 'playwright-core';

/** Waits until the element with this test id reads exactly `text` (the page's CSP allows no eval, so no string predicates). */
export const shows = (page: Page, testId: string, text: string) =>
  page.locator(`[data-testid="${testId}"]`, { hasText: new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }).waitFor();
