// Past runs: their config and final metrics; open one to see its charts and
// attention snapshots again, or continue it from a checkpoint.
import { useCallback, useEffect, useState } from 'react';
import type { RunSummary } from '../../../common/host-api/api.js';
import { host } from '../host/host.js';
import { editor } from '../editor.js';
import { saveDocument } from '../files.js';
import { continueRun, isLive, openRun, useSession } from './session.js';
import { CompareView } from './CompareView.js';
import { SweepsView } from './SweepsView.js';

const fmt = (v: number | undefined, d = 3) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(d));

export function RunsPanel({ onOpened }: { onOpened?: () => void }) {
  const [runs, setRuns] = useState<RunSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const detail = useSession((s) => s.detail);
  /** A run asked for while the editor holds unsaved changes: the prompt is up. */
  const [asking, setAsking] = useState<string | null>(null);
  const [extra, setExtra] = useState(1);
  const [picked, setPicked] = useState<string[]>([]);
  const [view, setView] = useState<'runs' | 'compare' | 'sweeps'>('runs');
  const state = useSession((s) => s.state);
  const source = useSession((s) => s.source);
  const shownRun = useSession((s) => s.runId);
  const checkpoints = useSession((s) => s.checkpoints);
  const live = isLive({ state, source });

  const refresh = useCallback(() => {
    if (!host) return;
    host.listRuns().then(
      (r) => {
        setRuns(r);
        setError(null);
      },
      (e: Error) => setError(e.message),
    );
  }, []);
  // The list changes when a run starts or ends.
  useEffect(refresh, [refresh, state]);

  // Opening a run shows its graph in the editor: unsaved changes are asked about first.
  const open = async (runId: string, unsaved: 'ask' | 'save' | 'discard' = 'ask') => {
    if (editor.getState().isDirty()) {
      if (unsaved === 'ask') return setAsking(runId);
      if (unsaved === 'save' && !(await saveDocument())) return;
    }
    setAsking(null);
    if (await openRun(runId)) onOpened?.();
  };

  const pick = (runId: string, on: boolean) => setPicked((p) => (on ? [...p.filter((x) => x !== runId), runId] : p.filter((x) => x !== runId)));
  if (view === 'compare') return <CompareView runIds={picked} onClose={() => setView('runs')} />;
  if (view === 'sweeps') return <SweepsView onClose={() => setView('runs')} />;

  return (
    <div className="runs-panel" data-testid="runs-panel">
      <div className="runs-list">
        <div className="runs-toolbar">
          <b>Runs</b>
          <button onClick={refresh} data-testid="runs-refresh">
            Refresh
          </button>
          <button disabled={picked.length < 2} onClick={() => setView('compare')} data-testid="runs-compare" title="Tick two runs or more to compare them">
            Compare{picked.length ? ` (${picked.length})` : ''}
          </button>
          <button onClick={() => setView('sweeps')} data-testid="runs-sweeps">
            Sweeps
          </button>
        </div>
        {error && <div className="preview preview--error">{error}</div>}
        {runs && runs.length === 0 && <div className="empty">No runs yet: start one from the Training tab.</div>}
        {runs && runs.length > 0 && (
          <table className="runs-table">
            <thead>
              <tr>
                <th />
                <th>Run</th>
                <th>State</th>
                <th>Dataset</th>
                <th>Backend</th>
                <th className="num">Epochs</th>
                <th className="num">val_loss</th>
                <th className="num">val_acc</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.runId} className={r.runId === shownRun ? 'active' : ''} data-testid={`run-row-${r.runId}`} onDoubleClick={() => void open(r.runId)}>
                  <td>
                    <input
                      type="checkbox"
                      checked={picked.includes(r.runId)}
                      onChange={(e) => pick(r.runId, e.target.checked)}
                      aria-label={`compare ${r.name}`}
                      data-testid={`run-pick-${r.runId}`}
                    />
                  </td>
                  <td className="run-name" title={`${r.name} · ${r.runId}`} data-testid={`run-name-${r.runId}`}>
                    <div>{r.name}</div>
                    <small className="hint mono">{r.runId}</small>
                  </td>
                  <td>
                    <span className={`run-state run-state--${r.state}`} title={r.message}>
                      {r.state}
                    </span>
                  </td>
                  <td className="mono">{r.dataset?.split(/[\\/]/).pop() ?? '–'}</td>
                  <td>{r.backend ?? '–'}</td>
                  <td className="num">{r.epochs ?? '–'}</td>
                  <td className="num">{fmt(r.finalMetrics.val_loss)}</td>
                  <td className="num">{fmt(r.finalMetrics.val_accuracy)}</td>
                  <td>
                    <button onClick={() => void open(r.runId)} disabled={live} data-testid={`run-open-${r.runId}`}>
                      Open
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <div className="run-detail">
        {asking && <UnsavedPrompt runId={asking} onChoice={(c) => (c === 'cancel' ? setAsking(null) : void open(asking, c))} />}
        {!detail || detail.runId !== shownRun ? (
          <div className="empty">
            Open a run to see its configuration, charts and attention snapshots (in the Training and Attention tabs), and to continue it.
          </div>
        ) : (
          <>
            <div className="section-title">Run {detail.runId}</div>
            <div className="run-detail__facts">
              <span>
                state <b>{detail.state}</b>
              </span>
              <span>
                started <b>{new Date(detail.startedAt).toLocaleString()}</b>
              </span>
              <span>
                snapshots <b data-testid="run-detail-snapshots">{detail.snapshots.length}</b>
              </span>
              {detail.message && <span className="bad">{detail.message}</span>}
            </div>
            <div className="section-title">Continue</div>
            <div className="button-row">
              <label className="inline">
                + epochs{' '}
                <input
                  type="number"
                  min={1}
                  value={extra}
                  onChange={(e) => setExtra(Math.max(1, Number(e.target.value) || 1))}
                  style={{ width: 60 }}
                  data-testid="run-extra-epochs"
                />
              </label>
              <button className="primary" disabled={live || !checkpoints.length} onClick={() => void continueRun(undefined, extra)} data-testid="run-continue">
                Continue from latest checkpoint
              </button>
            </div>
            {checkpoints.length > 0 && (
              <ul className="checkpoints">
                {checkpoints.map((c) => (
                  <li key={c}>
                    <code>{c}</code>
                    <button disabled={live} onClick={() => void continueRun(c, extra)}>
                      Continue from here
                    </button>
                  </li>
                ))}
              </ul>
            )}
            <div className="section-title">Configuration</div>
            <pre className="config-json">{JSON.stringify(detail.config, null, 2)}</pre>
          </>
        )}
      </div>
    </div>
  );
}

/** Asks what to do with the editor's unsaved changes before a run's graph replaces them. */
function UnsavedPrompt({ runId, onChoice }: { runId: string; onChoice: (c: 'save' | 'discard' | 'cancel') => void }) {
  const name = editor.getState().graph.name || 'untitled';
  return (
    <div className="run-prompt" role="alertdialog" aria-label="Unsaved changes" data-testid="run-unsaved-prompt">
      <p>
        <b>{name}</b> has unsaved changes. Opening run <span className="mono">{runId}</span> shows that run's graph in the editor.
      </p>
      <div className="button-row">
        <button className="primary" onClick={() => onChoice('save')} data-testid="run-unsaved-save">
          Save, then open
        </button>
        <button onClick={() => onChoice('discard')} data-testid="run-unsaved-discard">
          Discard changes and open
        </button>
        <button onClick={() => onChoice('cancel')} data-testid="run-unsaved-cancel">
          Cancel
        </button>
      </div>
    </div>
  );
}
