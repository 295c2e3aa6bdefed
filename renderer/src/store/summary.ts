// The model summary: one row per node in the order data flows, with its output
// shapes and parameter count, and the totals.
import type { GraphAnalysis } from '../../../engine/shapes/analyze.js';
import type { Shape } from '../../../engine/blocks/contract.js';
import type { GraphFile } from '../../../engine/graph/types.js';
import type { WeightCounts } from '../params/count.js';

export interface SummaryRow {
  id: string;
  label: string;
  type: string;
  outputs: { port: string; shape?: Shape; attention?: string }[];
  /** All its weights; undefined while unknown (shapes incomplete, or not counted yet). */
  params?: number;
  /** Of those, the trainable ones that fine-tuning freezes (undefined while unknown). */
  frozen?: number;
  /** Of those, the ones no gradient trains (BatchNorm's moving statistics; undefined while unknown). */
  nonTrainable?: number;
  errors: number;
}

/**
 * The weights of the rows that have a count, split three ways (as the trainer
 * splits the compiled model's): those training changes, the trainable ones
 * fine-tuning freezes, and those no gradient trains (BatchNorm's moving mean
 * and variance). totalParams is their sum.
 */
export interface ModelSummary {
  rows: SummaryRow[];
  totalParams: number;
  trainableParams: number;
  frozenParams: number;
  nonTrainableParams: number;
  /** Rows still without a count. */
  uncounted: number;
}

/**
 * The summary; `frozen` says which nodes (by inlined key, as fine-tuning's
 * patterns name them) fine-tuning freezes, none by default.
 */
export function summarize(graph: GraphFile, analysis: GraphAnalysis, counts: WeightCounts, frozen: (nodeKey: string) => boolean = () => false): ModelSummary {
  const ordered = [...analysis.order, ...graph.nodes.map((n) => n.id).filter((id) => !analysis.order.includes(id))];
  const errors = new Map<string, number>();
  for (const d of analysis.diagnostics) if (d.nodeId && d.severity === 'error') errors.set(d.nodeId, (errors.get(d.nodeId) ?? 0) + 1);
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const rows: SummaryRow[] = ordered.map((id) => {
    const info = analysis.nodes.get(id);
    const node = byId.get(id);
    const all = counts.all(id);
    const trainable = counts.trainable(id);
    const known = all !== undefined && trainable !== undefined;
    return {
      id,
      label: node?.label ?? info?.block.label ?? node?.type ?? id,
      type: node?.type ?? '',
      outputs: (info?.outputs ?? []).map((p) => ({ port: p.name, shape: info?.outputShapes?.[p.name], attention: p.attention })),
      params: known ? all : undefined,
      frozen: known ? counts.trainable(id, frozen) : undefined,
      nonTrainable: known ? all - trainable : undefined,
      errors: errors.get(id) ?? 0,
    };
  });
  const sum = { totalParams: 0, trainableParams: 0, frozenParams: 0, nonTrainableParams: 0, uncounted: 0 };
  for (const r of rows) {
    if (r.params === undefined) sum.uncounted++;
    else {
      sum.totalParams += r.params;
      sum.frozenParams += r.frozen!;
      sum.nonTrainableParams += r.nonTrainable!;
      sum.trainableParams += r.params - r.frozen! - r.nonTrainable!;
    }
  }
  return { rows, ...sum };
}
