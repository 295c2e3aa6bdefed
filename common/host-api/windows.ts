// Windows the renderer may open besides its own, named so that the desktop shell
// can tell them from any other `window.open` (which it refuses).

/** The detached training dock: a blank same-origin window the main window renders into. */
export const DOCK_WINDOW_NAME = 'attn-dock';
