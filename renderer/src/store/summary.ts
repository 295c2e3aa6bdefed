// The model summary: one row per node in the order data flows, with its output
// shapes and parameter count, and the totals.
import type { GraphAnalysis } from '../../../engine/shapes/analyze.js';
import type { Shape } from '../../../engine/blocks/contract.js';
import type { GraphFile } from '../../../engine/graph/types.js';
import type { ParamCounts } from '../params/count.js';

export interface SummaryRow {
  id: string;
  label: string;
  type: string;
  outputs: { port: string; shape?: Shape; attention?: string }[];
  /** Undefined while unknown (shapes incomplete, or not counted yet). */
  params?: number;
  /** Of those, the ones fine-tuning freezes (undefined while unknown). */
  frozen?: number;
  errors: number;
}

export interface ModelSummary {
  rows: SummaryRow[];
  /** Sum over the rows that have a count. */
  totalParams: number;
  /** Of those, frozen by fine-tuning; the rest train. */
  frozenParams: number;
  /** Rows still without a count. */
  uncounted: number;
}

/**
 * The summary; `frozen` says which nodes (by inlined key, as fine-tuning's
 * patterns name them) fine-tuning freezes, none by default.
 */
export function summarize(graph: GraphFile, analysis: GraphAnalysis, counts: ParamCounts, frozen: (nodeKey: string) => boolean = () => false): ModelSummary {
  const ordered = [...analysis.order, ...graph.nodes.map((n) => n.id).filter((id) => !analysis.order.includes(id))];
  const errors = new Map<string, number>();
  for (const d of analysis.diagnostics) if (d.nodeId && d.severity === 'error') errors.set(d.nodeId, (errors.get(d.nodeId) ?? 0) + 1);
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const rows: SummaryRow[] = ordered.map((id) => {
    const info = analysis.nodes.get(id);
    const node = byId.get(id);
    return {
      id,
      label: node?.label ?? info?.block.label ?? node?.type ?? id,
      type: node?.type ?? '',
      outputs: (info?.outputs ?? []).map((p) => ({ port: p.name, shape: info?.outputShapes?.[p.name], attention: p.attention })),
      params: counts(id),
      frozen: counts(id, frozen),
      errors: errors.get(id) ?? 0,
    };
  });
  let totalParams = 0;
  let frozenParams = 0;
  let uncounted = 0;
  for (const r of rows) {
    if (r.params === undefined) uncounted++;
    else {
      totalParams += r.params;
      frozenParams += r.frozen ?? 0;
    }
  }
  return { rows, totalParams, frozenParams, uncounted };
}
