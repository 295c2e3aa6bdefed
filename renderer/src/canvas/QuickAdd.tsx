// Quick-add: Space or Tab over the canvas opens a search at the cursor; Enter
// places the chosen block there. A wire dropped on empty canvas opens it too,
// showing only the blocks with a port that can take the wire, and connects
// the chosen one.
import { useEffect, useMemo, useRef, useState } from 'react';
import { searchBlocks } from '../store/catalogue.js';
import { editor, toast, ui, useUi, type WireDrop } from '../editor.js';
import { canvasApi } from './canvasApi.js';
import { registry } from '../../../engine/blocks/registry.js';
import { portsOf, type AnyBlock, type PortDef, type Shape } from '../../../engine/blocks/contract.js';
import { defaultParams } from '../../../engine/blocks/params.js';

export function QuickAdd() {
  const at = useUi((s) => s.quickAdd);
  if (!at) return null;
  return <QuickAddBox x={at.screen.x} y={at.screen.y} wire={at.wire} />;
}

/** The ports of a block (with its default parameters) on the side a wire would join. */
function joinablePorts(block: AnyBlock, wire: WireDrop, shape: Shape | undefined): PortDef[] {
  const ports = portsOf(block, defaultParams(block), wire.side === 'source' ? 'inputs' : 'outputs');
  if (wire.side === 'target' || !shape) return [...ports];
  const fits = (p: PortDef) => p.rank === undefined || (typeof p.rank === 'number' ? p.rank === shape.length : p.rank.includes(shape.length));
  return ports.filter(fits);
}

/** The shape the dragged output carries, when known. */
function wireShape(wire: WireDrop): Shape | undefined {
  return wire.side === 'source' ? editor.getState().view.analysis.nodes.get(wire.node)?.outputShapes?.[wire.port] : undefined;
}

/** Adds the block and wires it to the dropped wire through its first port that takes it. */
function addConnected(type: string, at: { x: number; y: number }, wire: WireDrop): void {
  const s = editor.getState();
  const block = registry.get(type)!;
  const ports = joinablePorts(block, wire, wireShape(wire));
  const id = s.addBlock(type, wire.side === 'source' ? at : { x: at.x - 196, y: at.y });
  let reason = 'no port fits';
  for (const p of ports) {
    const v =
      wire.side === 'source'
        ? editor.getState().connect({ node: wire.node, port: wire.port }, { node: id, port: p.name })
        : editor.getState().connect({ node: id, port: p.name }, { node: wire.node, port: wire.port });
    if (v.ok) return;
    reason = v.reason;
  }
  toast(`Added ${block.label} but could not connect it: ${reason}`, 'error', 7000);
}

function QuickAddBox({ x, y, wire }: { x: number; y: number; wire?: WireDrop }) {
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const candidates = useMemo(() => {
    if (!wire) return undefined;
    const shape = wireShape(wire);
    return registry.all().filter((b) => joinablePorts(b, wire, shape).length > 0);
  }, [wire]);
  const results = useMemo(() => searchBlocks(query, candidates).slice(0, 12), [query, candidates]);
  useEffect(() => input.current?.focus(), []);
  const close = () => ui.setState({ quickAdd: null });
  const choose = (type: string) => {
    const pos = canvasApi.current?.toFlow({ x, y }) ?? { x: 0, y: 0 };
    close();
    if (wire) addConnected(type, pos, wire);
    else editor.getState().addBlock(type, pos);
  };
  return (
    <div
      className="quick-add"
      data-wire={wire ? wire.side : undefined}
      style={{ left: x, top: y }}
      data-testid="quick-add"
      onMouseDown={(e) => e.stopPropagation()}
    >
      <input
        ref={input}
        value={query}
        placeholder={wire ? 'Add a block for this wire…' : 'Add block…'}
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
