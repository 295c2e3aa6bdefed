// The canvas's right-button gestures. A right click (the button let go where it
// went down) opens the context menu of what is under it; a right drag pans
// (React Flow); Ctrl + right drag draws a knife line and cuts every wire it
// crosses. Linux browsers send `contextmenu` on button down, so the menu waits
// for the button to come up.
import { useCallback, useEffect, useRef, useState } from 'react';
import { editor, ui, type MenuTarget } from '../editor.js';
import type { XY } from '../store/document.js';

const CLICK_SLOP = 5;

/** What a right click landed on, from the page's elements; null off the graph (minimap, controls). */
export function menuTargetAt(el: Element | null): MenuTarget | null {
  const node = el?.closest('.react-flow__node');
  if (node) return { kind: 'node', id: node.getAttribute('data-id') ?? '' };
  // The box over a box-selected group of nodes: the menu of the selection.
  const first = el?.closest('.react-flow__nodesselection') && [...editor.getState().selection.nodes][0];
  if (first) return { kind: 'node', id: first };
  const edge = el?.closest('.react-flow__edge') ?? el?.closest('[data-edge-id]');
  if (edge) return { kind: 'edge', id: edge.getAttribute('data-id') ?? edge.getAttribute('data-edge-id') ?? '' };
  if (el?.closest('.react-flow__pane, .react-flow__renderer')) return { kind: 'canvas' };
  return null;
}

function openMenu(target: MenuTarget, screen: XY): void {
  if (target.kind === 'node') {
    // A right click on a node outside the selection acts on that node alone.
    const s = editor.getState();
    if (!s.selection.nodes.has(target.id)) s.select([target.id]);
  }
  ui.setState({ contextMenu: { screen, target }, quickAdd: null });
}

/** Do segments ab and cd cross? */
function crosses(a: XY, b: XY, c: XY, d: XY): boolean {
  const side = (p: XY, q: XY, r: XY) => Math.sign((q.x - p.x) * (r.y - p.y) - (q.y - p.y) * (r.x - p.x));
  return side(a, b, c) !== side(a, b, d) && side(c, d, a) !== side(c, d, b);
}

/** The ids of the wires on screen that the knife line crosses (their drawn paths, sampled, in screen coordinates). */
export function wiresCrossed(root: HTMLElement, knife: XY[]): string[] {
  const hit: string[] = [];
  for (const g of root.querySelectorAll<SVGGElement>('.react-flow__edge')) {
    const path = g.querySelector<SVGPathElement>('path.react-flow__edge-path');
    const m = path?.getScreenCTM();
    if (!path || !m) continue;
    const len = path.getTotalLength();
    const n = Math.max(8, Math.min(200, Math.ceil(len / 12)));
    const pts: XY[] = [];
    for (let k = 0; k <= n; k++) {
      const p = path.getPointAtLength((len * k) / n);
      pts.push({ x: m.a * p.x + m.c * p.y + m.e, y: m.b * p.x + m.d * p.y + m.f });
    }
    const crossed = knife.some((a, i) => i > 0 && pts.some((c, j) => j > 0 && crosses(knife[i - 1], a, pts[j - 1], c)));
    if (crossed) hit.push(g.getAttribute('data-id') ?? '');
  }
  return hit.filter(Boolean);
}

export function useCanvasGestures(wrapper: React.RefObject<HTMLDivElement | null>) {
  const down = useRef<XY | null>(null);
  const pending = useRef<{ target: MenuTarget; screen: XY } | null>(null);
  const lastRightDrag = useRef(Infinity);
  const [knife, setKnife] = useState<XY[] | null>(null);
  const knifeRef = useRef<XY[] | null>(null);

  useEffect(() => {
    const onUp = (e: PointerEvent) => {
      if (e.button !== 2 || !down.current) return;
      const moved = Math.hypot(e.clientX - down.current.x, e.clientY - down.current.y);
      down.current = null;
      lastRightDrag.current = moved;
      const p = pending.current;
      pending.current = null;
      if (p && moved < CLICK_SLOP) openMenu(p.target, p.screen);
    };
    window.addEventListener('pointerup', onUp, true);
    return () => window.removeEventListener('pointerup', onUp, true);
  }, []);

  const startKnife = useCallback(
    (start: XY) => {
      knifeRef.current = [start];
      setKnife([start]);
      const move = (e: MouseEvent) => {
        knifeRef.current = [...knifeRef.current!, { x: e.clientX, y: e.clientY }];
        setKnife(knifeRef.current);
      };
      const up = () => {
        window.removeEventListener('mousemove', move, true);
        window.removeEventListener('mouseup', up, true);
        const line = knifeRef.current ?? [];
        knifeRef.current = null;
        setKnife(null);
        if (line.length > 1 && wrapper.current) {
          const cut = wiresCrossed(wrapper.current, line);
          if (cut.length) editor.getState().deleteElements([], cut);
        }
      };
      window.addEventListener('mousemove', move, true);
      window.addEventListener('mouseup', up, true);
    },
    [wrapper],
  );

  /** Capture phase: a Ctrl + right press is the knife's, and React Flow must not start a pan. */
  const onMouseDownCapture = useCallback(
    (e: React.MouseEvent) => {
      if (e.button !== 2) return;
      if (e.ctrlKey || e.metaKey) {
        e.stopPropagation();
        e.preventDefault();
        startKnife({ x: e.clientX, y: e.clientY });
      }
    },
    [startKnife],
  );
  const onPointerDownCapture = useCallback((e: React.PointerEvent) => {
    if (e.button === 2 && !e.ctrlKey && !e.metaKey) down.current = { x: e.clientX, y: e.clientY };
  }, []);
  const onContextMenu = useCallback((e: React.MouseEvent) => {
    e.preventDefault();
    if (e.ctrlKey || e.metaKey || knifeRef.current) return;
    const target = menuTargetAt(e.target as Element);
    if (!target) return;
    const screen = { x: e.clientX, y: e.clientY };
    if (down.current) pending.current = { target, screen };
    else if (lastRightDrag.current < CLICK_SLOP) {
      // Sent after the button came up (Windows, macOS).
      lastRightDrag.current = Infinity;
      openMenu(target, screen);
    }
  }, []);

  return { knife, handlers: { onMouseDownCapture, onPointerDownCapture, onContextMenu } };
}
