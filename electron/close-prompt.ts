// The question before a window with unsaved work closes (or the app quits):
// Save, Don't Save or Cancel. The renderer refuses to unload while its graph is
// dirty (`beforeunload`); Electron then emits `will-prevent-unload` and the main
// process asks this question. Pure, so that it is tested without Electron.
import type { MessageBoxSyncOptions } from 'electron';

import { CLOSE_AFTER_SAVE } from '../common/host-api/api.js';

export { CLOSE_AFTER_SAVE };

export type CloseChoice = 'save' | 'discard' | 'cancel';
const BUTTONS: readonly [CloseChoice, string][] = [
  ['save', 'Save'],
  ['discard', "Don't Save"],
  ['cancel', 'Cancel'],
];

/** The document's name from the window title that the renderer keeps ("● name — Attention Studio"). */
export function documentName(windowTitle: string): string {
  return (
    windowTitle
      .replace(/^●\s*/, '')
      .replace(/\s+—\s+Attention Studio$/, '')
      .trim() || 'untitled'
  );
}

export function closePrompt(windowTitle: string): MessageBoxSyncOptions {
  return {
    type: 'warning',
    buttons: BUTTONS.map(([, label]) => label),
    defaultId: 0,
    cancelId: BUTTONS.findIndex(([c]) => c === 'cancel'),
    noLink: true,
    title: 'Unsaved changes',
    message: `Save the changes to ${documentName(windowTitle)} before closing?`,
    detail: "Your changes are lost if you don't save them.",
  };
}

/** The answer of the message box (a button index) as a choice; anything else (the box dismissed) cancels. */
export function closeChoice(button: number): CloseChoice {
  return BUTTONS[button]?.[0] ?? 'cancel';
}

/**
 * What follows a choice: `unload` lets the window close now (the dirty graph is
 * dropped); `saveThenClose` keeps it open and asks the renderer to save and
 * then close itself, which it does only if the save went through (Save As can
 * be cancelled, a write can fail).
 */
export function afterChoice(choice: CloseChoice): { unload: boolean; saveThenClose: boolean } {
  return { unload: choice === 'discard', saveThenClose: choice === 'save' };
}
