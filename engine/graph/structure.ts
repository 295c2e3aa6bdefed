// The structural check the editor (opening a file) and the analysis (every
// diagnostic) share: node ids are unique within a scope.
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
