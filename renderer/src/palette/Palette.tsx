// The block palette: categories in registry order, a search box, drag a block
// onto the canvas (or double-click / Enter to place it in view), docs on hover.
// The file's composites have a section of their own; inside a composite the
// port blocks are offered and the graph's Input and Output are not.
import { useMemo, useState } from 'react';
import { portsOf, type AnyBlock } from '../../../engine/blocks/contract.js';
import { defaultParams } from '../../../engine/blocks/params.js';
import { groupByCategory, searchBlocks } from '../store/catalogue.js';
import { editor, useEditor } from '../editor.js';
import { registry } from '../../../engine/blocks/registry.js';
import { compositeIdOf, compositeInputBlock, compositeOutputBlock } from '../../../engine/shapes/composite.js';
import { placeableComposites } from '../store/composites.js';
import { openGallery } from '../gallery/galleryState.js';
import { canvasApi } from '../canvas/canvasApi.js';
import { BLOCK_MIME } from '../canvas/GraphCanvas.js';
import { categoryHue } from '../ui-format.js';
import { BlockDoc } from './BlockDoc.js';
import './palette.css';

function place(type: string) {
  const at = canvasApi.current?.dropPoint() ?? { x: 0, y: 0 };
  editor.getState().addBlock(type, at);
}

const PORT_BLOCKS: AnyBlock[] = [compositeInputBlock, compositeOutputBlock];
const TOP_ONLY = new Set(['io.input', 'io.output']);

export function Palette() {
  const [query, setQuery] = useState('');
  const [hovered, setHovered] = useState<{ block: AnyBlock; top: number } | null>(null);
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const inside = useEditor((s) => s.scope[s.scope.length - 1]);
  const composites = useEditor((s) => s.analysis.composites);
  const graph = useEditor((s) => s.graph);
  const groups = useMemo(() => {
    const blocks = inside === undefined ? registry.all() : [...PORT_BLOCKS, ...registry.all().filter((b) => !TOP_ONLY.has(b.type))];
    const placeable = new Set(placeableComposites(graph, inside).map((c) => c.id));
    const own = [...composites.values()].filter((c) => placeable.has(c.id)).map((c) => c.block);
    const all = [...own, ...blocks];
    return groupByCategory(query ? searchBlocks(query, all) : all);
  }, [query, inside, composites, graph]);

  return (
    <aside className="palette" data-testid="palette" onMouseLeave={() => setHovered(null)}>
      <div className="panel-title palette__title">
        Blocks
        <button className="palette__templates" data-testid="new-from-template" title="Start a new graph from a template" onClick={openGallery}>
          New from template…
        </button>
      </div>
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
                    {compositeIdOf(b.type) !== undefined && (
                      <button
                        className="palette__open"
                        title="Edit its inside"
                        data-testid={`palette-open-${b.type}`}
                        onClick={() => editor.getState().enterComposite({ composite: compositeIdOf(b.type)! })}
                      >
                        ▸
                      </button>
                    )}
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
