// How big a graph is once its composites and repeats are inlined, computed
// without inlining: each composite's inside is sized once and multiplied by its
// repeat, so a 5 KB file that would expand to billions of nodes is sized in
// microseconds. analyzeGraph refuses a graph over the limits, so that nothing
// downstream (compile, summary, export, training) ever expands it.
import type { CompositeInfo, NodeInfo, ScopeAnalysis } from './analysis-types.js';
import { blockActivationBytes, blockLayerDepth, blockParams } from './block-size.js';
import { MAX_COMPOSITE_NESTING } from './composite.js';
import type { Diagnostic, GraphEdge } from '../graph/types.js';
import { fmtBytes, fmtCount, LIMITS_ENV, type GraphLimits } from '../graph/limit-settings.js';

export { DEFAULT_LIMITS, fmtBytes, fmtCount, LIMITS_ENV, parseLimits, resolveLimits, type GraphLimits, type GraphSize } from '../graph/limit-settings.js';

/** A scope's structure: enough to count nodes and find the longest path, before shapes are known. */
export interface StructureScope {
  nodes: Map<string, NodeInfo>;
  order: string[];
  edges: readonly GraphEdge[];
}

interface Sized {
  /** The scope's total. */
  total: number;
  /** Each node's share of it, by id (a composite node: all its copies). */
  share: Map<string, number>;
  /** For the longest path: the node it ends at. */
  end?: string;
}

const repeatOf = (n: NodeInfo): number => (n.composite ? Math.max(1, Number(n.params.repeat) || 1) : 1);

/**
 * Nodes and longest path (in tfjs layers) of the expanded graph, from the
 * structure alone: each composite's inside once, whatever its number of uses.
 * A composite that contains itself (already an error) counts as one node.
 */
export function measureStructure(top: StructureScope, insideOf: (c: CompositeInfo) => StructureScope) {
  const nodeMemo = new Map<string, Sized>();
  const depthMemo = new Map<string, Sized>();
  const visiting = new Set<string>();
  /** A composite's inside measured once; undefined inside itself (a recursive composite). */
  const inside = (c: CompositeInfo, memo: Map<string, Sized>, measure: (scope: StructureScope) => Sized): Sized | undefined => {
    if (visiting.has(c.id)) return undefined;
    if (!memo.has(c.id)) {
      visiting.add(c.id);
      memo.set(c.id, measure(insideOf(c)));
      visiting.delete(c.id);
    }
    return memo.get(c.id);
  };

  const nodes = (scope: StructureScope): Sized => {
    const share = new Map<string, number>();
    let total = 0;
    for (const n of scope.nodes.values()) {
      const inner = n.composite ? inside(n.composite, nodeMemo, nodes) : undefined;
      const count = 1 + (inner ? repeatOf(n) * inner.total : 0);
      share.set(n.id, count);
      total += count;
    }
    return { total, share };
  };

  /** Longest path ending at each node, in layers; the share is each node's own length (a composite node: its copies end to end). */
  const depth = (scope: StructureScope): Sized => {
    const reach = new Map<string, number>();
    const share = new Map<string, number>();
    let total = 0;
    let end: string | undefined;
    for (const id of scope.order) {
      const n = scope.nodes.get(id)!;
      let before = 0;
      for (const ei of n.incoming.values()) before = Math.max(before, reach.get(scope.edges[ei].from.node) ?? 0);
      const inner = n.composite ? inside(n.composite, depthMemo, depth) : undefined;
      const own = n.composite ? (inner ? repeatOf(n) * inner.total : 1) : blockLayerDepth(n.block, n.params);
      share.set(id, own);
      reach.set(id, before + own);
      if (before + own > total) [total, end] = [before + own, id];
    }
    return { total, share, end };
  };

  return {
    nodes: nodes(top),
    depth: depth(top),
    /** The chain of composite nodes, from a top-level node down, that holds the largest share of a measure. */
    chain(measure: 'nodes' | 'depth', from: string): string {
      const memo = measure === 'nodes' ? nodeMemo : depthMemo;
      const steps: string[] = [];
      let scope = top;
      let id: string | undefined = from;
      for (let level = 0; id !== undefined && level <= MAX_COMPOSITE_NESTING; level++) {
        const n = scope.nodes.get(id)!;
        if (!n.composite) break;
        steps.push(`"${id}" (composite "${n.composite.id}"${repeatOf(n) > 1 ? ` ×${repeatOf(n)}` : ''})`);
        const inside = memo.get(n.composite.id);
        if (!inside) break;
        scope = insideOf(n.composite);
        id = largest(inside.share);
      }
      return steps.join(' → ');
    },
  };
}

