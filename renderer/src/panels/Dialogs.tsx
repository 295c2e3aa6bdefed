// Modal dialogs: keyboard shortcuts, a file's diagnostics, the browser-mode file chooser.
import { useEffect, useRef, useState } from 'react';
import type { FileListing } from '../../../common/host-api/api.js';
import type { Diagnostic } from '../../../engine/graph/types.js';
import { formatDiagnostic } from '../../../engine/graph/types.js';
import { editor, openDialog, toast, useUi } from '../editor.js';
import { GESTURES, SHORTCUTS } from '../commands.js';
import { FILE_SUFFIX, openDocument, saveDocumentAs } from '../files.js';
import { host } from '../host/host.js';
import './dialogs.css';

/** The open dialog, if it belongs to `win`: the main window's, or the detached dock's. */
export function Dialogs({ win = window }: { win?: Window }) {
  const dialog = useUi((s) => s.dialog);
  const where = useUi((s) => s.dialogWindow);
  if (!dialog || where !== win) return null;
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && openDialog(null)}>
      {dialog.kind === 'help' && <HelpDialog />}
      {dialog.kind === 'diagnostics' && <DiagnosticsDialog title={dialog.title} diagnostics={dialog.diagnostics} />}
      {dialog.kind === 'files' && <FileDialog mode={dialog.mode} />}
      {dialog.kind === 'confirm' && <ConfirmDialog {...dialog} />}
    </div>
  );
}

function Modal({ title, testid, children }: { title: string; testid: string; children: React.ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    // The window it is drawn in hears its Escape.
    const win = ref.current?.ownerDocument.defaultView ?? window;
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && openDialog(null);
    win.addEventListener('keydown', onKey);
    return () => win.removeEventListener('keydown', onKey);
  }, []);
  return (
    <div className="modal" role="dialog" aria-label={title} data-testid={testid} ref={ref}>
      <header>
        <h2>{title}</h2>
        <button className="close" onClick={() => openDialog(null)} aria-label="Close" data-testid="dialog-close">
          ✕
        </button>
      </header>
      <div className="modal__body">{children}</div>
    </div>
  );
}

const keyText = (k: string) => k.replace('Mod', navigator.platform.startsWith('Mac') ? '⌘' : 'Ctrl');

function HelpDialog() {
  return (
    <Modal title="Keyboard shortcuts" testid="help-dialog">
      <table className="shortcuts">
        <tbody>
          {SHORTCUTS.map((s) => (
            <tr key={s.command} data-testid={`shortcut-${s.command}`}>
              <td>
                {s.keys.map((k) => (
                  <kbd key={k}>{keyText(k)}</kbd>
                ))}
              </td>
              <td>{s.label}</td>
            </tr>
          ))}
          {GESTURES.map(([g, what]) => (
            <tr key={g}>
              <td>
                <span className="gesture">{g}</span>
              </td>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Modal>
  );
}

/** A yes/no question (instead of the browser's confirm()); Escape, ✕ or a click outside answer no. */
function ConfirmDialog({ title, text, confirm, answer }: { title: string; text: string; confirm: string; answer(ok: boolean): void }) {
  const answered = useRef(false);
  const reply = (ok: boolean) => {
    if (answered.current) return;
    answered.current = true;
    answer(ok);
  };
  useEffect(() => () => reply(false), []); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <Modal title={title} testid="confirm-dialog">
      <p>{text}</p>
      <div className="modal__actions">
        <button onClick={() => reply(false)} data-testid="confirm-cancel" autoFocus>
          Cancel
        </button>
        <button className="danger" onClick={() => reply(true)} data-testid="confirm-ok">
          {confirm}
        </button>
      </div>
    </Modal>
  );
}

function DiagnosticsDialog({ title, diagnostics }: { title: string; diagnostics: Diagnostic[] }) {
  return (
    <Modal title={title} testid="load-diagnostics">
      <p>Nothing was changed. The file has {diagnostics.length === 1 ? 'this problem' : `these ${diagnostics.length} problems`}:</p>
      <ul className="problems">
        {diagnostics.map((d, i) => (
          <li key={i} className={d.severity} data-testid="load-diagnostic">
            {formatDiagnostic(d)}
          </li>
        ))}
      </ul>
    </Modal>
  );
}

/** Browser mode has no native dialogs: list the workspace and pick or name a file. */
function FileDialog({ mode }: { mode: 'open' | 'save' }) {
  const [listing, setListing] = useState<FileListing | null>(null);
  const [dir, setDir] = useState<string | undefined>(undefined);
  const [name, setName] = useState(() => `${editor.getState().graph.name || 'untitled'}${FILE_SUFFIX}`);
  useEffect(() => {
    host
      ?.listFiles(dir ? { dir } : {})
      .then(setListing)
      .catch((err: Error) => toast(`Cannot list files: ${err.message}`, 'error'));
  }, [dir]);
  const join = (d: string | undefined, n: string) => (d ? `${d.replace(/[\\/]$/, '')}/${n}` : n);
  const save = () => {
    const file = name.endsWith(FILE_SUFFIX) ? name : `${name}${FILE_SUFFIX}`;
    void saveDocumentAs(join(listing?.dir ?? dir, file));
  };
  return (
    <Modal title={mode === 'open' ? 'Open graph' : 'Save graph as'} testid={`file-dialog-${mode}`}>
      <div className="file-dir">
        <code>{listing?.dir ?? '…'}</code>
        {listing?.parent !== undefined && (
          <button onClick={() => setDir(listing.parent)} data-testid="file-up">
            ↑ Up
          </button>
        )}
      </div>
      <ul className="file-list">
        {listing?.entries.map((e) => (
          <li
            key={e.path}
            className={e.kind}
            data-testid={`file-entry-${e.name}`}
            onClick={() => {
              if (e.kind === 'dir') setDir(e.path);
              else if (mode === 'open') void openDocument(e.path);
              else setName(e.name);
            }}
          >
            {e.kind === 'dir' ? '▸ ' : ''}
            {e.name}
          </li>
        ))}
        {listing && listing.entries.length === 0 && <li className="empty">No graph files here</li>}
      </ul>
      {mode === 'save' && (
        <form
          className="file-save"
          onSubmit={(e) => {
            e.preventDefault();
            save();
          }}
        >
          <input value={name} onChange={(e) => setName(e.target.value)} data-testid="file-name" autoFocus />
          <button type="submit" className="primary" data-testid="file-save">
            Save
          </button>
        </form>
      )}
    </Modal>
  );
}
