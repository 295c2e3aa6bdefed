// File › Export: the graph as TypeScript (tfjs), Keras or PyTorch code, with a
// highlighted preview, Copy and Save; or as an ONNX model (a download). The
// Training form's fine-tuning (freeze, learning-rate multipliers, ImageNet
// preset) goes with the graph, so the exported training script trains as the app would.
import { useEffect, useMemo, useState } from 'react';
import { EXPORT_FORMATS, EXPORT_FORMAT_IDS, type ExportFormat, type ExportResult } from '../../../common/host-api/api.js';
import { editor, toast } from '../editor.js';
import { host, noHostReason } from '../host/host.js';
import { formatDiagnostic } from '../../../engine/graph/types.js';
import { highlight } from './highlight.js';
import { formFineTuning, trainForm } from '../training/form.js';
import { windowModal } from '../windowModal.js';
import './export.css';

const exportDialog = windowModal();
export const openExportDialog = (): void => exportDialog.open();
const close = (): void => exportDialog.close();

/** A base64 file's bytes. */
function decodeBase64(content: string): Uint8Array<ArrayBuffer> {
  const text = atob(content);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** The Export dialog, when it is open in `win` (the main window's, or the detached dock's). */
export function ExportDialog({ win = window }: { win?: Window }) {
  const open = exportDialog.useOpenIn(win);
  return open ? <ExportPanel win={win} /> : null;
}

function ExportPanel({ win }: { win: Window }) {
  const [target, setTarget] = useState<ExportFormat>(EXPORT_FORMAT_IDS[0]);
  const [result, setResult] = useState<ExportResult | { error: string } | null>(null);
  useEffect(() => {
    if (!host) return setResult({ error: `Export is not available: ${noHostReason ?? 'no host'}` });
    let live = true;
    setResult(null);
    let fineTuning;
    try {
      fineTuning = formFineTuning(trainForm.getState());
    } catch (err) {
      return setResult({ error: `Training form: ${(err as Error).message}` });
    }
    host.exportCode({ graph: editor.getState().graph, target, ...(fineTuning && { fineTuning }) }).then(
      (r) => live && setResult(r),
      (err: Error) => live && setResult({ error: err.message }),
    );
    return () => void (live = false);
  }, [target]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && close();
    win.addEventListener('keydown', onKey);
    return () => win.removeEventListener('keydown', onKey);
  }, [win]);
  const file = result && 'files' in result ? result.files[0] : undefined;
  // Files that go beside the code (a captioner's words), saved with it.
  const beside = result && 'files' in result ? result.files.slice(1) : [];
  const binary = file?.encoding === 'base64';
  const language = EXPORT_FORMATS[target].language;
  const tokens = useMemo(() => (file && language !== 'binary' ? highlight(file.content, language) : []), [file, language]);

  const copy = () =>
    file &&
    !binary &&
    // The clipboard of the window it is in: only a focused document may write to it.
    win.navigator.clipboard.writeText(file.content).then(
      () => toast(`Copied ${file.name}`),
      (e: Error) => toast(`Cannot copy: ${e.message}`, 'error'),
    );
  const download = (f: ExportResult['files'][number]) => {
    const blob =
      f.encoding === 'base64' ? new Blob([decodeBase64(f.content)], { type: 'application/octet-stream' }) : new Blob([f.content], { type: 'text/plain' });
    const url = URL.createObjectURL(blob);
    const a = Object.assign(win.document.createElement('a'), { href: url, download: f.name });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  const save = () => {
    if (file) for (const f of [file, ...beside]) download(f);
  };

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && close()}>
      <div className="modal export" role="dialog" aria-label="Export as code" data-testid="export-dialog">
        <header>
          <h2>Export as code</h2>
          <div className="export__targets" role="tablist">
            {EXPORT_FORMAT_IDS.map((id) => (
              <button
                key={id}
                role="tab"
                aria-selected={id === target}
                className={id === target ? 'active' : ''}
                data-testid={`export-target-${id}`}
                onClick={() => setTarget(id)}
              >
                {EXPORT_FORMATS[id].label}
              </button>
            ))}
          </div>
          <button className="close" onClick={close} aria-label="Close" data-testid="export-close">
            ✕
          </button>
        </header>
        <div className="modal__body">
          {!result && <div className="empty">{target === 'onnx' ? 'Exporting through PyTorch…' : 'Generating…'}</div>}
          {result && 'error' in result && <div className="empty error">{result.error}</div>}
          {result && 'files' in result && !file && (
            <div className="empty error" data-testid="export-diagnostics">
              The graph has errors; fix them before exporting:
              <ul>
                {result.diagnostics.map((d, i) => (
                  <li key={i}>{formatDiagnostic(d)}</li>
                ))}
              </ul>
            </div>
          )}
          {file && binary && (
            <div className="empty" data-testid="export-binary">
              {file.name}: an ONNX model (opset 17, any batch size), {Math.round((file.content.length * 3) / 4 / 1024).toLocaleString()} KB. It computes the
              graph&apos;s outputs (class probabilities, not logits); images go in NCHW, as in PyTorch. Made from the PyTorch export with torch.onnx.export.
            </div>
          )}
          {file && !binary && (
            <pre className="export__code" data-testid="export-code">
              <code>
                {tokens.map((t, i) =>
                  t.kind === 'text' ? (
                    t.text
                  ) : (
                    <span key={i} className={`tok-${t.kind}`}>
                      {t.text}
                    </span>
                  ),
                )}
              </code>
            </pre>
          )}
        </div>
        <footer className="export__actions">
          <span className="export__name" data-testid="export-name">
            {[file, ...beside].flatMap((f) => (f ? [f.name] : [])).join(' + ')}
          </span>
          <button disabled={!file || binary} onClick={copy} data-testid="export-copy">
            Copy
          </button>
          <button className="primary" disabled={!file} onClick={save} data-testid="export-save">
            Save…
          </button>
        </footer>
      </div>
    </div>
  );
}
