// Runs side by side: their curves overlaid (per epoch or per batch, by step or
// wall time), final metrics, the settings that differ, each graph against the
// first run's, and their attention maps at the same step.
import { useEffect, useMemo, useState } from 'react';
import type uPlot from 'uplot';
import type { AttentionMap, BatchRow, RunComparison } from '../../../common/host-api/api.js';
import { host } from '../host/host.js';
import { MapCanvas } from '../attention/MapCanvas.js';
import { mapKey, sharedRange, viewOf } from '../attention/maps.js';
import { Chart } from './Chart.js';
import { resultText as fmt } from '../ui-format.js';

const COLORS = ['#4c9aff', '#ff8b3d', '#57d9a3', '#f06292', '#c0a0ff', '#ffd54f', '#80deea', '#bcaaa4'];
type Run = RunComparison['runs'][number];
type Point = [x: number, y: number];

/** Seconds at a step, between the epochs' ends (batches carry no time of their own). */
function secondsAt(run: Run, step: number): number {
  let prev: Point = [0, 0];
  for (const e of run.epochs) {
    if (step <= e.step) return prev[1] + ((step - prev[0]) / Math.max(1, e.step - prev[0])) * (e.seconds - prev[1]);
    prev = [e.step, e.seconds];
  }
  return prev[1];
}

/** Per batch: each batch's own loss and accuracy; runs recorded before those were streamed have only the epoch's mean so far. */
function batchValue(b: BatchRow, metric: string): number | undefined {
  if (metric === 'lr') return b.lr;
  const own = b.batchLoss !== undefined;
  if (metric === 'loss') return own ? b.batchLoss : b.loss;
  return own ? b.batchAccuracy : b.accuracy;
}

/** A run whose batch rows carry only the epoch's running means. */
const onlyMeans = (run: Run): boolean => run.batches.length > 0 && run.batches.every((b) => b.batchLoss === undefined);

function curve(run: Run, metric: string, per: 'epoch' | 'batch', by: 'step' | 'time'): Point[] {
  const rows: { step: number; value?: number }[] =
    per === 'epoch' ? run.epochs.map((e) => ({ step: e.step, value: e[metric] })) : run.batches.map((b) => ({ step: b.step, value: batchValue(b, metric) }));
  return rows.filter((r) => typeof r.value === 'number').map((r) => [by === 'time' ? secondsAt(run, r.step) : r.step, r.value!]);
}

/** Curves of different runs on one x axis: the union of their x values, a gap where a run has none. */
function align(curves: Point[][]): uPlot.AlignedData {
  const xs = [...new Set(curves.flatMap((c) => c.map(([x]) => x)))].sort((a, b) => a - b);
  const at = new Map(xs.map((x, i) => [x, i]));
  const ys = curves.map((c) => {
    const y: (number | null)[] = new Array(xs.length).fill(null);
    for (const [x, v] of c) y[at.get(x)!] = v;
    return y;
  });
  return [xs, ...ys] as uPlot.AlignedData;
}

function Curves({ c }: { c: RunComparison }) {
  const [per, setPer] = useState<'epoch' | 'batch'>('epoch');
  const [by, setBy] = useState<'step' | 'time'>('step');
  const metrics =
    per === 'epoch'
      ? [...new Set(c.runs.flatMap((r) => r.epochs.flatMap((e) => Object.keys(e))))].filter((k) => !['epoch', 'step', 'seconds'].includes(k))
      : ['loss', 'accuracy', 'lr'];
  const [metric, setMetric] = useState('val_loss');
  const shown = metrics.includes(metric) ? metric : (metrics[0] ?? 'loss');
  const data = useMemo(() => align(c.runs.map((r) => curve(r, shown, per, by))), [c, shown, per, by]);
  return (
    <>
      <div className="button-row compare-controls">
        <select value={per} onChange={(e) => setPer(e.target.value as 'epoch' | 'batch')} data-testid="compare-per">
          <option value="epoch">per epoch</option>
          <option value="batch">per batch</option>
        </select>
        <select value={by} onChange={(e) => setBy(e.target.value as 'step' | 'time')} data-testid="compare-by">
          <option value="step">by step</option>
          <option value="time">by wall time</option>
        </select>
        <select value={shown} onChange={(e) => setMetric(e.target.value)} data-testid="compare-metric">
          {metrics.map((m) => (
            <option key={m}>{m}</option>
          ))}
        </select>
      </div>
      <div className="compare-chart">
        <Chart
          key={`${per}-${by}-${shown}`}
          title={shown}
          xLabel={by === 'time' ? 'seconds' : 'step'}
          series={c.runs.map((r, i) => ({ label: r.runId, color: COLORS[i % COLORS.length], points: per === 'epoch' }))}
          data={data}
          version={0}
          testId="compare-chart"
        />
      </div>
      <div className="compare-legend" data-testid="compare-legend">
        {c.runs.map((r, i) => (
          <span key={r.runId} data-testid={`compare-series-${r.runId}`} data-points={(data[i + 1] as (number | null)[]).filter((v) => v !== null).length}>
            <i style={{ background: COLORS[i % COLORS.length] }} /> {r.name}
            {per === 'batch' && shown !== 'lr' && onlyMeans(r) && (
              <span className="hint" data-testid={`compare-means-${r.runId}`}>
                {' '}
                (mean so far in the epoch: recorded before per-batch values)
              </span>
            )}
          </span>
        ))}
      </div>
    </>
  );
}

