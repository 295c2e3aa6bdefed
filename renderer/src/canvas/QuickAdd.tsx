// Quick-add: Space or Tab over the canvas opens a search at the cursor; Enter
// places the chosen block there.
import { useEffect, useMemo, useRef, useState } from 'react';
import { searchBlocks } from '../store/catalogue.js';
import { editor, ui, useUi } from '../editor.js';
import { canvasApi } from './canvasApi.js';

export function QuickAdd() {
  const at = useUi((s) => s.quickAdd);
  if (!at) return null;
  return <QuickAddBox x={at.screen.x} y={at.screen.y} />;
}

function QuickAddBox({ x, y }: { x: number; y: number }) {
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const results = useMemo(() => searchBlocks(query).slice(0, 12), [query]);
  useEffect(() => input.current?.focus(), []);
  const close = () => ui.setState({ quickAdd: null });
  const choose = (type: string) => {
    const pos = canvasApi.current?.toFlow({ x, y }) ?? { x: 0, y: 0 };
    editor.getState().addBlock(type, pos);
    close();
  };
  return (
    <div className="quick-add" style={{ left: x, top: y }} data-testid="quick-add" onMouseDown={(e) => e.stopPropagation()}>
      <input
        ref={input}
        value={query}
        placeholder="Add block…"
        data-testid="quick-add-input"
        onChange={(e) => {
          setQuery(e.target.value);
          setActive(0);
        }}
        onBlur={close}
        onKeyDown={(e) => {
          if (e.key === 'Escape') close();
          else if (e.key === 'ArrowDown') setActive((a) => Math.min(a + 1, results.length - 1));
          else if (e.key === 'ArrowUp') setActive((a) => Math.max(a - 1, 0));
          else if (e.key === 'Enter' && results[active]) choose(results[active].type);
          else return;
          e.preventDefault();
        }}
      />
      <ul>
        {results.map((b, i) => (
          <li
            key={b.type}
            className={i === active ? 'active' : ''}
            data-testid={`quick-add-item-${b.type}`}
            title={b.doc}
            onMouseEnter={() => setActive(i)}
            onMouseDown={(e) => {
              e.preventDefault();
              choose(b.type);
            }}
          >
            <span>{b.label}</span>
            <small>{b.category}</small>
          </li>
        ))}
        {results.length === 0 && <li className="empty">No block matches</li>}
      </ul>
    </div>
  );
}
