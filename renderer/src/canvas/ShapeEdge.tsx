// A wire labelled with the tensor shape it carries; red, with the reason on
// hover, when the analysis blames it.
import { memo } from 'react';
import { BaseEdge, EdgeLabelRenderer, getBezierPath, type EdgeProps } from '@xyflow/react';
import { shapeText } from '../ui-format.js';
import type { ShapeFlowEdge } from './flowElements.js';

function ShapeEdgeView({ id, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, data, selected }: EdgeProps<ShapeFlowEdge>) {
  const [path, labelX, labelY] = getBezierPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition });
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
          title={problems.map((d) => d.message).join('\n') || undefined}
        >
          {problems.length ? '⚠ ' : ''}
          {shapeText(data?.shape)}
        </div>
      </EdgeLabelRenderer>
    </>
  );
}

export const ShapeEdge = memo(ShapeEdgeView);
