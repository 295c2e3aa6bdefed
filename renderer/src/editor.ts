// The one editor store of the page and the React hooks that read it.
import { useStore } from 'zustand';
import { createStore } from 'zustand/vanilla';
import { createEditorStore, type Editor } from './store/editor.js';
import type { Diagnostic } from '../../engine/graph/types.js';
import type { XY } from './store/document.js';
import { lastInputWindow } from './inputWindow.js';

export const editor = createEditorStore();

export function useEditor<T>(selector: (s: Editor) => T): T {
  return useStore(editor, selector);
}

export interface Toast {
  id: number;
  kind: 'info' | 'error';
  text: string;
}

export type Dialog =
  | { kind: 'help' }
  | { kind: 'diagnostics'; title: string; diagnostics: Diagnostic[] }
  | { kind: 'files'; mode: 'open' | 'save' }
  | { kind: 'confirm'; title: string; text: string; confirm: string; answer(ok: boolean): void };

/** What a context menu was opened on. */
export type MenuTarget = { kind: 'canvas' } | { kind: 'node'; id: string } | { kind: 'edge'; id: string };

/** A wire dropped on empty canvas: the port it was dragged from. */
export interface WireDrop {
  node: string;
  port: string;
  /** The end it was dragged from: an output (source) looks for inputs, an input (target) for outputs. */
  side: 'source' | 'target';
}

/** Panels, dialogs and passing messages: view state that is never undone or saved. */
export interface UiState {
  panels: { palette: boolean; inspector: boolean; summary: boolean };
  dialog: Dialog | null;
  /** The window the dialog shows in: where the user asked for it (the main window, or the detached dock's). */
  dialogWindow: Window;
  toasts: Toast[];
  quickAdd: { screen: XY; wire?: WireDrop } | null;
  contextMenu: { screen: XY; target: MenuTarget } | null;
  /** The wire being dragged: what it would carry, or why it is refused. */
  connectionHint: string | null;
}

export const ui = createStore<UiState>()(() => ({
  panels: { palette: true, inspector: true, summary: true },
  dialog: null,
  dialogWindow: window,
  toasts: [],
  quickAdd: null,
  contextMenu: null,
  connectionHint: null,
}));

export function useUi<T>(selector: (s: UiState) => T): T {
  return useStore(ui, selector);
}

let toastId = 0;
export function toast(text: string, kind: Toast['kind'] = 'info', ms = 4000): void {
  const id = ++toastId;
  ui.setState((s) => ({ toasts: [...s.toasts.slice(-3), { id, kind, text }] }));
  setTimeout(() => ui.setState((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) })), ms);
}

export const openDialog = (dialog: Dialog | null) => ui.setState(dialog ? { dialog, dialogWindow: lastInputWindow() } : { dialog });
export const togglePanel = (p: keyof UiState['panels']) => ui.setState((s) => ({ panels: { ...s.panels, [p]: !s.panels[p] } }));

/** Asks a yes/no question in a styled in-app dialog; resolves false when dismissed. */
export function ask(title: string, text: string, confirm: string): Promise<boolean> {
  return new Promise((resolve) => {
    const answer = (ok: boolean) => {
      if (ui.getState().dialog?.kind === 'confirm') ui.setState({ dialog: null });
      resolve(ok);
    };
    openDialog({ kind: 'confirm', title, text, confirm, answer });
  });
}
