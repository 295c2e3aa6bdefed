// Text contrast as WCAG 2 measures it, for the theme tests: every element
// with text of its own under a selector, its colour against the first opaque
// background behind it.
import type { Page } from 'playwright-core';

/** WCAG's minimum for body text. */
export const READABLE = 4.5;

/** Relative luminance of an rgb()/rgba() colour string (WCAG 2). */
export function luminance(css: string): number {
  const [r, g, b] = (css.match(/[\d.]+/g) ?? []).slice(0, 3).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export const contrast = (a: string, b: string): number => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
};

// The page's globals as far as textColours uses them (this file compiles without the DOM's types).
interface TextElement {
  parentElement: TextElement | null;
  childNodes: ArrayLike<{ nodeType: number; textContent: string | null }>;
  getAttribute(name: string): string | null;
  tagName: string;
  className: string;
  getClientRects(): ArrayLike<unknown>;
}
interface TextDom {
  document: { querySelectorAll(sel: string): ArrayLike<TextElement> };
  getComputedStyle(el: TextElement): { backgroundColor: string; color: string };
}

export interface TextColour {
  what: string;
  fg: string;
  bg: string;
}

/** Each shown element with text of its own inside `selector`: its colour and the colour behind it. */
export function textColours(page: Page, selector: string): Promise<TextColour[]> {
  return page.evaluate((selector) => {
    const g = globalThis as unknown as TextDom;
    const behind = (el: TextElement | null): string => {
      for (; el; el = el.parentElement) {
        const bg = g.getComputedStyle(el).backgroundColor;
        if (bg !== 'transparent' && !/rgba\(.*, 0\)$/.test(bg)) return bg;
      }
      return 'rgb(255, 255, 255)';
    };
    const out: { what: string; fg: string; bg: string }[] = [];
    for (const el of Array.from(g.document.querySelectorAll(`${selector} *`))) {
      const own = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent!.trim());
      if (!own || el.getClientRects().length === 0) continue;
      const what = `${el.tagName.toLowerCase()}.${el.className}${el.getAttribute('data-testid') ? `#${el.getAttribute('data-testid')}` : ''}`;
      out.push({ what, fg: g.getComputedStyle(el).color, bg: behind(el) });
    }
    return out;
  }, selector);
}

/** The texts below READABLE, described: [] when all read. */
export const poorlyReadable = (texts: TextColour[]): string[] =>
  texts.filter((t) => contrast(t.fg, t.bg) < READABLE).map((t) => `${t.what} ${t.fg} on ${t.bg} (${contrast(t.fg, t.bg).toFixed(2)})`);
