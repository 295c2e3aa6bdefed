// The window the user last pressed a button or key in: the main window, or the
// dock's own window while the dock is detached. A dialog they asked for opens
// there, in front of them.
let last: Window = window;

export const lastInputWindow = (): Window => last;

/** Follows presses in `win`; the returned function stops, and hands the part back to the main window if `win` had it. */
export function followInput(win: Window): () => void {
  const mark = () => void (last = win);
  win.addEventListener('pointerdown', mark, true);
  win.addEventListener('keydown', mark, true);
  return () => {
    win.removeEventListener('pointerdown', mark, true);
    win.removeEventListener('keydown', mark, true);
    if (last === win) last = window;
  };
}