function GraphDiffs({ c }: { c: RunComparison }) {
  return (
    <div data-testid="compare-graph-diff">
      {c.graphDiffs.map(({ runId, against, diff: d }) => {
        const lines = [
          ...d.added.map((n) => ['added', `+ node ${n.id} (${n.type})`]),
          ...d.removed.map((n) => ['removed', `− node ${n.id} (${n.type})`]),
          ...d.changed.flatMap((n) => [
            ...(n.type ? [['changed', `~ ${n.id}: type ${n.type.before} → ${n.type.after}`]] : []),
            ...n.params.map((p) => ['changed', `~ ${n.id}.${p.param}: ${fmt(p.before)} → ${fmt(p.after)}`]),
          ]),
          ...d.edgesAdded.map((e) => ['added', `+ edge ${e}`]),
          ...d.edgesRemoved.map((e) => ['removed', `− edge ${e}`]),
        ];
        return (
          <div key={runId}>
            <div className="hint">
              {runId} against {against}
            </div>
            <ul className="graph-diff">
              {lines.length ? (
                lines.map(([kind, text]) => (
                  <li key={text} className={`graph-diff--${kind}`}>
                    {text}
                  </li>
                ))
              ) : (
                <li>the same graph</li>
              )}
            </ul>
          </div>
        );
      })}
    </div>
  );
}

/** The attention maps of every run at one step (a step each run has a snapshot at), first probe sample. */
function AttentionSideBySide({ c }: { c: RunComparison }) {
  const common = c.runs.map((r) => r.snapshots).reduce((a, b) => a.filter((s) => b.includes(s)));
  const [step, setStep] = useState<number | undefined>(common.at(-1));
  const [sample, setSample] = useState(0);
  const [maps, setMaps] = useState<AttentionMap[][] | null>(null);
  useEffect(() => {
    if (step === undefined || !host) return;
    let live = true;
    Promise.all(c.runs.map((r) => host!.readSnapshot({ runId: r.runId, step }).then((s) => s.maps))).then(
      (m) => live && setMaps(m),
      () => live && setMaps(null),
    );
    return () => void (live = false);
  }, [c, step]);
  if (!common.length) return <div className="hint">These runs have no attention snapshot at the same step.</div>;
  return (
    <>
      <div className="button-row">
        <label className="inline">
          step
          <select value={step} onChange={(e) => setStep(Number(e.target.value))} data-testid="compare-attention-step">
            {common.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label className="inline">
          probe sample{' '}
          <input type="number" min={0} value={sample} onChange={(e) => setSample(Math.max(0, Number(e.target.value) || 0))} style={{ width: 50 }} />
        </label>
      </div>
      <div className="compare-attention" data-testid="compare-attention">
        {maps?.map((runMaps, i) => (
          <div key={c.runs[i].runId} className="compare-attention__run">
            <div className="hint">{c.runs[i].runId}</div>
            {runMaps.map((m) => (
              <figure key={mapKey(m)}>
                <figcaption>{mapKey(m)}</figcaption>
                <MapCanvas
                  view={viewOf(m, Math.min(sample, (m.shape[0] ?? 1) - 1))}
                  opts={{ colormap: 'viridis', opacity: 1, scale: sharedRange(m), sort: 'index', topK: 0 }}
                />
              </figure>
            ))}
          </div>
        ))}
      </div>
    </>
  );
}

export function CompareView({ runIds, onClose }: { runIds: string[]; onClose: () => void }) {
  const [c, setC] = useState<RunComparison | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    host?.compareRuns({ runIds }).then(setC, (e: Error) => setError(e.message));
  }, [runIds]);
  return (
    <div className="compare-view" data-testid="compare-view">
      <div className="runs-toolbar">
        <b>Compare {runIds.length} runs</b>
        <button onClick={onClose} data-testid="compare-close">
          Back to runs
        </button>
      </div>
      {error && <div className="preview preview--error">{error}</div>}
      {c && (
        <div className="compare-body">
          <section>
            <Curves c={c} />
          </section>
          <section>
            <div className="section-title">Final metrics</div>
            <table className="runs-table" data-testid="compare-metrics">
              <thead>
                <tr>
                  <th>Run</th>
                  {c.metricNames.map((m) => (
                    <th key={m} className="num">
                      {m}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {c.runs.map((r) => (
                  <tr key={r.runId}>
                    <td title={r.runId}>{r.name}</td>
                    {c.metricNames.map((m) => (
                      <td key={m} className="num">
                        {fmt(r.finalMetrics[m])}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
            <div className="section-title">Settings that differ</div>
            {c.settingsDiff.length === 0 ? (
              <div className="hint">none</div>
            ) : (
              <table className="runs-table" data-testid="compare-settings">
                <tbody>
                  {c.settingsDiff.map((d) => (
                    <tr key={d.key}>
                      <td className="mono">{d.key}</td>
                      {d.values.map((v, i) => (
                        <td key={i}>{fmt(v)}</td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <div className="section-title">Graph</div>
            <GraphDiffs c={c} />
          </section>
          <section>
            <div className="section-title">Attention</div>
            <AttentionSideBySide c={c} />
          </section>
        </div>
      )}
    </div>
  );
}
