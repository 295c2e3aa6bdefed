// The canvas's context menu: opened by a right click (not a right drag, which
// pans), driven by mouse or keys (arrows, Home/End, Enter; Escape closes), and
// closed by a click anywhere else.
import { useEffect, useMemo, useRef, useState } from 'react';
import { ui, useUi } from '../editor.js';
import { menuEntries, type MenuItem } from './menuItems.js';
import './menus.css';

const close = () => ui.setState({ contextMenu: null });

export function ContextMenu() {
  const menu = useUi((s) => s.contextMenu);
  if (!menu) return null;
  // A new key per opening: the menu starts afresh (focus, rename field).
  return <MenuBox key={`${menu.screen.x},${menu.screen.y},${JSON.stringify(menu.target)}`} {...menu} />;
}

function MenuBox({ screen, target }: NonNullable<ReturnType<typeof ui.getState>['contextMenu']>) {
  const entries = useMemo(() => menuEntries(target, screen), [target, screen]);
  const items = entries.filter((e): e is MenuItem => e !== 'separator');
  const [active, setActive] = useState(() => items.findIndex((i) => !i.disabled));
  const [renaming, setRenaming] = useState<MenuItem | null>(null);
  const box = useRef<HTMLDivElement>(null);
  const [pos, setPos] = useState(screen);

  useEffect(() => {
    box.current?.focus();
    // Keep the whole menu on screen.
    const r = box.current?.getBoundingClientRect();
    if (r) setPos({ x: Math.min(screen.x, window.innerWidth - r.width - 4), y: Math.min(screen.y, window.innerHeight - r.height - 4) });
    const away = (e: Event) => {
      if (!box.current?.contains(e.target as Node)) close();
    };
    window.addEventListener('pointerdown', away, true);
    window.addEventListener('wheel', away, true);
    window.addEventListener('blur', close);
    return () => {
      window.removeEventListener('pointerdown', away, true);
      window.removeEventListener('wheel', away, true);
      window.removeEventListener('blur', close);
    };
  }, [screen]);

  const choose = (item: MenuItem | undefined) => {
    if (!item || item.disabled) return;
    if (item.rename) return setRenaming(item);
    close();
    item.run?.();
  };
  const step = (from: number, by: number) => {
    for (let k = 1; k <= items.length; k++) {
      const i = (from + by * k + items.length * k) % items.length;
      if (!items[i].disabled) return i;
    }
    return from;
  };

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (renaming) return;
    const keys: Record<string, () => void> = {
      ArrowDown: () => setActive((a) => step(a, 1)),
      ArrowUp: () => setActive((a) => step(a, -1)),
      Home: () => setActive(step(-1, 1)),
      End: () => setActive(step(items.length, -1)),
      Enter: () => choose(items[active]),
      ' ': () => choose(items[active]),
      Escape: close,
      Tab: close,
    };
    const act = keys[e.key];
    if (!act) return;
    e.preventDefault();
    e.stopPropagation();
    act();
  };

  let index = -1;
  return (
    <div
      ref={box}
      className="context-menu"
      role="menu"
      tabIndex={-1}
      style={{ left: pos.x, top: pos.y }}
      data-testid="context-menu"
      data-target={target.kind}
      onKeyDown={onKeyDown}
      onContextMenu={(e) => e.preventDefault()}
    >
      {renaming?.rename ? (
        <RenameField rename={renaming.rename} />
      ) : (
        entries.map((entry, k) => {
          if (entry === 'separator') return <div key={`sep${k}`} className="context-menu__sep" role="separator" />;
          const i = ++index;
          return (
            <div
              key={entry.id}
              role="menuitem"
              aria-disabled={entry.disabled || undefined}
              className={`context-menu__item${i === active ? ' active' : ''}${entry.disabled ? ' disabled' : ''}`}
              data-testid={`menu-${entry.id}`}
              onPointerEnter={() => !entry.disabled && setActive(i)}
              onClick={() => choose(entry)}
            >
              <span>{entry.label}</span>
              {entry.keys && <kbd>{entry.keys}</kbd>}
            </div>
          );
        })
      )}
    </div>
  );
}

function RenameField({ rename }: { rename: NonNullable<MenuItem['rename']> }) {
  const [text, setText] = useState(rename.value);
  return (
    <input
      className="context-menu__rename"
      value={text}
      autoFocus
      onFocus={(e) => e.target.select()}
      data-testid="menu-rename-input"
      onChange={(e) => setText(e.target.value)}
      onKeyDown={(e) => {
        e.stopPropagation();
        if (e.key === 'Enter') {
          close();
          rename.apply(text);
        } else if (e.key === 'Escape') close();
      }}
    />
  );
}
