// `npm run dev`: the renderer served by the Vite dev server (what Electron loads
// in dev mode) starts under the page's CSP, with hot reload connected and the
// Fast Refresh preamble run, and no CSP violation or error on the way.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Browser, ConsoleMessage } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { inlineScripts, scriptHash } from '../../renderer/dev-csp.js';
import { launch, ROOT, skipReason } from './harness.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

describe('npm run dev: the renderer from the Vite dev server (headless Chromium)', { skip, timeout: 180_000 }, () => {
  let vite: ViteDevServer;
  let browser: Browser;
  let url: string;

  before(async () => {
    const { createServer } = await import('vite');
    vite = await createServer({ configFile: path.join(ROOT, 'renderer', 'vite.config.ts'), server: { port: 0, strictPort: false }, logLevel: 'silent' });
    [browser] = await Promise.all([launch(), vite.listen()]);
    url = vite.resolvedUrls!.local[0];
  });

  after(async () => {
    await browser?.close();
    await vite?.close();
  });

  test('the page allows exactly its inline scripts by hash, starts, and connects hot reload', async () => {
    const html = await (await fetch(url)).text();
    const scripts = inlineScripts(html);
    assert.ok(
      scripts.some((s) => s.includes('/@react-refresh')),
      'the dev server adds the Fast Refresh preamble',
    );
    const policy = /http-equiv="Content-Security-Policy"\s+content="([^"]*)"/.exec(html)?.[1] ?? '';
    const scriptSrc = policy
      .split(';')
      .map((d) => d.trim())
      .find((d) => d.startsWith('script-src '))!;
    assert.deepEqual(scriptSrc.split(' ').slice(1).sort(), ["'self'", ...scripts.map(scriptHash)].sort());

    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(120_000);
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    try {
      const connected = page.waitForEvent('console', { predicate: (m: ConsoleMessage) => m.text().includes('[vite] connected'), timeout: 120_000 });
      await page.goto(url);
      await page.getByTestId('canvas').waitFor();
      await connected;
      assert.equal(await page.evaluate(() => typeof (globalThis as { $RefreshReg$?: unknown }).$RefreshReg$), 'function', 'the preamble ran');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});
