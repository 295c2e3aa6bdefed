import type { LossName } from '../blocks/contract.js';
import type { GraphAnalysis } from './analyze.js';
import type { GraphFile } from '../graph/types.js';

/** The loss an Output node trains with: its own choice, or with "auto" the one its source port suggests. */
export function outputLoss(graph: GraphFile, analysis: GraphAnalysis, outputId: string): LossName | null {
  const n = analysis.nodes.get(outputId)!;
  const chosen = n.params.loss as string;
  if (chosen === 'none') return null;
  if (chosen !== 'auto') return chosen as LossName;
  const src = graph.edges[n.incoming.get('in')!];
  return analysis.nodes.get(src.from.node)!.outputs.find((p) => p.name === src.from.port)?.loss ?? 'meanSquaredError';
}
