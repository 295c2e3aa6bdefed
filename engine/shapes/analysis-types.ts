// What the analysis says of a graph, node by node and scope by scope: the types
// that analyze.ts fills in and that inlining, limits and the compiler read.
import type { AnyBlock, ParamDefs, ParamValues, PortDef, Shape } from '../blocks/contract.js';
import type { CompositeDef, GraphEdge } from '../graph/types.js';

export interface NodeInfo {
  id: string;
  block: AnyBlock;
  params: ParamValues<ParamDefs>;
  inputs: readonly PortDef[];
  outputs: readonly PortDef[];
  /** Connected inputs: port name -> edge index. */
  incoming: Map<string, number>;
  inputShapes: Record<string, Shape>;
  /** Bypassed: its one output is its one input. */
  bypass?: boolean;
  /** Absent when the node could not get shapes (see diagnostics). */
  outputShapes?: Record<string, Shape>;
  /** A composite instance: the composite it uses. */
  composite?: CompositeInfo;
  /**
   * A composite instance that got shapes: its inside, per copy (`repeat`). The
   * copies of a repeat all see one input shape, so they share one analysis.
   */
  copies?: ScopeAnalysis[];
}

/** The top-level graph, or one copy of a composite's inside, analysed. */
export interface ScopeAnalysis {
  /** Nodes whose block is known, by id. */
  nodes: Map<string, NodeInfo>;
  /** Known nodes in topological order (nodes on cycles left out). */
  order: string[];
  /** The scope's edges (`nodes[].incoming` indexes them). */
  edges: readonly GraphEdge[];
  /** The shape carried by each edge, by edge index; undefined where unknown. */
  edgeShapes: (Shape | undefined)[];
}

/** A composite port: its name on the composite node, and the Composite input/output node inside that stands for it. */
export interface CompositePort {
  name: string;
  node: string;
}

export interface CompositeInfo {
  id: string;
  def: CompositeDef;
  /** The block of its instances (type `composite:<id>`): label, ports, the `repeat` parameter, a shape rule and a builder for its inside. */
  block: AnyBlock;
  inputs: CompositePort[];
  outputs: CompositePort[];
  /** False when its inside has problems of its own, or it contains itself: its instances get no shapes. */
  sound: boolean;
}
