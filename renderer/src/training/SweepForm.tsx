// Starts a sweep of the graph on the canvas from the Training panel: the
// dataset, epochs, batch size and backend come from the form above it; the
// parameters are written as for `attn sweep --param`, one a line.
import { useState } from 'react';
import { editor, useEditor } from '../editor.js';
import { host } from '../host/host.js';
import { datasetRequest, trainForm } from './form.js';

export function SweepForm() {
  const [params, setParams] = useState('');
  const [strategy, setStrategy] = useState<'grid' | 'random'>('grid');
  const [trials, setTrials] = useState(8);
  const [parallel, setParallel] = useState(2);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const errors = useEditor((x) => x.diagnostics.errorCount);
  const start = async () => {
    const f = trainForm.getState();
    const d = datasetRequest(f);
    try {
      const r = await host!.startSweep({
        graph: editor.getState().graph,
        params: params
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean),
        strategy,
        ...(strategy === 'random' && { trials }),
        dataset: d.name,
        ...(d.limit !== undefined && { limit: d.limit }),
        epochs: f.epochs,
        batchSize: f.batchSize,
        parallel,
        backend: f.backend,
      });
      setMessage({ ok: true, text: `Sweep ${r.sweepId} started: follow it in Runs → Sweeps.` });
    } catch (err) {
      setMessage({ ok: false, text: (err as Error).message });
    }
  };
  return (
    <details className="sweep-form" data-testid="sweep-form">
      <summary>Sweep…</summary>
      <textarea
        rows={3}
        value={params}
        onChange={(e) => setParams(e.target.value)}
        placeholder={'se.reduction=2,8\nlr=1e-3:1e-2:log'}
        data-testid="sweep-params"
      />
      <div className="button-row">
        <select value={strategy} onChange={(e) => setStrategy(e.target.value as 'grid' | 'random')}>
          <option value="grid">grid</option>
          <option value="random">random</option>
        </select>
        {strategy === 'random' && (
          <label className="inline">
            trials <input type="number" min={1} value={trials} onChange={(e) => setTrials(Math.max(1, Number(e.target.value) || 1))} style={{ width: 50 }} />
          </label>
        )}
        <label className="inline">
          at a time{' '}
          <input type="number" min={1} value={parallel} onChange={(e) => setParallel(Math.max(1, Number(e.target.value) || 1))} style={{ width: 50 }} />
        </label>
        <button className="primary" onClick={() => void start()} disabled={!host || errors > 0 || !params.trim()} data-testid="sweep-start">
          Start sweep
        </button>
      </div>
      {message && <div className={message.ok ? 'hint' : 'preview preview--error'}>{message.text}</div>}
    </details>
  );
}
