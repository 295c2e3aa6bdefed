// The light theme follows the system: with prefers-color-scheme light the page
// background is light and the body text keeps a readable contrast (WCAG 4.5:1).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { browserModeSuite, skipReason } from './harness.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

interface ThemeDom {
  document: { body: unknown; querySelector(sel: string): unknown };
  getComputedStyle(el: unknown): { backgroundColor: string; color: string };
}

/** Relative luminance of an rgb()/rgba() colour string (WCAG 2). */
function luminance(css: string): number {
  const [r, g, b] = (css.match(/[\d.]+/g) ?? []).slice(0, 3).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
const contrast = (a: string, b: string) => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
};

describe('light theme (browser mode, headless Chromium)', { skip, timeout: 120_000 }, () => {
  const env = browserModeSuite();

  for (const scheme of ['light', 'dark'] as const) {
    test(`prefers-color-scheme ${scheme}: the background is ${scheme} and text contrast holds`, async () => {
      const context = await env.browser.newContext({ viewport: { width: 1200, height: 800 }, colorScheme: scheme });
      try {
        const page = await context.newPage();
        await page.goto(env.server.url);
        await page.getByTestId('canvas').waitFor();
        // The toolbar's chrome, as a person sees it: the Training tab opened by a click.
        await page.getByTestId('dock-tab-training').click();
        const colours = await page.evaluate(() => {
          const g = globalThis as unknown as ThemeDom;
          const body = g.getComputedStyle(g.document.body);
          const title = g.getComputedStyle(g.document.querySelector('[data-testid="doc-title"]'));
          return { bg: body.backgroundColor, text: body.color, title: title.color };
        });
        const bgLight = luminance(colours.bg) > 0.5;
        assert.equal(bgLight, scheme === 'light', `background ${colours.bg}`);
        assert.ok(contrast(colours.bg, colours.text) >= 4.5, `body text ${colours.text} on ${colours.bg}`);
        assert.ok(contrast(colours.bg, colours.title) >= 4.5, `title ${colours.title} on ${colours.bg}`);
      } finally {
        await context.close();
      }
    });
  }
});
