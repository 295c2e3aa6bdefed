// The wire under the cursor while connecting: green with the shape it would
// carry over a port that accepts it, red with the reason over one that does not.
import { getBezierPath, type ConnectionLineComponentProps } from '@xyflow/react';
import { editor } from '../editor.js';
import { shapeText } from '../ui-format.js';
import type { ConnectionVerdict } from '../store/connection.js';
import type { Endpoint } from '../../../engine/graph/types.js';

/** The connection as output -> input, whichever end the drag started from. */
export function orient(a: Endpoint, aType: 'source' | 'target', b: Endpoint): { from: Endpoint; to: Endpoint } {
  return aType === 'source' ? { from: a, to: b } : { from: b, to: a };
}

let last: { key: string; graph: unknown; verdict: ConnectionVerdict } | undefined;
/** Memoised: the line re-renders on every pointer move over the same port. */
export function verdictFor(from: Endpoint, to: Endpoint): ConnectionVerdict {
  const s = editor.getState();
  const key = `${from.node}.${from.port}>${to.node}.${to.port}`;
  if (last && last.key === key && last.graph === s.graph) return last.verdict;
  const verdict = s.checkConnection(from, to);
  last = { key, graph: s.graph, verdict };
  return verdict;
}

export function ConnectionPreview({ fromX, fromY, toX, toY, fromPosition, toPosition, fromNode, fromHandle, toNode, toHandle }: ConnectionLineComponentProps) {
  const [path] = getBezierPath({ sourceX: fromX, sourceY: fromY, sourcePosition: fromPosition, targetX: toX, targetY: toY, targetPosition: toPosition });
  let verdict: ConnectionVerdict | undefined;
  if (toNode && toHandle && fromHandle.id && toHandle.id && toHandle.type !== fromHandle.type) {
    const { from, to } = orient({ node: fromNode.id, port: fromHandle.id }, fromHandle.type, { node: toNode.id, port: toHandle.id });
    verdict = verdictFor(from, to);
  }
  const state = verdict ? (verdict.ok ? 'ok' : 'refused') : 'open';
  const text = verdict ? (verdict.ok ? `${shapeText(verdict.shape)}${verdict.replaces ? ' (replaces the wire)' : ''}` : `✕ ${verdict.reason}`) : '';
  return (
    <g className={`connection-preview connection-preview--${state}`}>
      <path d={path} fill="none" />
      {text && (
        <foreignObject x={toX + 14} y={toY - 34} width={360} height={80} style={{ overflow: 'visible' }}>
          <div className={`connection-hint connection-hint--${state}`} data-testid="connection-hint">
            {text}
          </div>
        </foreignObject>
      )}
    </g>
  );
}
