// The structural checks the editor (opening a file) and the analysis (every
// diagnostic) share: node ids are unique within a scope, a type names a block or
// one of the file's composites, and an edge joins ports its nodes have.
import type { Diagnostic, GraphEdge, GraphNode } from './types.js';

/** The scope's nodes, first of each id; every later node with a used id is reported and left out. */
export function uniqueNodes<N extends Pick<GraphNode, 'id'>>(nodes: readonly N[], error: (d: Omit<Diagnostic, 'severity'>) => void): N[] {
  const seen = new Set<string>();
  return nodes.filter((n) => {
    if (seen.has(n.id)) {
      error({ nodeId: n.id, message: `duplicate node id "${n.id}": every node needs its own id` });
      return false;
    }
    seen.add(n.id);
    return true;
  });
}

/** Why a node's type is refused: no such block, with the closest known type when there is one. */
export const unknownBlockType = (type: string, suggestion: string | undefined): string =>
  `unknown block type "${type}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`;

/** Why a composite type is refused: the file defines no composite of that id. */
export const unknownComposite = (id: string, defined: readonly string[]): string =>
  `unknown composite "${id}" (${defined.length ? `this file defines ${defined.map((k) => `"${k}"`).join(', ')}` : 'this file defines no composites'})`;

/** Why a composite's input or output node is refused at the top of the graph. */
export const portNodeOutside = (label: string, type: string): string => `a ${label} (${type}) belongs inside a composite`;

/** A node's ports as the edge check sees them (the analysis's NodeInfo is one). */
export interface NodePorts {
  id: string;
  block: { label: string };
  inputs: readonly { name: string }[];
  outputs: readonly { name: string }[];
}

/**
 * Why an edge cannot stand: an end on a node the scope does not have, or on a port its
 * node does not have. `ports` answers undefined for a node whose type did not resolve
 * (reported already): its ports go unchecked.
 */
export function edgeProblem(
  e: GraphEdge,
  index: number,
  exists: (nodeId: string) => boolean,
  ports: (nodeId: string) => NodePorts | undefined,
): Omit<Diagnostic, 'severity'> | undefined {
  const text = `edge ${e.from.node}.${e.from.port} → ${e.to.node}.${e.to.port}`;
  if (!exists(e.from.node)) return { edge: index, nodeId: e.to.node, port: e.to.port, message: `${text} comes from missing node "${e.from.node}"` };
  if (!exists(e.to.node)) return { edge: index, nodeId: e.from.node, port: e.from.port, message: `${text} goes to missing node "${e.to.node}"` };
  const missing = (n: NodePorts | undefined, side: 'inputs' | 'outputs', port: string) =>
    n && !n[side].some((p) => p.name === port)
      ? {
          edge: index,
          nodeId: n.id,
          port,
          message: `${text}: "${n.id}" (${n.block.label}) has no ${side === 'inputs' ? 'input' : 'output'} port "${port}" (${side}: ${n[side].map((p) => p.name).join(', ') || 'none'})`,
        }
      : undefined;
  return missing(ports(e.from.node), 'outputs', e.from.port) ?? missing(ports(e.to.node), 'inputs', e.to.port);
}
