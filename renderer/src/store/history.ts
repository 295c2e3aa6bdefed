// Undo history as snapshots of an immutable value. Edits that belong together
// (the steps of one drag, keystrokes into one field) share a coalesce key and
// become one undo step; `seal` ends such a run.
export interface History<T> {
  past: T[];
  present: T;
  future: T[];
  /** Key of the run of edits the last step belongs to, if it may still grow. */
  openKey: string | null;
}

export const HISTORY_LIMIT = 200;

export function createHistory<T>(present: T): History<T> {
  return { past: [], present, future: [], openKey: null };
}

/** Records `next` as the new present. Unchanged values record nothing. */
export function record<T>(h: History<T>, next: T, coalesce?: string): History<T> {
  if (next === h.present) return h;
  if (coalesce && h.openKey === coalesce) return { ...h, present: next, future: [] };
  const past = h.past.length >= HISTORY_LIMIT ? [...h.past.slice(1 - HISTORY_LIMIT), h.present] : [...h.past, h.present];
  return { past, present: next, future: [], openKey: coalesce ?? null };
}

export function seal<T>(h: History<T>): History<T> {
  return h.openKey === null ? h : { ...h, openKey: null };
}

export function undo<T>(h: History<T>): History<T> {
  if (h.past.length === 0) return seal(h);
  return { past: h.past.slice(0, -1), present: h.past[h.past.length - 1], future: [h.present, ...h.future], openKey: null };
}

export function redo<T>(h: History<T>): History<T> {
  if (h.future.length === 0) return seal(h);
  return { past: [...h.past, h.present], present: h.future[0], future: h.future.slice(1), openKey: null };
}

export const canUndo = <T>(h: History<T>) => h.past.length > 0;
export const canRedo = <T>(h: History<T>) => h.future.length > 0;
