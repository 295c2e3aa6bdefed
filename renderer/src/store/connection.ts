// Checks a connection before it is made: the editor runs this while the user
// drags a wire over a port, and refuses the drop with the reason it returns.
// Inside a composite the wire is checked in every use of the composite.
import { analyzeGraph, type GraphAnalysis } from '../../../engine/shapes/analyze.js';
import { fmtShape } from '../../../engine/blocks/shape-rules.js';
import type { Shape } from '../../../engine/blocks/contract.js';
import type { Diagnostic, Endpoint, GraphFile } from '../../../engine/graph/types.js';
import { connect } from './document.js';
import { putScope, scopeAnalysis, scopeDiagnostics, scopeGraph, TOP, type Scope } from './scope.js';

export type ConnectionVerdict = { ok: true; shape?: Shape; replaces?: string } | { ok: false; reason: string };

const key = (d: Diagnostic) => `${d.nodeId ?? ''}|${d.port ?? ''}|${d.message}`;

/**
 * Checks the wire from -> to in a scope (the graph itself by default, or the
 * inside of a composite: then problems are found through the composite's uses).
 */
export function checkConnection(graph: GraphFile, from: Endpoint, to: Endpoint, current?: GraphAnalysis, scope: Scope = TOP): ConnectionVerdict {
  if (from.node === to.node) return { ok: false, reason: 'a node cannot feed itself' };
  const base = current ?? analyzeGraph(graph);
  const view = scopeGraph(graph, scope);
  const { nodes } = scopeAnalysis(graph, base, scope);
  const src = nodes.get(from.node);
  const dst = nodes.get(to.node);
  if (!src || !dst) return { ok: false, reason: 'unknown node' };
  const outPort = src.outputs.find((p) => p.name === from.port);
  const inPort = dst.inputs.find((p) => p.name === to.port);
  if (!outPort) return { ok: false, reason: `${src.block.label} has no output "${from.port}"` };
  if (!inPort) return { ok: false, reason: `${dst.block.label} has no input "${to.port}"` };

  const shape = src.outputShapes?.[from.port];
  if (shape && inPort.rank !== undefined) {
    const ranks = typeof inPort.rank === 'number' ? [inPort.rank] : inPort.rank;
    if (!ranks.includes(shape.length))
      return { ok: false, reason: `"${to.port}" needs rank ${ranks.join(' or ')}, got ${fmtShape(shape)} (rank ${shape.length})` };
  }

  if (reaches(view, to.node, from.node)) return { ok: false, reason: 'this would make a loop: a model graph must be acyclic' };

  const tentative = putScope(graph, scope, connect(view, from, to).graph);
  const after = analyzeGraph(tentative);
  const problems = (g: GraphFile, ds: Diagnostic[]) => (scope.length ? scopeDiagnostics(g, ds, scope[scope.length - 1]) : ds);
  const before = new Set(problems(graph, base.diagnostics).map(key));
  // Only what goes wrong at the target itself (or a loop) refuses the wire;
  // problems further downstream are shown on their nodes once it is made.
  const fresh = problems(tentative, after.diagnostics).filter((d) => d.severity === 'error' && !before.has(key(d)));
  const atTarget = fresh.find((d) => d.nodeId === to.node);
  if (atTarget) return { ok: false, reason: atTarget.message };
  const replaced = view.edges.find((e) => e.to.node === to.node && e.to.port === to.port);
  return { ok: true, shape, replaces: replaced?.id };
}

/** Is `target` downstream of `start` (or `start` itself)? */
function reaches(graph: GraphFile, start: string, target: string): boolean {
  const next = new Map<string, string[]>();
  for (const e of graph.edges) {
    const list = next.get(e.from.node);
    if (list) list.push(e.to.node);
    else next.set(e.from.node, [e.to.node]);
  }
  const stack = [start];
  const seen = new Set<string>();
  while (stack.length) {
    const id = stack.pop()!;
    if (id === target) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(next.get(id) ?? []));
  }
  return false;
}
