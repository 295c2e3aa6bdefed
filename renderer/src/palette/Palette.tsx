// The block palette: categories in registry order, a search box, drag a block
// onto the canvas (or double-click / Enter to place it in view), docs on hover.
import { useMemo, useState } from 'react';
import { portsOf, type AnyBlock } from '../../../engine/blocks/contract.js';
import { defaultParams } from '../../../engine/blocks/params.js';
import { groupByCategory, searchBlocks } from '../store/catalogue.js';
import { editor } from '../editor.js';
import { canvasApi } from '../canvas/canvasApi.js';
import { BLOCK_MIME } from '../canvas/GraphCanvas.js';
import { categoryHue } from '../ui-format.js';
import { BlockDoc } from './BlockDoc.js';

function place(type: string) {
  const at = canvasApi.current?.dropPoint() ?? { x: 0, y: 0 };
  editor.getState().addBlock(type, at);
}

export function Palette() {
  const [query, setQuery] = useState('');
  const [hovered, setHovered] = useState<{ block: AnyBlock; top: number } | null>(null);
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const groups = useMemo(() => groupByCategory(query ? searchBlocks(query) : undefined), [query]);

  return (
    <aside className="palette" data-testid="palette" onMouseLeave={() => setHovered(null)}>
      <div className="panel-title">Blocks</div>
      <input
        className="search"
        type="search"
        placeholder="Search blocks…"
        value={query}
        data-testid="palette-search"
        onChange={(e) => setQuery(e.target.value)}
        onKeyDown={(e) => {
          const first = groups[0]?.blocks[0];
          if (e.key === 'Enter' && first) place(first.type);
          if (e.key === 'Escape') setQuery('');
        }}
      />
      <div className="palette__list">
        {groups.map((g) => {
          const closed = !query && collapsed.has(g.category);
          return (
            <section key={g.category} data-testid={`palette-category-${g.category}`}>
              <h3
                style={{ '--hue': categoryHue(g.category) } as React.CSSProperties}
                onClick={() =>
                  setCollapsed((c) => {
                    const n = new Set(c);
                    if (n.has(g.category)) n.delete(g.category);
                    else n.add(g.category);
                    return n;
                  })
                }
              >
                <span className="caret">{closed ? '▸' : '▾'}</span>
                {g.category}
                <small>{g.blocks.length}</small>
              </h3>
              {!closed &&
                g.blocks.map((b) => (
                  <div
                    key={b.type}
                    className="palette__item"
                    style={{ '--hue': categoryHue(b.category) } as React.CSSProperties}
                    draggable
                    tabIndex={0}
                    data-testid={`palette-item-${b.type}`}
                    onDragStart={(e) => {
                      e.dataTransfer.setData(BLOCK_MIME, b.type);
                      e.dataTransfer.setData('text/plain', b.type);
                      e.dataTransfer.effectAllowed = 'copy';
                      setHovered(null);
                    }}
                    onDoubleClick={() => place(b.type)}
                    onKeyDown={(e) => e.key === 'Enter' && place(b.type)}
                    onMouseEnter={(e) => setHovered({ block: b, top: (e.currentTarget as HTMLElement).getBoundingClientRect().top })}
                  >
                    {b.label}
                    {hasAttention(b) && <span className="attention-dot" title="has attention outputs" />}
                  </div>
                ))}
            </section>
          );
        })}
        {groups.length === 0 && <div className="empty">No block matches “{query}”</div>}
      </div>
      {hovered && <BlockDoc block={hovered.block} top={hovered.top} />}
    </aside>
  );
}

function hasAttention(b: AnyBlock): boolean {
  return portsOf(b, defaultParams(b), 'outputs').some((p) => p.attention);
}
