// Keyboard shortcuts heard in a window: the main window hears them all; the
// detached dock's window those that do not act on the canvas under the cursor.
import { ui } from './editor.js';
import { matches, runCommand, SHORTCUTS, type Command, type Shortcut } from './commands.js';
import { typing } from './typing.js';

/** Clipboard keys go to the copy/cut/paste events instead, which can reach the system clipboard. */
const CLIPBOARD = new Set(['edit.copy', 'edit.cut', 'edit.paste']);

/** The dock's window hears the file commands, export among them, undo and redo, the theme and help (copy and paste come as clipboard events). */
const AWAY_FROM_CANVAS = new Set<Command>([
  'file.new',
  'file.open',
  'file.save',
  'file.saveAs',
  'file.export',
  'edit.undo',
  'edit.redo',
  'view.cycleTheme',
  'help.shortcuts',
]);
export const awayFromCanvas = (s: Shortcut): boolean => AWAY_FROM_CANVAS.has(s.command);

/** Runs the command of each shortcut pressed in `win` that `heard` lets through; returns the way to stop. */
export function listenForShortcuts(win: Window, heard: (s: Shortcut) => boolean = () => true): () => void {
  const onKey = (e: KeyboardEvent) => {
    if (typing(e.target) || ui.getState().dialog || e.repeat) return;
    const hit = SHORTCUTS.find((s) => s.keys.some((k) => matches(e, k)));
    if (!hit || CLIPBOARD.has(hit.command) || !heard(hit)) return;
    e.preventDefault();
    void runCommand(hit.command);
  };
  win.addEventListener('keydown', onKey);
  return () => win.removeEventListener('keydown', onKey);
}
