// npm run dev: the dev server's page allows the inline scripts the dev server
// adds (React Fast Refresh's preamble) by hash; the built page keeps the strict
// policy with no inline script at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { addScriptSources, allowInlineScripts, inlineScripts, scriptHash } from '../renderer/dev-csp.js';
import { ROOT } from './e2e/harness.js';

const page = (head: string, body = '') =>
  `<!doctype html><html><head>${head}<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self'; object-src 'none'" /></head><body>${body}</body></html>`;
const policyOf = (html: string) => /http-equiv="Content-Security-Policy"\s+content="([^"]*)"/.exec(html)?.[1];

test('a script hash is the base64 SHA-256 of the script text as CSP writes it', () => {
  assert.equal(scriptHash('alert(1)'), "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='");
});

test('inline scripts are found; scripts loaded by src and empty ones are not', () => {
  const html = page(
    '<script type="module">import "/@react-refresh";</script><script type="module" src="/@vite/client"></script>',
    '<script>\n  a();\n</script><script src="x.js"></script><script></script>',
  );
  assert.deepEqual(inlineScripts(html), ['import "/@react-refresh";', '\n  a();\n']);
});

test('the dev page allows exactly its inline scripts, and nothing else changes in the policy', () => {
  const preamble = 'import { injectIntoGlobalHook } from "/@react-refresh";\ninjectIntoGlobalHook(window);';
  const out = allowInlineScripts(page(`<script type="module">${preamble}</script>`));
  assert.equal(policyOf(out), `default-src 'self'; script-src 'self' ${scriptHash(preamble)}; object-src 'none'`);
  assert.doesNotMatch(policyOf(out)!, /unsafe-inline|unsafe-eval/);
  // A page without inline scripts is returned as it is.
  const plain = page('<script type="module" src="./main.js"></script>');
  assert.equal(allowInlineScripts(plain), plain);
  // A page with inline scripts and no policy to extend is an error, not a silent pass.
  assert.throws(() => allowInlineScripts('<html><head><script>a()</script></head></html>'), /no Content-Security-Policy/);
});

test('script-src is extended where it is, or made from default-src when the policy has none', () => {
  assert.equal(addScriptSources("default-src 'self'; script-src 'self'", ["'sha256-x'"]), "default-src 'self'; script-src 'self' 'sha256-x'");
  assert.equal(
    addScriptSources("default-src 'self' https://a; img-src data:;", ["'sha256-x'"]),
    "default-src 'self' https://a; img-src data:; script-src 'self' https://a 'sha256-x'",
  );
});

test('the renderer page itself has no inline script and allows scripts only from itself; the hashes are added only by the dev server', async () => {
  const html = await readFile(path.join(ROOT, 'renderer', 'index.html'), 'utf8');
  assert.deepEqual(inlineScripts(html), []);
  assert.match(policyOf(html)!, /(^|; )script-src 'self';/);
  const { loadConfigFromFile } = await import('vite');
  for (const command of ['build', 'serve'] as const) {
    const loaded = await loadConfigFromFile(
      { command, mode: command === 'build' ? 'production' : 'development' },
      path.join(ROOT, 'renderer', 'vite.config.ts'),
      ROOT,
      'silent',
    );
    const plugin = loaded!.config.plugins!.flat().find((p) => p && typeof p === 'object' && 'name' in p && p.name === 'attn:dev-csp') as
      { apply?: unknown } | undefined;
    assert.equal(plugin?.apply, 'serve', 'the dev-only plugin is in the config and applies to the dev server only');
  }
});
