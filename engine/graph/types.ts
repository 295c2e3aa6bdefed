import type { Shape } from '../blocks/contract.js';

export type Severity = 'error' | 'warning';

/** One problem found in a graph, attached to what caused it. */
export interface Diagnostic {
  severity: Severity;
  message: string;
  nodeId?: string;
  port?: string;
  param?: string;
  /** Index of the edge in the file's `edges` array. */
  edge?: number;
  /** Position in the file's text, for malformed JSON. */
  line?: number;
  column?: number;
  /**
   * Inside a composite: the node ids from the top-level node (`nodeId`, the
   * composite's instance) down to the inner node the problem is on.
   */
  path?: string[];
  /** Inside repeated composites: the 1-based copy at each composite level of `path` (one fewer entry than `path`). */
  copy?: number[];
  /** The composite definition (innermost) whose inside has the problem. */
  composite?: string;
}

export interface Endpoint {
  node: string;
  port: string;
}

export interface GraphNode {
  id: string;
  type: string;
  label?: string;
  params: Record<string, unknown>;
  position: { x: number; y: number };
  /** Bypassed (muted): the node passes its one input through unchanged. */
  bypass?: boolean;
  [extra: string]: unknown;
}

export interface GraphEdge {
  id?: string;
  from: Endpoint;
  to: Endpoint;
  /** Reroute points the wire is drawn through (layout only). */
  via?: { x: number; y: number }[];
  [extra: string]: unknown;
}

/**
 * A named subgraph used as a block: nodes of type `composite:<id>` stand for it.
 * Its inside is an ordinary graph whose `io.compositeInput` and
 * `io.compositeOutput` nodes are its ports.
 */
export interface CompositeDef {
  id: string;
  label?: string;
  doc?: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** Notes and frames drawn on its inside (layout only). */
  comments?: GraphComment[];
  [extra: string]: unknown;
}

export interface GraphComment {
  id: string;
  text: string;
  position: { x: number; y: number };
  size: { width: number; height: number };
  color?: string;
  [extra: string]: unknown;
}

export interface GraphFile {
  format: string;
  version: number;
  name: string;
  description?: string;
  /** Seed for weight initialisation; the same seed gives the same initial weights. */
  seed?: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** Composite blocks defined in this file (format version 2). */
  composites?: CompositeDef[];
  /** Notes and frames on the canvas (layout only). */
  comments?: GraphComment[];
  training?: Record<string, unknown>;
  dataset?: Record<string, unknown>;
  [extra: string]: unknown;
}

export type { Shape };

export const hasErrors = (ds: readonly Diagnostic[]): boolean => ds.some((d) => d.severity === 'error');

/**
 * Text from a file made printable: control characters (terminal escapes
 * included), line breaks and the bidirectional overrides that reorder a line
 * are written as JSON writes them (\u001b), so a hostile id cannot rewrite the
 * terminal or hide what it is.
 */
export function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function formatDiagnostic(d: Diagnostic, file?: string): string {
  const where = [
    file && (d.line !== undefined ? `${file}:${d.line}:${d.column ?? 1}` : file),
    d.nodeId !== undefined && `node "${d.nodeId}"${d.port ? ` port "${d.port}"` : ''}`,
    d.nodeId === undefined && d.edge !== undefined && `edge #${d.edge}`,
  ]
    .filter(Boolean)
    .join(' ');
  return printable(`${where ? `${where}: ` : ''}${d.severity}: ${d.message}`);
}
