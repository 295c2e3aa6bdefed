// End-to-end harness: the browser mode started as a user starts it (its own
// process, a random port, a fresh token, throwaway folders), and Debian's
// Chromium driven by playwright-core.
import { after, before } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.ATTN_CHROMIUM ?? '/usr/bin/chromium';
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SERVE = path.join(ROOT, 'dist', 'electron', 'serve.js');
const RENDERER_INDEX = path.join(ROOT, 'dist', 'app', 'index.html');

/** Why the end-to-end tests cannot run here, or false when they can. Printed, so a skip is never silent. */
export function skipReason(): string | false {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing, so the end-to-end tests are SKIPPED (install it: apt-get install -y chromium)`;
  return false;
}

export interface Served {
  url: string;
  origin: string;
  workspace: string;
  stop(): Promise<void>;
}

/**
 * Starts `serve.js` and waits for the URL it prints; stops it again if that fails.
 * It prints it in seconds on a quiet machine; a loaded 2-core one takes longer.
 */
export async function serve(startTimeoutMs = 60_000): Promise<Served> {
  if (!existsSync(RENDERER_INDEX)) throw new Error(`${RENDERER_INDEX} is missing: npm test builds the renderer (vite build) before the tests`);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'attn-e2e-'));
  const workspace = path.join(tmp, 'workspace');
  await mkdir(workspace);
  const child: ChildProcess = spawn(process.execPath, [SERVE, '--port', '0', '--workspace', workspace, '--state', path.join(tmp, 'state')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      // A server that ignores SIGTERM must not hold the test file open (CI would hang).
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(tmp, { recursive: true, force: true });
  };
  let output = '';
  const started = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve.js printed no URL in ${startTimeoutMs / 1000} s:\n${output}`)), startTimeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /open: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve.js exited with ${code}:\n${output}`));
    });
  });
  let url: string;
  try {
    url = await started;
  } catch (err) {
    // The server may still be starting: left running, it would hold the test file open.
    await stop();
    throw err;
  }
  return { url, origin: new URL(url).origin, workspace, stop };
}

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Copies templates (by file name) from the repository into a workspace. */
export async function copyTemplates(workspace: string, names: string[]): Promise<void> {
  for (const name of names) await copyFile(path.join(ROOT, 'templates', name), path.join(workspace, name));
}

/**
 * Browser mode and headless Chromium for the tests of one describe block:
 * started before them (then `prepare` fills the workspace), closed after them,
 * whichever of the two did start.
 */
export function browserModeSuite(prepare?: (workspace: string) => Promise<void>): { server: Served; browser: Browser } {
  const env = {} as { server: Served; browser: Browser };
  before(async () => {
    env.server = await serve();
    env.browser = await launch();
    await prepare?.(env.server.workspace);
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
  });
  return env;
}

export interface OpenPage {
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions and console errors (CSP violations among them) seen so far. */
  errors: string[];
}

/** Settings of the browser context a page opens in (e.g. the system's `colorScheme`). */
export type EditorContext = Parameters<Browser['newContext']>[0];

/** A fresh browser context (no cookies) with the editor loaded and ready. */
export async function openEditor(browser: Browser, url: string, settings?: EditorContext): Promise<OpenPage> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, ...settings });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.goto(url);
  await page.getByTestId('canvas').waitFor();
  await page.getByTestId('palette').waitFor();
  return { context, page, errors };
}

/** Opens a workspace file through the Open dialog; with `ready`, waits until the element with that test id (a node of the graph) shows. */
export async function openFile(page: Page, name: string, ready?: string): Promise<void> {
  await page.getByTestId('cmd-file.open').click();
  await page.getByTestId('file-dialog-open').waitFor();
  await page.getByTestId(`file-entry-${name}`).click();
  if (ready) await page.getByTestId(ready).waitFor();
}

/** Runs `body` on a fresh editor page of the suite's server; the page's context is closed whatever happens. */
export async function withEditor(
  env: { server: Served; browser: Browser },
  body: (opened: OpenPage) => Promise<void>,
  settings?: EditorContext,
): Promise<void> {
  const opened = await openEditor(env.browser, env.server.url, settings);
  try {
    await body(opened);
  } finally {
    await opened.context.close();
  }
}

/** The ids of the graph's nodes on the canvas, sorted. */
export async function nodeIds(page: Page): Promise<string[]> {
  const ids = await page
    .locator('[data-testid^="node-"][data-type]')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')!.slice('node-'.length)));
  return ids.sort();
}

// Page functions for waitForFunction (string predicates are refused by the
// page's CSP once they need a second poll). They are serialised one by one, so
// each spells out the page's globals, typed here as far as they are used: this
// code compiles without the DOM's types.
interface PageDom {
  document: { title: string; querySelector(sel: string): { textContent: string | null } | null; querySelectorAll(sel: string): ArrayLike<unknown> };
}
/** The element with this test id shows exactly `want`. */
export const textIs = ([id, want]: readonly [string, string]) =>
  (globalThis as unknown as PageDom).document.querySelector(`[data-testid="${id}"]`)?.textContent === want;
/** The element with this test id shows `part` somewhere in its text. */
export const textIncludes = ([id, part]: readonly [string, string]) =>
  (globalThis as unknown as PageDom).document.querySelector(`[data-testid="${id}"]`)?.textContent?.includes(part) === true;
/** Exactly `n` elements match `sel`. */
export const countIs = ([sel, n]: readonly [string, number]) => (globalThis as unknown as PageDom).document.querySelectorAll(sel).length === n;
/** The window title contains `part`. */
export const titleIncludes = (part: string) => (globalThis as unknown as PageDom).document.title.includes(part);
/** React Flow's viewport is at exactly this zoom (string-matched in its transform, as the page sets it). */
export const zoomIs = (zoom: number) =>
  (
    (globalThis as unknown as PageDom).document.querySelector('.react-flow__viewport') as unknown as { style: { transform: string } } | null
  )?.style.transform.includes(`scale(${zoom})`) === true;
