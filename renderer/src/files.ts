// New, open, save, save as, autosave and crash recovery, through the HostApi.
// A file that cannot be opened shows its diagnostics and leaves the editor as it was.
import { createStore } from 'zustand/vanilla';
import type { GraphLoad, GraphWrite, RecentFile } from '../../common/host-api/api.js';
import type { GraphFile } from '../../engine/graph/types.js';
import { ask, editor, openDialog, toast, ui } from './editor.js';
import { host, noHostReason } from './host/host.js';
import { emptyGraph } from './store/document.js';
import { openGraphText } from './store/load.js';

export const AUTOSAVE_MS = 3000;
export const FILE_SUFFIX = '.attn.json';

const basename = (p: string) => p.split(/[\\/]/).pop() ?? p;

function needHost() {
  if (!host) toast(`Files are not available: ${noHostReason ?? 'no host'}`, 'error', 7000);
  return host;
}

/** Asks (in an in-app dialog) before throwing away unsaved work. */
export async function confirmDiscard(what: string): Promise<boolean> {
  if (!editor.getState().isDirty()) return true;
  return ask('Unsaved changes', `The graph has unsaved changes. ${what} and lose them?`, 'Discard changes');
}

export async function newDocument(): Promise<void> {
  if (!(await confirmDiscard('Start a new graph'))) return;
  editor.getState().load(emptyGraph(), null);
  void host?.clearRecovery().catch(() => undefined);
}

let nativeDialogs: Promise<boolean> | undefined;
const hasNativeDialogs = () =>
  (nativeDialogs ??= host
    ? host.info().then(
        (i) => i.nativeDialogs,
        () => false,
      )
    : Promise.resolve(false));

/** Opens a file (by path, or the one the user picks); true when it is shown. */
export async function openDocument(path?: string): Promise<boolean> {
  const h = needHost();
  if (!h || !(await confirmDiscard('Open another graph'))) return false;
  if (!path && !(await hasNativeDialogs())) {
    openDialog({ kind: 'files', mode: 'open' });
    return false;
  }
  try {
    const load = await h.openFile(path ? { path } : {});
    return load ? applyLoad(load) : false;
  } catch (err) {
    toast(`Could not open: ${(err as Error).message}`, 'error', 8000);
    return false;
  }
}

/** Shows a loaded graph, or its diagnostics without touching the editor. */
export function applyLoad(load: GraphLoad): boolean {
  const opened = load.graph ? openGraphText(JSON.stringify(load.graph)) : { ok: false as const, diagnostics: load.diagnostics };
  if (!opened.ok) {
    openDialog({ kind: 'diagnostics', title: `${load.path ? basename(load.path) : load.name} cannot be opened`, diagnostics: opened.diagnostics });
    return false;
  }
  editor.getState().load(opened.graph, load.path);
  ui.setState({ dialog: null });
  return true;
}

function afterWrite(r: GraphWrite | null, graph: GraphFile): boolean {
  if (!r) return false;
  if (!r.written) {
    openDialog({ kind: 'diagnostics', title: `${basename(r.path)} was not saved`, diagnostics: r.diagnostics });
    return false;
  }
  editor.getState().markSaved(graph, r.path);
  lastRecovery = { graph, dirty: false };
  void host?.clearRecovery().catch(() => undefined);
  toast(`Saved ${basename(r.path)}`);
  return true;
}

export async function saveDocument(): Promise<boolean> {
  const h = needHost();
  const { graph, filePath } = editor.getState();
  if (!h) return false;
  if (!filePath) return saveDocumentAs();
  try {
    return afterWrite(await h.saveFile({ path: filePath, graph }), graph);
  } catch (err) {
    toast(`Could not save: ${(err as Error).message}`, 'error', 8000);
    return false;
  }
}

export async function saveDocumentAs(path?: string): Promise<boolean> {
  const h = needHost();
  if (!h) return false;
  if (!path && !(await hasNativeDialogs())) {
    openDialog({ kind: 'files', mode: 'save' });
    return false;
  }
  const { graph } = editor.getState();
  try {
    const r = await h.saveFileAs({ graph, ...(path ? { path } : { suggestedName: `${graph.name || 'untitled'}${FILE_SUFFIX}` }) });
    const ok = afterWrite(r, graph);
    if (ok) ui.setState({ dialog: null });
    return ok;
  } catch (err) {
    toast(`Could not save: ${(err as Error).message}`, 'error', 8000);
    return false;
  }
}

// ------------------------------------------------------------ recent files

/** The toolbar's Open Recent menu: open or not, and the list the host last gave. */
export const recentMenu = createStore<{ open: boolean; files: RecentFile[] }>()(() => ({ open: false, files: [] }));

export async function refreshRecent(): Promise<RecentFile[]> {
  const files = (await host?.recentFiles().catch(() => null)) ?? [];
  recentMenu.setState({ files });
  return files;
}

export async function showRecentMenu(open = true): Promise<void> {
  recentMenu.setState({ open });
  if (open) await refreshRecent();
}

/** Opens a recent file directly; one that is gone says so (its diagnostics) and leaves the list. */
export async function openRecentFile(path: string): Promise<void> {
  recentMenu.setState({ open: false });
  const opened = await openDocument(path);
  const files = await refreshRecent();
  if (!opened && !files.some((f) => f.path === path)) toast(`${basename(path)} is no longer there: removed from Open Recent`, 'error', 7000);
}

export async function clearRecent(): Promise<void> {
  await host?.clearRecentFiles().catch((err: Error) => toast(`Could not clear the recent files: ${err.message}`, 'error'));
  await refreshRecent();
}

// ------------------------------------------------------------ recovery

let lastRecovery: { graph: GraphFile; dirty: boolean } | undefined;

/** Writes the graph to the recovery file while it has unsaved changes; clears it once saved or undone. */
export async function autosaveNow(): Promise<void> {
  if (!host) return;
  const s = editor.getState();
  const dirty = s.isDirty();
  if (lastRecovery && lastRecovery.graph === s.graph && lastRecovery.dirty === dirty) return;
  const wasDirty = lastRecovery?.dirty ?? false;
  lastRecovery = { graph: s.graph, dirty };
  try {
    if (dirty) await host.writeRecovery({ graph: s.graph, path: s.filePath, dirty: true });
    else if (wasDirty) await host.clearRecovery();
  } catch {
    lastRecovery = undefined; // try again next tick
  }
}

export function startAutosave(): () => void {
  const t = setInterval(() => void autosaveNow(), AUTOSAVE_MS);
  return () => clearInterval(t);
}

export interface RecoveryOffer {
  graph: GraphFile;
  path: string | null;
  savedAt: string;
}

/** Unsaved work left by a session that did not close cleanly, if any. */
export async function findRecovery(): Promise<RecoveryOffer | null> {
  if (!host) return null;
  try {
    const r = await host.readRecovery();
    if (!r || !r.dirty) return null;
    const opened = openGraphText(JSON.stringify(r.graph));
    return opened.ok ? { graph: opened.graph, path: r.path, savedAt: r.savedAt } : null;
  } catch {
    return null;
  }
}

export function restoreRecovery(offer: RecoveryOffer): void {
  editor.getState().load(offer.graph, offer.path, { dirty: true });
}

export function discardRecovery(): void {
  void host?.clearRecovery().catch(() => undefined);
}

export function documentTitle(name: string, path: string | null, dirty: boolean): string {
  return `${dirty ? '● ' : ''}${path ? basename(path) : name || 'untitled'} — Attention Studio`;
}
