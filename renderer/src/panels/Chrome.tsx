// The window chrome around the canvas: toolbar with the document title, the
// recovery offer, toasts and the status bar.
import { useEffect, useState } from 'react';
import { editor, toast, useEditor, useUi } from '../editor.js';
import { runCommand, type Command } from '../commands.js';
import { discardRecovery, documentTitle, findRecovery, restoreRecovery, type RecoveryOffer } from '../files.js';
import { host, noHostReason } from '../host/host.js';

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
      </div>
      <div className={`doc-title${dirty ? ' dirty' : ''}`} data-testid="doc-title" data-dirty={dirty} title={path ?? 'not saved yet'}>
        {dirty && <span className="dirty-dot" data-testid="dirty-marker">●</span>}
        {path ? path.split(/[\\/]/).pop() : name || 'untitled'}
      </div>
    </header>
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

