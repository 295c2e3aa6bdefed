// A wire labelled with the tensor shape it carries; red, with the reason on
// hover, when the analysis blames it. A wire with reroute points is drawn
// through them; drag a point to move it, double-click it to remove it.
import { memo } from 'react';
import { BaseEdge, EdgeLabelRenderer, getBezierPath, useStore, type EdgeProps } from '@xyflow/react';
import { shapeText } from '../ui-format.js';
import { editor } from '../editor.js';
import type { ShapeFlowEdge } from './flowElements.js';
import type { XY } from '../store/document.js';
import { dragInGraph } from './pointerDrag.js';

/** A left-to-right curve through the points: one cubic per stretch, leaving and arriving level. */
export function routedPath(points: XY[]): string {
  let d = `M ${points[0].x},${points[0].y}`;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1];
    const b = points[i];
    const dx = Math.max(Math.abs(b.x - a.x) / 2, 20);
    d += ` C ${a.x + dx},${a.y} ${b.x - dx},${b.y} ${b.x},${b.y}`;
  }
  return d;
}

function Reroute({ edge, index, at }: { edge: string; index: number; at: XY }) {
  const zoom = useStore((s) => s.transform[2]);
  return (
    <div
      className="reroute nodrag nopan"
      data-testid={`reroute-${edge}-${index}`}
      style={{ transform: `translate(-50%, -50%) translate(${at.x}px, ${at.y}px)` }}
      title="Reroute point: drag to move, double-click to remove"
      onDoubleClick={() => editor.getState().moveReroute(edge, index, null)}
      onPointerDown={(e) => dragInGraph(e, zoom, (dx, dy, gesture) => editor.getState().moveReroute(edge, index, { x: at.x + dx, y: at.y + dy }, gesture))}
    />
  );
}

function ShapeEdgeView({ id, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, data, selected }: EdgeProps<ShapeFlowEdge>) {
  const via = data?.via ?? [];
  let path: string;
  let labelX: number;
  let labelY: number;
  if (via.length) {
    path = routedPath([{ x: sourceX, y: sourceY }, ...via, { x: targetX, y: targetY }]);
    ({ x: labelX, y: labelY } = via[Math.floor((via.length - 1) / 2)]);
    labelY -= 16;
  } else [path, labelX, labelY] = getBezierPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition });
  const problems = data?.diagnostics ?? [];
  const cls = `shape-edge${problems.length ? ' shape-edge--error' : ''}${selected ? ' shape-edge--selected' : ''}`;
  return (
    <>
      <BaseEdge id={id} path={path} className={cls} interactionWidth={16} />
      <EdgeLabelRenderer>
        <div
          className={`edge-label${problems.length ? ' edge-label--error' : ''}${selected ? ' edge-label--selected' : ''}`}
          style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
          data-testid={`edge-${id}`}
          data-edge-id={id}
          title={problems.map((d) => d.message).join('\n') || undefined}
        >
          {problems.length ? '⚠ ' : ''}
          {shapeText(data?.shape)}
        </div>
        {via.map((p, i) => (
          <Reroute key={i} edge={id} index={i} at={p} />
        ))}
      </EdgeLabelRenderer>
    </>
  );
}

export const ShapeEdge = memo(ShapeEdgeView);
