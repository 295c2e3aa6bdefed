// A ResizeObserver from the element's own window. One made by the main window
// never reports the elements of the detached dock's window (each document runs
// its own resize observations), so the dock's charts and maps use this.

/** Calls `onResize` whenever `el` changes size; returns the disconnect. */
export function observeSize(el: Element, onResize: () => void): () => void {
  const Observer = el.ownerDocument.defaultView?.ResizeObserver ?? ResizeObserver;
  const observer = new Observer(onResize);
  observer.observe(el);
  return () => observer.disconnect();
}
