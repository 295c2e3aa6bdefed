// The window chrome around the canvas: toolbar with the document title, the
// recovery offer, toasts and the status bar.
import { useEffect, useRef, useState } from 'react';
import { useStore } from 'zustand';
import { toast, useEditor, useUi } from '../editor.js';
import { runCommand, type Command } from '../commands.js';
import {
  clearRecent,
  discardRecovery,
  documentTitle,
  findRecovery,
  openRecentFile,
  recentMenu,
  restoreRecovery,
  showRecentMenu,
  type RecoveryOffer,
} from '../files.js';
import { host, noHostReason } from '../host/host.js';
import { setTheme, theme, THEMES, type ThemeChoice } from '../theme.js';
import './chrome.css';

function ToolButton({ command, label, title, disabled }: { command: Command; label: string; title: string; disabled?: boolean }) {
  return (
    <button className="tool" title={title} disabled={disabled} data-testid={`cmd-${command}`} onClick={() => void runCommand(command)}>
      {label}
    </button>
  );
}

export function TopBar() {
  const name = useEditor((s) => s.graph.name);
  const path = useEditor((s) => s.filePath);
  const dirty = useEditor((s) => s.graph !== s.saved);
  const canUndo = useEditor((s) => s.history.past.length > 0);
  const canRedo = useEditor((s) => s.history.future.length > 0);
  const title = documentTitle(name, path, dirty);
  useEffect(() => void (document.title = title), [title]);
  return (
    <header className="topbar">
      <div className="brand">◈ Attention Studio</div>
      <div className="toolgroup">
        <ToolButton command="file.new" label="New" title="New graph (Ctrl+N)" />
        <ToolButton command="file.open" label="Open" title="Open… (Ctrl+O)" disabled={!host} />
        <RecentMenu />
        <ToolButton command="file.save" label="Save" title="Save (Ctrl+S)" disabled={!host} />
        <ToolButton command="file.saveAs" label="Save as" title="Save as… (Ctrl+Shift+S)" disabled={!host} />
        <ToolButton command="file.export" label="Export" title="Export as code (Ctrl+E)" disabled={!host} />
      </div>
      <div className="toolgroup">
        <ToolButton command="edit.undo" label="↶" title="Undo (Ctrl+Z)" disabled={!canUndo} />
        <ToolButton command="edit.redo" label="↷" title="Redo (Ctrl+Shift+Z)" disabled={!canRedo} />
      </div>
      <div className="toolgroup">
        <ToolButton command="edit.autoLayout" label="Auto-layout" title="Auto-layout (Shift+L)" />
        <ToolButton command="view.fit" label="Fit" title="Fit view (F)" />
        <ToolButton command="help.shortcuts" label="?" title="Keyboard shortcuts (F1)" />
        <ThemePicker />
      </div>
      <div className={`doc-title${dirty ? ' dirty' : ''}`} data-testid="doc-title" data-dirty={dirty} title={path ?? 'not saved yet'}>
        {dirty && (
          <span className="dirty-dot" data-testid="dirty-marker">
            ●
          </span>
        )}
        {path ? path.split(/[\\/]/).pop() : name || 'untitled'}
      </div>
    </header>
  );
}

const THEME_LABELS: Record<ThemeChoice, string> = { system: 'System', light: 'Light', dark: 'Dark' };

/** The colour theme: System follows the operating system's light/dark choice. */
function ThemePicker() {
  const { choice } = useStore(theme);
  return (
    <label className="theme-picker" title="Colour theme">
      Theme
      <select data-testid="theme-picker" value={choice} onChange={(e) => setTheme(e.target.value as ThemeChoice)}>
        {THEMES.map((t) => (
          <option key={t} value={t}>
            {THEME_LABELS[t]}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Open Recent: the files the host remembers, each opened directly, and Clear Recent. */
function RecentMenu() {
  const { open, files } = useStore(recentMenu);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const away = (e: Event) => {
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !box.current?.contains(e.target as Node)) void showRecentMenu(false);
    };
    window.addEventListener('pointerdown', away);
    window.addEventListener('keydown', away);
    return () => {
      window.removeEventListener('pointerdown', away);
      window.removeEventListener('keydown', away);
    };
  }, [open]);
  return (
    <div className="menu-anchor" ref={box}>
      <button
        className="tool"
        title="Open a recent file"
        disabled={!host}
        data-testid="cmd-file.openRecent"
        aria-expanded={open}
        onClick={() => void showRecentMenu(!open)}
      >
        Recent ▾
      </button>
      {open && (
        <ul className="dropdown" role="menu" data-testid="recent-menu">
          {files.length === 0 && (
            <li className="dropdown__empty" data-testid="recent-empty">
              No recent files
            </li>
          )}
          {files.map((f) => (
            <li key={f.path} role="menuitem" title={f.path} data-testid={`recent-entry-${f.path}`} onClick={() => void openRecentFile(f.path)}>
              {f.name}
              <small>{f.path}</small>
            </li>
          ))}
          {files.length > 0 && (
            <li role="menuitem" className="dropdown__action" data-testid="recent-clear" onClick={() => void clearRecent()}>
              Clear Recent
            </li>
          )}
        </ul>
      )}
    </div>
  );
}

export function RecoveryBanner() {
  const [offer, setOffer] = useState<RecoveryOffer | null>(null);
  useEffect(() => {
    void findRecovery().then(setOffer);
  }, []);
  if (!offer) return null;
  return (
    <div className="banner" data-testid="recovery-banner">
      <span>
        Unsaved work from {new Date(offer.savedAt).toLocaleString()}
        {offer.path ? ` (${offer.path.split(/[\\/]/).pop()})` : ''} was recovered after the editor closed unexpectedly.
      </span>
      <button
        className="primary"
        data-testid="recovery-restore"
        onClick={() => {
          restoreRecovery(offer);
          setOffer(null);
          toast('Recovered graph restored: save it to keep it');
        }}
      >
        Restore
      </button>
      <button
        data-testid="recovery-discard"
        onClick={() => {
          discardRecovery();
          setOffer(null);
        }}
      >
        Discard
      </button>
    </div>
  );
}

export function Toasts() {
  const toasts = useUi((s) => s.toasts);
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast--${t.kind}`} data-testid={`toast-${t.kind}`}>
          {t.text}
        </div>
      ))}
    </div>
  );
}

export function StatusBar() {
  const nodes = useEditor((s) => s.graph.nodes.length);
  const edges = useEditor((s) => s.graph.edges.length);
  const errors = useEditor((s) => s.diagnostics.errorCount);
  const selected = useEditor((s) => s.selection.nodes.size);
  return (
    <footer className="statusbar" data-testid="statusbar">
      <span>
        {nodes} nodes · {edges} connections{selected ? ` · ${selected} selected` : ''}
      </span>
      <span className={errors ? 'bad' : 'good'} data-testid="status-errors">
        {errors ? `${errors} problem${errors > 1 ? 's' : ''}` : '✓ valid graph'}
      </span>
      <span className="host">{host ? 'host connected' : `no host: ${noHostReason ?? ''}`}</span>
    </footer>
  );
}
