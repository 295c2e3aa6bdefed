// `npm run dev` only: the Vite dev server puts inline scripts into the page
// (the React Fast Refresh preamble), which the page's strict CSP
// (script-src 'self', renderer/index.html) would block, and then the app does
// not start. The dev server's copy of the page allows exactly those scripts by
// their hashes; the production build keeps the policy as written.
import { createHash } from 'node:crypto';

const INLINE_SCRIPT = /<script\b(?![^>]*\bsrc\s*=)[^>]*>([\s\S]*?)<\/script>/gi;
const META_CSP = /(<meta\s[^>]*http-equiv=["']Content-Security-Policy["'][^>]*\bcontent=")([^"]*)(")/i;

/** The bodies of the page's inline scripts (not those loaded by `src`). */
export function inlineScripts(html: string): string[] {
  return [...html.matchAll(INLINE_SCRIPT)].map((m) => m[1]).filter((body) => body.trim() !== '');
}

/** A CSP source that allows one inline script. */
export const scriptHash = (body: string) => `'sha256-${createHash('sha256').update(body, 'utf8').digest('base64')}'`;

/** Adds sources to a policy's script-src (creating it from default-src when missing). */
export function addScriptSources(policy: string, sources: readonly string[]): string {
  const directives = policy
    .split(';')
    .map((d) => d.trim())
    .filter(Boolean);
  const at = directives.findIndex((d) => d.split(/\s+/)[0] === 'script-src');
  if (at >= 0) directives[at] = [directives[at], ...sources].join(' ');
  else {
    const fallback =
      directives
        .find((d) => d.split(/\s+/)[0] === 'default-src')
        ?.split(/\s+/)
        .slice(1) ?? [];
    directives.push(['script-src', ...fallback, ...sources].join(' '));
  }
  return directives.join('; ');
}

/** The page with its CSP meta tag allowing its own inline scripts by hash (and nothing else more). */
export function allowInlineScripts(html: string): string {
  const hashes = [...new Set(inlineScripts(html).map(scriptHash))];
  if (hashes.length === 0) return html;
  if (!META_CSP.test(html)) throw new Error('the page has no Content-Security-Policy meta tag to extend');
  return html.replace(META_CSP, (_m, open: string, policy: string, close: string) => `${open}${addScriptSources(policy, hashes)}${close}`);
}
