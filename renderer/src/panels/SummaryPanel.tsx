// Model summary: per node, in data-flow order, its output shapes and parameter
// count, and the total. Counts come from building each block's own tfjs layers
// in a worker (see params/count.ts), so they equal the compiler's.
import { useDeferredValue, useMemo } from 'react';
import { editor, useEditor } from '../editor.js';
import { summarize } from '../store/summary.js';
import { useParamCounts } from '../params/useParamCounts.js';
import { canvasApi } from '../canvas/canvasApi.js';
import { countText, shapeText } from '../ui-format.js';
import { useFrozenNodes } from '../training/FineTuneSection.js';

export function SummaryPanel() {
  // Deferred and memoised: after an edit the canvas shows its shapes first and
  // the table (a row per node, as costly as the canvas for a big graph) follows.
  const graph = useDeferredValue(useEditor((s) => s.graph));
  const analysis = useDeferredValue(useEditor((s) => s.analysis));
  const counts = useParamCounts(graph, analysis);
  const frozen = useFrozenNodes();
  const summary = useMemo(() => summarize(graph, analysis, counts, frozen), [graph, analysis, counts, frozen]);
  return useMemo(
    () => (
      <div className="summary" data-testid="summary-panel">
        <table>
          <thead>
            <tr>
              <th>Node</th>
              <th>Block</th>
              <th>Output shape</th>
              <th className="num">Params</th>
            </tr>
          </thead>
          <tbody>
            {summary.rows.map((r) => (
              <tr
                key={r.id}
                className={r.errors ? 'error' : ''}
                data-testid={`summary-row-${r.id}`}
                onClick={() => {
                  editor.getState().select([r.id]);
                  canvasApi.current?.focusNode(r.id);
                }}
              >
                <td>
                  <code>{r.id}</code>
                  {r.errors > 0 && <span className="error-dot" title={`${r.errors} problem(s)`} />}
                </td>
                <td>{r.label}</td>
                <td data-testid={`summary-shape-${r.id}`}>
                  {r.outputs.length === 0
                    ? '—'
                    : r.outputs.map((o) => (
                        <span key={o.port} className={o.attention ? `attention-${o.attention}` : ''}>
                          {r.outputs.length > 1 && <small>{o.port} </small>}
                          {shapeText(o.shape)}{' '}
                        </span>
                      ))}
                </td>
                <td className="num" data-testid={`summary-params-${r.id}`}>
                  {r.params === undefined ? '…' : r.params.toLocaleString('en-US')}
                  {!!r.frozen && (
                    <span className="frozen" data-testid={`summary-frozen-${r.id}`} title={`${r.frozen.toLocaleString('en-US')} frozen by fine-tuning`}>
                      {' '}
                      ❄{r.frozen + (r.nonTrainable ?? 0) === r.params ? '' : ` ${countText(r.frozen)}`}
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <td colSpan={3}>Total{summary.uncounted > 0 ? ` (${summary.uncounted} node${summary.uncounted > 1 ? 's' : ''} not counted yet)` : ''}</td>
              <td className="num" data-testid="summary-total" title={summary.totalParams.toLocaleString('en-US')}>
                {countText(summary.totalParams)}
              </td>
            </tr>
            <tr data-testid="summary-split">
              <td colSpan={4}>
                Trainable <span data-testid="summary-trainable">{summary.trainableParams.toLocaleString('en-US')}</span> · frozen{' '}
                <span data-testid="summary-frozen">{summary.frozenParams.toLocaleString('en-US')}</span> ·{' '}
                <span title="BatchNorm's moving means and variances: they follow the batches, no gradient trains them">
                  non-trainable <span data-testid="summary-non-trainable">{summary.nonTrainableParams.toLocaleString('en-US')}</span>
                </span>{' '}
                · all <span data-testid="summary-all">{summary.totalParams.toLocaleString('en-US')}</span>
              </td>
            </tr>
          </tfoot>
        </table>
      </div>
    ),
    [summary],
  );
}
