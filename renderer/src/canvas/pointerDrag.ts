import { editor } from '../editor.js';

let gestures = 0;

/**
 * Follows a left-button pointer drag that starts on `e`, reporting the movement in graph units
 * (screen pixels over the zoom) with one gesture id, so that the whole drag is one undo step.
 */
export function dragInGraph(e: React.PointerEvent, zoom: number, onMove: (dx: number, dy: number, gesture: string) => void): void {
  if (e.button !== 0) return;
  e.stopPropagation();
  e.preventDefault();
  const start = { x: e.clientX, y: e.clientY };
  const gesture = String(++gestures);
  const move = (m: PointerEvent) => onMove((m.clientX - start.x) / zoom, (m.clientY - start.y) / zoom, gesture);
  const up = () => {
    window.removeEventListener('pointermove', move);
    window.removeEventListener('pointerup', up);
    editor.getState().seal();
  };
  window.addEventListener('pointermove', move);
  window.addEventListener('pointerup', up);
}
