// The detached dock's window: a blank window of the same origin that the main
// window renders into (a React portal), so it shares the main window's stores,
// host connection and current run. Nothing travels in its URL: it is about:blank,
// so no token can leak into a log or a shared link.
import { DOCK_WINDOW_NAME } from '../../../common/host-api/windows.js';

export interface DockWindow {
  window: Window;
  /** Where the dock is rendered. */
  root: HTMLElement;
  /** Stops mirroring styles and closes the window (if still open). */
  close(): void;
}

const FEATURES = 'popup,width=1000,height=720';
const CLOSED_POLL_MS = 500;

/** The main window's stylesheets (links and the styles Vite injects), copied as they appear. */
function mirrorStyles(from: Document, to: Document): () => void {
  const copy = (node: Node) => {
    if (node instanceof HTMLLinkElement && node.rel === 'stylesheet') {
      const link = to.createElement('link');
      link.rel = 'stylesheet';
      link.href = node.href; // absolute: about:blank has no base of its own to resolve against
      to.head.append(link);
    } else if (node instanceof HTMLStyleElement) {
      const style = to.createElement('style');
      style.textContent = node.textContent;
      to.head.append(style);
    }
  };
  from.head.childNodes.forEach(copy);
  const observer = new MutationObserver((records) => records.forEach((r) => r.addedNodes.forEach(copy)));
  observer.observe(from.head, { childList: true });
  return () => observer.disconnect();
}

/** The main window's colour theme (theme.ts sets it on the root as data-theme), followed as it changes. */
function mirrorTheme(from: Document, to: Document): () => void {
  const copy = () => {
    const choice = from.documentElement.dataset.theme;
    if (choice === undefined) delete to.documentElement.dataset.theme;
    else to.documentElement.dataset.theme = choice;
  };
  copy();
  const observer = new MutationObserver(copy);
  observer.observe(from.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
  return () => observer.disconnect();
}

/**
 * Opens the dock's window (call from a click: browsers open popups only on a user
 * gesture). Returns null when the browser refused. `onClosed` runs once, when the
 * user closes the window or the main window goes away.
 */
export function openDockWindow(onClosed: () => void): DockWindow | null {
  const w = window.open('', DOCK_WINDOW_NAME, FEATURES);
  if (!w) return null;
  const doc = w.document;
  doc.title = 'Attention Studio — dock';
  doc.documentElement.lang = 'en';
  doc.body.replaceChildren();
  doc.body.className = 'dock-window';
  const root = doc.createElement('div');
  root.className = 'dock-window__root';
  doc.body.append(root);
  const stopStyles = mirrorStyles(document, doc);
  const stopTheme = mirrorTheme(document, doc);

  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    clearInterval(poll);
    stopStyles();
    stopTheme();
    window.removeEventListener('pagehide', closeWindow);
    onClosed();
  };
  const closeWindow = () => {
    if (!w.closed) w.close();
    finish();
  };
  // `pagehide` on the child fires as it closes; the poll catches a close the event missed.
  w.addEventListener('pagehide', finish);
  const poll = setInterval(() => w.closed && finish(), CLOSED_POLL_MS);
  // The dock window lives only as long as the main window.
  window.addEventListener('pagehide', closeWindow);
  return { window: w, root, close: closeWindow };
}
