// Sweeps: the list, and one sweep's trials in a table sortable by any column,
// a parallel coordinates plot (one axis per parameter, the metric last), the
// best trial marked and its graph one click from the editor.
import { useCallback, useEffect, useState } from 'react';
import type { SweepDetail, SweepSummary, TrialRecord } from '../../../common/host-api/api.js';
import { applyLoad } from '../files.js';
import { host } from '../host/host.js';
import { resultText as fmt } from '../ui-format.js';

/** Where a value sits on an axis: numbers by value (log when they span a decade or more), anything else by its place among the values. */
function axisOf(values: unknown[]): (v: unknown) => number {
  const nums = values.filter((v): v is number => typeof v === 'number');
  if (nums.length === values.length && nums.length) {
    const lo = Math.min(...nums);
    const hi = Math.max(...nums);
    const log = lo > 0 && hi / lo >= 10;
    const t = (x: number) => (log ? Math.log(x) : x);
    return (v) => (hi === lo ? 0.5 : (t(v as number) - t(lo)) / (t(hi) - t(lo)));
  }
  const distinct = [...new Set(values.map(String))];
  return (v) => (distinct.length < 2 ? 0.5 : distinct.indexOf(String(v)) / (distinct.length - 1));
}

function ParallelCoordinates({ s }: { s: SweepDetail }) {
  const keys = s.trials[0] ? Object.keys(s.trials[0].values) : [];
  const scored = s.trials.filter((t) => typeof t.metric === 'number');
  const axes = [
    ...keys.map((k) => ({ name: k, get: (t: TrialRecord) => t.values[k] as unknown })),
    { name: s.metric, get: (t: TrialRecord) => t.metric as unknown },
  ];
  const W = 120 * axes.length;
  const H = 160;
  const pos = axes.map((a) => axisOf(scored.map(a.get)));
  const y = (f: number) => 14 + (1 - f) * (H - 28);
  return (
    <svg className="parallel-coordinates" viewBox={`0 0 ${W} ${H}`} width={W} height={H} data-testid="sweep-parallel">
      {axes.map((a, i) => (
        <g key={a.name}>
          <line x1={60 + i * 120} x2={60 + i * 120} y1={14} y2={H - 14} stroke="#555" />
          <text x={60 + i * 120} y={10} textAnchor="middle" fontSize={10} fill="#aaa">
            {a.name}
          </text>
        </g>
      ))}
      {scored.map((t) => (
        <polyline
          key={t.id}
          data-testid={`sweep-line-${t.id}`}
          points={axes.map((a, i) => `${60 + i * 120},${y(pos[i](a.get(t)))}`).join(' ')}
          fill="none"
          stroke={t.id === s.best ? '#ffd54f' : t.status === 'pruned' ? '#666' : '#4c9aff'}
          strokeWidth={t.id === s.best ? 2.5 : 1.2}
        >
          <title>{`${t.id}: ${axes.map((a) => `${a.name}=${fmt(a.get(t))}`).join(' ')}`}</title>
        </polyline>
      ))}
    </svg>
  );
}

function SweepTable({ s }: { s: SweepDetail }) {
  const keys = s.trials[0] ? Object.keys(s.trials[0].values) : [];
  const [sort, setSort] = useState<{ col: string; dir: 1 | -1 }>({ col: 'metric', dir: s.goal === 'max' ? -1 : 1 });
  const cell = (t: TrialRecord, col: string): unknown => (col === 'metric' ? t.metric : col === 'status' ? t.status : col === 'id' ? t.id : t.values[col]);
  const rows = [...s.trials].sort((a, b) => {
    const x = cell(a, sort.col);
    const y = cell(b, sort.col);
    if (x === undefined || y === undefined) return x === y ? 0 : x === undefined ? 1 : -1;
    return sort.dir * (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y)));
  });
  const head = (col: string, label: string) => (
    <th className="sortable" onClick={() => setSort((p) => ({ col, dir: p.col === col ? (-p.dir as 1 | -1) : -1 }))} data-testid={`sweep-sort-${col}`}>
      {label}
      {sort.col === col ? (sort.dir === 1 ? ' ▲' : ' ▼') : ''}
    </th>
  );
  const openGraph = async (trialId: string) => {
    const load = await host?.sweepTrialGraph({ sweepId: s.sweepId, trialId });
    if (load) applyLoad(load);
  };
  return (
    <table className="runs-table" data-testid="sweep-table">
      <thead>
        <tr>
          {head('id', 'Trial')}
          {keys.map((k) => head(k, k))}
          {head('status', 'State')}
          {head('metric', s.metric)}
          <th />
        </tr>
      </thead>
      <tbody>
        {rows.map((t) => (
          <tr key={t.id} className={t.id === s.best ? 'best' : ''} data-testid={`sweep-trial-${t.id}`}>
            <td title={t.error}>
              {t.id === s.best && <span title="best trial">★ </span>}
              {t.id}
            </td>
            {keys.map((k) => (
              <td key={k}>{fmt(t.values[k])}</td>
            ))}
            <td>
              <span className={`run-state run-state--${t.status === 'pruned' ? 'stopped' : t.status}`} title={t.error}>
                {t.status}
              </span>
            </td>
            <td className="num">{fmt(t.metric)}</td>
            <td>
              <button onClick={() => void openGraph(t.id)} disabled={t.status === 'pending'} data-testid={`sweep-open-${t.id}`}>
                Open graph
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function SweepsView({ onClose }: { onClose: () => void }) {
  const [sweeps, setSweeps] = useState<SweepSummary[]>([]);
  const [shown, setShown] = useState<SweepDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const refresh = useCallback(() => {
    host?.listSweeps().then(setSweeps, (e: Error) => setError(e.message));
    if (shown) host?.openSweep({ sweepId: shown.sweepId }).then(setShown, (e: Error) => setError(e.message));
  }, [shown]);
  useEffect(refresh, []); // eslint-disable-line react-hooks/exhaustive-deps
  // A running sweep: its table follows it.
  useEffect(() => {
    if (shown?.state !== 'running') return;
    const timer = setInterval(refresh, 2000);
    return () => clearInterval(timer);
  }, [shown, refresh]);
  return (
    <div className="sweeps-view" data-testid="sweeps-view">
      <div className="runs-toolbar">
        <b>Sweeps</b>
        <button onClick={refresh}>Refresh</button>
        <button onClick={onClose}>Back to runs</button>
      </div>
      {error && <div className="preview preview--error">{error}</div>}
      {sweeps.length === 0 && <div className="empty">No sweeps yet: start one from the Training tab, or with `attn sweep`.</div>}
      <ul className="sweep-list">
        {sweeps.map((w) => (
          <li key={w.sweepId}>
            <button
              className={shown?.sweepId === w.sweepId ? 'active' : ''}
              onClick={() => host?.openSweep({ sweepId: w.sweepId }).then(setShown, (e: Error) => setError(e.message))}
              data-testid={`sweep-${w.sweepId}`}
            >
              {w.name} · {w.finished}/{w.total} · {w.state}
              {w.bestMetric !== undefined && ` · best ${w.metric} ${fmt(w.bestMetric)}`}
            </button>
          </li>
        ))}
      </ul>
      {shown && (
        <>
          <div className="hint mono">{shown.params.join('   ')}</div>
          <ParallelCoordinates s={shown} />
          <SweepTable s={shown} />
          {shown.state === 'running' && (
            <button onClick={() => host?.stopSweep({ sweepId: shown.sweepId })} data-testid="sweep-stop">
              Stop the sweep
            </button>
          )}
        </>
      )}
    </div>
  );
}