/** Parameters and activation bytes per sample of an analysed scope, each composite copy's analysis sized once. */
export function measureShapes(scope: ScopeAnalysis): { params: Sized; activationBytes: Sized } {
  const memo = new WeakMap<ScopeAnalysis, { params: Sized; activationBytes: Sized }>();
  const measure = (s: ScopeAnalysis): { params: Sized; activationBytes: Sized } => {
    const known = memo.get(s);
    if (known) return known;
    const params = { total: 0, share: new Map<string, number>() };
    const activationBytes = { total: 0, share: new Map<string, number>() };
    for (const id of s.order) {
      const n = s.nodes.get(id)!;
      let p = 0;
      let a = 0;
      if (n.composite) {
        if (n.copies?.length) {
          const inner = measure(n.copies[0]);
          p = n.copies.length * inner.params.total;
          a = n.copies.length * inner.activationBytes.total;
        }
      } else if (n.outputShapes) {
        p = blockParams({ block: n.block, params: n.params, inputShapes: n.inputShapes, outputShapes: n.outputShapes });
        a = blockActivationBytes(n.outputShapes);
      }
      params.share.set(id, p);
      params.total += p;
      activationBytes.share.set(id, a);
      activationBytes.total += a;
    }
    const r = { params, activationBytes };
    memo.set(s, r);
    return r;
  };
  return measure(scope);
}

function largest(share: Map<string, number>): string | undefined {
  let best: string | undefined;
  let max = -1;
  for (const [id, v] of share) if (v > max) [best, max] = [id, v];
  return best;
}

const WHAT: Record<keyof GraphLimits, { noun: string; flag: string; fmt: (n: number) => string }> = {
  nodes: { noun: 'nodes after inlining composites and repeats', flag: 'nodes', fmt: fmtCount },
  params: { noun: 'parameters', flag: 'params', fmt: fmtCount },
  activationBytes: { noun: 'of activations per sample', flag: 'activation', fmt: fmtBytes },
  depth: { noun: 'layers on its longest path (tfjs overflows the stack at about 4,000)', flag: 'depth', fmt: fmtCount },
};

/**
 * The error for one limit exceeded: on the top-level node with the largest
 * share, naming the chain of composites that makes it big and by how much.
 */
export function overLimit(key: keyof GraphLimits, total: number, limit: number, culprit: { id: string; share: number; chain: string } | undefined): Diagnostic {
  const w = WHAT[key];
  const times = total / limit;
  const by = times >= 10 ? `${fmtCount(times)} times the limit` : `${((times - 1) * 100).toFixed(0)}% over`;
  const where = !culprit
    ? ''
    : culprit.chain
      ? `; ${culprit.chain} makes ${w.fmt(culprit.share)} of it`
      : culprit.share * 4 >= total
        ? `; node "${culprit.id}" alone has ${w.fmt(culprit.share)}`
        : `, spread over many nodes (the largest, "${culprit.id}", has ${w.fmt(culprit.share)})`;
  return {
    severity: 'error',
    ...(culprit && { nodeId: culprit.id }),
    message:
      `the graph has ${w.fmt(total)} ${w.noun}, over the limit of ${w.fmt(limit)} (${by})${where}. ` +
      `Make it smaller, or raise the limit with --limits ${w.flag}=N (or ${LIMITS_ENV}).`,
  };
}

/** The culprit of a measure at the top level: the node with the largest share. */
export function culpritOf(s: Sized, chain: (id: string) => string): { id: string; share: number; chain: string } | undefined {
  const id = largest(s.share);
  return id === undefined ? undefined : { id, share: s.share.get(id)!, chain: chain(id) };
}
