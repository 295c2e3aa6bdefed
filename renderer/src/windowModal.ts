// Modals with a state of their own (the template gallery, the Export dialog)
// that open in the window the user last pressed in: the main window, or the
// detached dock's. Each window draws the modal only when it is open there.
import { create } from 'zustand';
import { lastInputWindow } from './inputWindow.js';

export interface WindowModal {
  /** Whether it is open in `win` (a React hook). */
  useOpenIn(win: Window): boolean;
  open(): void;
  close(): void;
  isOpen(): boolean;
}

type Where = { win: Window | null };
const modals: { setState(s: Where): void; getState(): Where }[] = [];

export function windowModal(): WindowModal {
  const store = create<Where>(() => ({ win: null }));
  modals.push(store);
  return {
    useOpenIn: (win) => store((s) => s.win === win),
    open: () => store.setState({ win: lastInputWindow() }),
    close: () => store.setState({ win: null }),
    isOpen: () => store.getState().win !== null,
  };
}

/** The modals open in `gone` (a window closing) move to the main window. */
export function rehomeModals(gone: Window): void {
  for (const m of modals) if (m.getState().win === gone) m.setState({ win: window });
}
