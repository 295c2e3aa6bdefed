// The structural checks the editor (opening a file) and the analysis (every
// diagnostic) share: node ids are unique within a scope, and a type names a block.
import type { Diagnostic, GraphNode } from './types.js';

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
