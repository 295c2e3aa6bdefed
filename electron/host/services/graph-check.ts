import { analyzeGraph } from '../../../engine/shapes/analyze.js';
import { checkGraphSchema } from '../../../engine/graph/schema.js';
import { hasErrors, type Diagnostic, type GraphFile } from '../../../engine/graph/types.js';

/** Schema check plus semantic analysis of a graph held in memory. */
export function checkGraph(graph: unknown): { graph?: GraphFile; diagnostics: Diagnostic[] } {
  const r = checkGraphSchema(graph);
  if (!r.graph) return r;
  return { graph: r.graph, diagnostics: analyzeGraph(r.graph).diagnostics };
}

/** The graph when it has no errors, else undefined with the diagnostics (for requests that need a sound graph: training, export). */
export function soundGraph(graph: unknown): { graph?: GraphFile; diagnostics: Diagnostic[] } {
  const checked = checkGraph(graph);
  return checked.graph && !hasErrors(checked.diagnostics) ? checked : { diagnostics: checked.diagnostics };
}
