// Graph document -> React Flow nodes and edges. Objects are reused while what
// they show is unchanged, so a drag re-renders only the moving nodes, and an
// edit only the nodes whose ports, shapes or problems it changed (the analysis
// makes new objects for every node on every edit).
import type { Edge, Node } from '@xyflow/react';
import type { NodeInfo } from '../../../engine/shapes/analyze.js';
import type { Diagnostic, GraphFile, GraphNode } from '../../../engine/graph/types.js';
import type { PortDef, Shape } from '../../../engine/blocks/contract.js';
import type { Selection } from '../store/editor.js';
import type { DiagnosticIndex } from '../store/diagnostics.js';
import type { ScopeView } from '../store/scope.js';

/** What the canvas draws: the scope shown and the selection. */
export interface CanvasInput {
  graph: GraphFile;
  analysis: ScopeView['analysis'];
  diagnostics: DiagnosticIndex;
  selection: Selection;
}

export interface BlockNodeData extends Record<string, unknown> {
  node: GraphNode;
  info?: NodeInfo;
  diagnostics?: Diagnostic[];
}
export type BlockFlowNode = Node<BlockNodeData, 'block'>;

export interface ShapeEdgeData extends Record<string, unknown> {
  shape?: Shape;
  diagnostics?: Diagnostic[];
  /** Reroute points the wire passes through. */
  via?: { x: number; y: number }[];
}
export type ShapeFlowEdge = Edge<ShapeEdgeData, 'shape'>;

export type Measured = Map<string, { width: number; height: number }>;

export function makeNodeCache() {
  const cache = new Map<string, BlockFlowNode>();
  return (s: CanvasInput, measured: Measured): BlockFlowNode[] => {
    const out: BlockFlowNode[] = [];
    const seen = new Set<string>();
    for (const node of s.graph.nodes) {
      seen.add(node.id);
      const info = s.analysis.nodes.get(node.id);
      const diagnostics = s.diagnostics.byNode.get(node.id);
      const selected = s.selection.nodes.has(node.id);
      const m = measured.get(node.id);
      const prev = cache.get(node.id);
      if (
        prev &&
        prev.data.node === node &&
        sameDrawnInfo(prev.data.info, info) &&
        sameDiagnostics(prev.data.diagnostics, diagnostics) &&
        prev.selected === selected &&
        prev.measured === m
      ) {
        out.push(prev);
        continue;
      }
      const next: BlockFlowNode = {
        id: node.id,
        type: 'block',
        position: node.position,
        data: { node, info, diagnostics },
        selected,
        measured: m,
      };
      cache.set(node.id, next);
      out.push(next);
    }
    for (const id of cache.keys()) if (!seen.has(id)) cache.delete(id);
    return out;
  };
}

export function makeEdgeCache() {
  const cache = new Map<string, ShapeFlowEdge>();
  return (s: CanvasInput): ShapeFlowEdge[] => {
    const out: ShapeFlowEdge[] = [];
    s.graph.edges.forEach((e, i) => {
      const id = e.id!;
      const shape = s.analysis.edgeShapes[i];
      const diagnostics = s.diagnostics.byEdge.get(id);
      const selected = s.selection.edges.has(id);
      const prev = cache.get(id);
      if (
        prev &&
        prev.source === e.from.node &&
        prev.sourceHandle === e.from.port &&
        prev.target === e.to.node &&
        prev.targetHandle === e.to.port &&
        sameShape(prev.data?.shape, shape) &&
        sameDiagnostics(prev.data?.diagnostics, diagnostics) &&
        prev.selected === selected &&
        prev.data?.via === e.via
      ) {
        out.push(prev);
        return;
      }
      const next: ShapeFlowEdge = {
        id,
        type: 'shape',
        source: e.from.node,
        sourceHandle: e.from.port,
        target: e.to.node,
        targetHandle: e.to.port,
        selected,
        data: { shape, diagnostics, via: e.via },
      };
      cache.set(id, next);
      out.push(next);
    });
    return out;
  };
}

function sameShape(a: Shape | undefined, b: Shape | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  return a.every((d, i) => d === b[i]);
}

function sameList<T>(a: readonly T[] | undefined, b: readonly T[] | undefined, same: (x: T, y: T) => boolean): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  return a.every((x, i) => same(x, b[i]));
}

function sameRecord<T>(a: Readonly<Record<string, T>> | undefined, b: Readonly<Record<string, T>> | undefined, same: (x: T, y: T) => boolean): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => k in b && same(a[k], b[k]));
}

/** Parameter values are numbers, strings, booleans or lists of them. */
const sameValue = (x: unknown, y: unknown): boolean => x === y || (Array.isArray(x) && Array.isArray(y) && sameList(x, y, Object.is));
const samePort = (p: PortDef, q: PortDef) => p === q || JSON.stringify(p) === JSON.stringify(q);

/** Whether two analyses of a node draw the same node: block, parameters, ports and shapes. */
export function sameDrawnInfo(a: NodeInfo | undefined, b: NodeInfo | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return (
    a.block === b.block &&
    a.composite === b.composite &&
    sameRecord(a.params as Record<string, unknown>, b.params as Record<string, unknown>, sameValue) &&
    sameList(a.inputs, b.inputs, samePort) &&
    sameList(a.outputs, b.outputs, samePort) &&
    sameRecord(a.inputShapes, b.inputShapes, sameShape) &&
    sameRecord(a.outputShapes, b.outputShapes, sameShape)
  );
}

const sameDiagnostic = (d: Diagnostic, e: Diagnostic) =>
  d === e || (d.severity === e.severity && d.message === e.message && d.port === e.port && d.param === e.param && sameList(d.path, e.path, Object.is));

export function sameDiagnostics(a: readonly Diagnostic[] | undefined, b: readonly Diagnostic[] | undefined): boolean {
  return sameList(a, b, sameDiagnostic);
}
