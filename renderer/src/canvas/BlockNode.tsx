// Every block is drawn by this one component from its definition: typed ports
// with tooltips, its key parameters, output shapes, attention outputs by kind,
// and its problems. No block has UI code of its own.
import { memo } from 'react';
import { Handle, Position, type NodeProps } from '@xyflow/react';
import type { PortDef } from '../../../engine/blocks/contract.js';
import type { Diagnostic } from '../../../engine/graph/types.js';
import { registry } from '../../../engine/blocks/registry.js';
import { ATTENTION_LABEL, categoryHue, paramValueText, rankText, shapeText } from '../ui-format.js';
import type { BlockFlowNode } from './flowElements.js';
import { editor } from '../editor.js';
import { keyParamNames } from './nodeBox.js';

function portTooltip(port: PortDef, side: 'input' | 'output', shape: string | undefined, problems: Diagnostic[]): string {
  const lines = [`${port.name} (${side}${port.optional ? ', optional' : ''}) — ${port.doc}`];
  if (side === 'input') lines.push(`accepts ${rankText(port)}${port.dtype === 'int32' ? ', integer' : ''}`);
  if (shape) lines.push(`shape ${shape}`);
  if (port.attention) lines.push(`attention output: ${ATTENTION_LABEL[port.attention]}${port.axes ? ` (${port.axes})` : ''}`);
  for (const d of problems) lines.push(`⚠ ${d.message}`);
  return lines.join('\n');
}

/** A problem inside a composite, with the inner node it is on. */
const errorText = (d: Diagnostic) =>
  d.path && d.path.length > 1 ? `${d.path.slice(1).join(' › ')}: ${d.message.replace(/^(in composite "[^"]*"[^:]*: )+/, '')}` : d.message;

function BlockNodeView({ id, data, selected }: NodeProps<BlockFlowNode>) {
  const { node, info, diagnostics = [] } = data;
  const block = info?.block ?? registry.get(node.type);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const portProblems = (port: string) => diagnostics.filter((d) => d.port === port);
  const composite = info?.composite;
  const hue = categoryHue(block?.category ?? '');
  const params = info?.params ?? {};
  // A composite shows its repeat as a badge; a port node its port name.
  const keyParams = keyParamNames(block, !!composite);
  const attention = (info?.outputs ?? []).filter((p) => p.attention);
  const repeat = composite ? Number(params.repeat ?? 1) : 1;

  return (
    <div
      className={`block-node${selected ? ' selected' : ''}${errors.length ? ' has-error' : ''}${attention.length ? ' has-attention' : ''}${composite ? ' block-node--composite' : ''}${repeat > 1 ? ' block-node--repeated' : ''}${node.bypass ? ' block-node--bypassed' : ''}`}
      data-bypassed={node.bypass ? 'true' : undefined}
      style={{ '--hue': hue } as React.CSSProperties}
      data-testid={`node-${id}`}
      data-type={node.type}
    >
      <header className="block-node__header" title={block?.doc}>
        {composite && (
          <span className="composite-icon" title="A composite block: double-click (or Enter) to edit its inside">
            ▣
          </span>
        )}
        <span className="block-node__title">{node.label ?? block?.label ?? node.type}</span>
        {node.bypass && (
          <span className="bypass-badge" title="Bypassed: passes its input through unchanged (Ctrl+B restores it)">
            bypassed
          </span>
        )}
        {repeat > 1 && (
          <span className="repeat-badge" data-testid={`repeat-${id}`} title={`${repeat} copies in a chain`}>
            ×{repeat}
          </span>
        )}
        <span className="block-node__id">{id}</span>
        {errors.length > 0 && (
          <span className="error-badge" data-testid={`error-badge-${id}`} title={errors.map(errorText).join('\n')}>
            {errors.length}
          </span>
        )}
      </header>

      <div className="block-node__ports">
        <div className="block-node__inputs">
          {(info?.inputs ?? []).map((p) => {
            const problems = portProblems(p.name);
            return (
              <div
                key={p.name}
                className={`port port--in${problems.length ? ' port--error' : ''}`}
                data-testid={`port-${id}-in-${p.name}`}
                title={portTooltip(p, 'input', info?.inputShapes[p.name] && shapeText(info.inputShapes[p.name]), problems)}
              >
                <Handle
                  type="target"
                  position={Position.Left}
                  id={p.name}
                  className={`handle${problems.length ? ' handle--error' : ''}`}
                  data-testid={`handle-${id}-in-${p.name}`}
                />
                <span className="port__name">
                  {p.name}
                  {p.optional ? '?' : ''}
                </span>
                <span className="port__meta">{rankText(p).replace('rank ', 'r')}</span>
              </div>
            );
          })}
        </div>
        <div className="block-node__outputs">
          {(info?.outputs ?? []).map((p) => {
            const shape = info?.outputShapes?.[p.name];
            const problems = portProblems(p.name);
            return (
              <div
                key={p.name}
                className={`port port--out${p.attention ? ` port--attention attention-${p.attention}` : ''}${problems.length ? ' port--error' : ''}`}
                data-testid={`port-${id}-out-${p.name}`}
                data-attention={p.attention}
                title={portTooltip(p, 'output', shape && shapeText(shape), problems)}
              >
                {p.attention && <span className="attention-tag">{p.attention}</span>}
                <span className="port__shape" data-testid={`shape-${id}-${p.name}`}>
                  {shapeText(shape)}
                </span>
                <span className="port__name">{p.name}</span>
                <Handle type="source" position={Position.Right} id={p.name} className="handle" data-testid={`handle-${id}-out-${p.name}`} />
              </div>
            );
          })}
        </div>
      </div>

      {keyParams.length > 0 && (
        <div className="block-node__params">
          {keyParams.map((k) => (
            <div key={k} className={`kv${diagnostics.some((d) => d.param === k) ? ' kv--error' : ''}`} title={block?.params[k].doc}>
              <span className="kv__k">{block?.params[k].label ?? k}</span>
              <span className="kv__v">{paramValueText(node.params[k] ?? (params as Record<string, unknown>)[k])}</span>
            </div>
          ))}
        </div>
      )}

      {composite && (
        <div className="block-node__composite">
          <span>
            {composite.def.nodes.length} nodes inside · <code>{composite.id}</code>
          </span>
          <button
            className="nodrag"
            data-testid={`open-composite-${id}`}
            title="Edit the inside (every use changes)"
            onClick={() => editor.getState().enterComposite({ node: id })}
          >
            Open ▸
          </button>
        </div>
      )}

      {/* A badge hanging under the node, outside its box: the node keeps its size (nodeBox.ts), so it never grows into a neighbour. */}
      {errors.length > 0 && (
        <div className="block-node__error" data-testid={`node-error-${id}`} title={errors.map(errorText).join('\n')}>
          {errorText(errors[0])}
        </div>
      )}
    </div>
  );
}

export const BlockNode = memo(BlockNodeView);
