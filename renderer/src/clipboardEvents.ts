// Ctrl+C/X/V on the graph, heard as the browser's copy, cut and paste events
// (which can reach the system clipboard), in the main window and in the
// detached dock's. Text the user selected, or a field being typed in, keeps the
// browser's own copy and paste.
import { editor } from './editor.js';
import { canvasApi } from './canvas/canvasApi.js';
import { typing } from './typing.js';
import { fragmentText, parseFragment } from './store/clipboard.js';

/** Copies, cuts and pastes the graph's selection on those events in `win`; returns the way to stop. */
export function listenForClipboard(win: Window): () => void {
  const doc = win.document;
  const textSelected = () => (win.getSelection()?.toString() ?? '') !== '';
  const onCopy = (e: ClipboardEvent) => {
    if (typing(e.target) || textSelected()) return;
    const s = editor.getState();
    const fragment = e.type === 'cut' ? s.cut() : s.copy();
    if (!fragment) return;
    e.clipboardData?.setData('text/plain', fragmentText(fragment));
    e.preventDefault();
  };
  const onPaste = (e: ClipboardEvent) => {
    if (typing(e.target)) return;
    const fragment = parseFragment(e.clipboardData?.getData('text/plain') ?? '') ?? editor.getState().clipboard ?? undefined;
    if (!fragment) return;
    e.preventDefault();
    // At the cursor when it is over the canvas; else where paste puts it.
    const at = canvasApi.current?.pointerOverCanvas();
    editor.getState().paste(fragment, at ? canvasApi.current!.toFlow(at) : undefined);
  };
  doc.addEventListener('copy', onCopy);
  doc.addEventListener('cut', onCopy);
  doc.addEventListener('paste', onPaste);
  return () => {
    doc.removeEventListener('copy', onCopy);
    doc.removeEventListener('cut', onCopy);
    doc.removeEventListener('paste', onPaste);
  };
}
