// The inspector's part for a composite node: the definition's name (shared by
// every use), how often it is used, and the way into its inside.
import { editor, useEditor } from '../editor.js';
import { compositeUses } from '../store/composites.js';
import { compositeDef } from '../store/scope.js';

export function CompositeSection({ id, nodeId }: { id: string; nodeId: string }) {
  const def = useEditor((s) => compositeDef(s.graph, id));
  const uses = useEditor((s) => compositeUses(s.graph, id));
  if (!def) return null;
  return (
    <>
      <div className="section-title">Composite</div>
      <div className="field">
        <label htmlFor="composite-label">Composite name</label>
        <input
          id="composite-label"
          type="text"
          key={id}
          defaultValue={def.label ?? ''}
          placeholder={id}
          data-testid="composite-label"
          onChange={(e) => editor.getState().setCompositeLabel(id, e.target.value)}
          onBlur={() => editor.getState().seal()}
        />
        <div className="field__help">
          <code>{id}</code> · {def.nodes.length} nodes inside · used {uses} time{uses === 1 ? '' : 's'}; renaming or editing it changes every use
        </div>
      </div>
      <button className="primary" data-testid="inspector-open-composite" onClick={() => editor.getState().enterComposite({ node: nodeId })}>
        Edit inside ▸
      </button>
    </>
  );
}
