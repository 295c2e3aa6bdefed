// The light theme follows the system, or the toolbar's theme picker (System /
// Light / Dark, remembered): on light the page background is light, on dark it
// is dark, and the text keeps a readable contrast (WCAG 4.5:1) either way.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { browserModeSuite, skipReason, withEditor } from './harness.js';
import { contrast, luminance, poorlyReadable, textColours } from './contrast.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

interface ThemeDom {
  document: { body: unknown; querySelector(sel: string): unknown };
  getComputedStyle(el: unknown): { backgroundColor: string; color: string };
}

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

  // The light colours, reached both ways: the system's preference, and the picker over a dark system.
  for (const [scheme, pick] of [
    ['light', undefined],
    ['dark', 'Light'],
  ] as const) {
    test(`prefers-color-scheme ${scheme}${pick ? `, theme ${pick}` : ''}: every text in the dock's Training and Runs tabs keeps 4.5:1 on what lies behind it`, async () => {
      const context = await env.browser.newContext({ viewport: { width: 1400, height: 900 }, colorScheme: scheme });
      try {
        const page = await context.newPage();
        await page.goto(env.server.url);
        await page.getByTestId('canvas').waitFor();
        if (pick) await chooseTheme(page, pick);
        const poor: string[] = [];
        for (const tab of ['training', 'runs']) {
          await page.getByTestId(`dock-tab-${tab}`).click();
          const texts = await textColours(page, '[data-testid="training-dock"]');
          assert.ok(texts.length > 10, `${tab}: ${texts.length} texts`);
          poor.push(...poorlyReadable(texts).map((t) => `${tab}: ${t}`));
        }
        assert.deepEqual(poor, []);
      } finally {
        await context.close();
      }
    });
  }
});

/** The page's body and title colours, as computed. */
function chromeColours(page: Page) {
  return page.evaluate(() => {
    const g = globalThis as unknown as ThemeDom;
    const body = g.getComputedStyle(g.document.body);
    const title = g.getComputedStyle(g.document.querySelector('[data-testid="doc-title"]'));
    return { bg: body.backgroundColor, text: body.color, title: title.color };
  });
}

/** Picks a theme in the toolbar's picker as a person does: a click to focus it, then the keyboard. */
async function chooseTheme(page: Page, label: 'System' | 'Light' | 'Dark') {
  const picker = page.getByTestId('theme-picker');
  await picker.click();
  await page.keyboard.press('Escape'); // close the option list; the picker keeps the focus
  await page.keyboard.type(label[0]); // type-ahead selects the option that starts with the letter
  await page.keyboard.press('Tab');
  assert.equal(await picker.inputValue(), label.toLowerCase());
}

describe('theme picker: System / Light / Dark (browser mode, headless Chromium)', { skip, timeout: 120_000 }, () => {
  const env = browserModeSuite();

  const assertReadable = (c: { bg: string; text: string; title: string }, light: boolean) => {
    assert.equal(luminance(c.bg) > 0.5, light, `background ${c.bg} should be ${light ? 'light' : 'dark'}`);
    assert.ok(contrast(c.bg, c.text) >= 4.5, `body text ${c.text} on ${c.bg}`);
    assert.ok(contrast(c.bg, c.title) >= 4.5, `title ${c.title} on ${c.bg}`);
  };

  test('system prefers dark: Light turns the chrome light, a reload keeps it, System goes back to dark', async () => {
    await withEditor(
      env,
      async ({ page }) => {
        const dark = await chromeColours(page);
        assertReadable(dark, false);

        await chooseTheme(page, 'Light');
        const light = await chromeColours(page);
        assertReadable(light, true);
        assert.notEqual(light.text, dark.text);

        await page.reload();
        await page.getByTestId('canvas').waitFor();
        assert.equal(await page.getByTestId('theme-picker').inputValue(), 'light');
        assert.deepEqual(await chromeColours(page), light);

        await chooseTheme(page, 'System');
        assert.deepEqual(await chromeColours(page), dark);

        // The command, from the keyboard: System -> Light.
        await page.getByTestId('canvas').click({ position: { x: 40, y: 40 } });
        await page.keyboard.press('Shift+K');
        assert.equal(await page.getByTestId('theme-picker').inputValue(), 'light');
        assert.deepEqual(await chromeColours(page), light);
      },
      { colorScheme: 'dark' },
    );
  });

  test('system prefers light: Dark turns the chrome dark', async () => {
    await withEditor(
      env,
      async ({ page }) => {
        assertReadable(await chromeColours(page), true);
        await chooseTheme(page, 'Dark');
        assertReadable(await chromeColours(page), false);
      },
      { colorScheme: 'light' },
    );
  });
});
