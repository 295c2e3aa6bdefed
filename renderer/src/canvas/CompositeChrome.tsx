// What the canvas adds for composites: the breadcrumb while a composite's
// inside is shown, the keys (Enter opens, Escape goes back out; Ctrl+G is
// in commands.ts), and the offer of a template on an empty canvas.
import { useEffect } from 'react';
import { editor, toast, ui, useEditor } from '../editor.js';
import { typing } from '../typing.js';
import { compositeUses } from '../store/composites.js';
import { compositeDef } from '../store/scope.js';
import { gallery, openGallery } from '../gallery/galleryState.js';
import './composite.css';

/** Groups the selection into a composite, or says why not. */
export function groupSelected(): void {
  const r = editor.getState().groupSelection();
  if (r.ok) toast(`Grouped into composite "${r.composite}": double-click it to edit its inside`);
  else toast(`Cannot group: ${r.reason}`, 'error');
}

/** Opens the selected composite node, if one is selected. */
export function openSelected(): boolean {
  const s = editor.getState();
  if (s.selection.nodes.size !== 1) return false;
  return s.enterComposite({ node: [...s.selection.nodes][0] });
}

export function useCompositeKeys(): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (typing(e.target) || ui.getState().dialog || gallery.isOpen() || e.repeat || e.altKey) return;
      const mod = e.ctrlKey || e.metaKey;
      const onCanvas = e.target === document.body || (e.target instanceof HTMLElement && !!e.target.closest('.canvas'));
      let handled = false;
      if (!mod && e.key === 'Enter' && onCanvas) handled = openSelected();
      else if (!mod && e.key === 'Escape' && editor.getState().scope.length > 0) {
        editor.getState().exitScope();
        handled = true;
      }
      if (handled) e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}

export function Breadcrumb() {
  const scope = useEditor((s) => s.scope);
  const graph = useEditor((s) => s.graph);
  const shapesFrom = useEditor((s) => s.view.shapesFrom);
  if (scope.length === 0) return null;
  const id = scope[scope.length - 1];
  const uses = compositeUses(graph, id);
  return (
    <nav className="breadcrumb" data-testid="breadcrumb" aria-label="Composite being edited">
      <button data-testid="breadcrumb-0" onClick={() => editor.getState().exitScope(0)} title="Back to the graph (Esc goes up one level)">
        ◂ {graph.name || 'graph'}
      </button>
      {scope.map((cid, i) => (
        <span key={`${i}:${cid}`}>
          <span className="breadcrumb__sep">›</span>
          {i === scope.length - 1 ? (
            <strong data-testid="breadcrumb-current">{compositeDef(graph, cid)?.label ?? cid}</strong>
          ) : (
            <button data-testid={`breadcrumb-${i + 1}`} onClick={() => editor.getState().exitScope(i + 1)}>
              {compositeDef(graph, cid)?.label ?? cid}
            </button>
          )}
        </span>
      ))}
      <span className="breadcrumb__note">
        composite <code>{id}</code> · edits apply to its {uses} use{uses === 1 ? '' : 's'}
        {shapesFrom ? ` · shapes of ${shapesFrom.join(' › ')}` : ' · no shapes (no use gets any)'}
      </span>
    </nav>
  );
}

export function EmptyCanvas() {
  return (
    <div className="empty-canvas" data-testid="empty-canvas">
      <p>An empty graph. Drag blocks from the palette, press Space to add one here, or</p>
      <button className="primary" data-testid="empty-canvas-template" onClick={openGallery}>
        Start from a template…
      </button>
    </div>
  );
}
