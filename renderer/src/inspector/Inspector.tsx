// The inspector shows what is selected: a node's parameters, label, problems
// and documentation; an edge's shape; or the graph's own properties.
import type { Diagnostic } from '../../../engine/graph/types.js';
import { paramApplies } from '../../../engine/blocks/contract.js';
import { editor, useEditor } from '../editor.js';
import { ParamField } from './ParamField.js';
import { BlockDocBody } from '../palette/BlockDoc.js';
import { shapeText } from '../ui-format.js';
import { CompositeSection } from './CompositeSection.js';
import { groupSelected } from '../canvas/CompositeChrome.js';
import { useParamCounts } from '../params/useParamCounts.js';
import { useFrozenNodes } from '../training/FineTuneSection.js';

export function Inspector() {
  const selection = useEditor((s) => s.selection);
  const nodeIds = [...selection.nodes];
  const edgeIds = [...selection.edges];
  return (
    <aside className="inspector" data-testid="inspector">
      <div className="panel-title">Inspector</div>
      {nodeIds.length === 1 ? (
        <NodeInspector id={nodeIds[0]} />
      ) : nodeIds.length > 1 ? (
        <MultiInspector count={nodeIds.length} edges={edgeIds.length} />
      ) : edgeIds.length === 1 ? (
        <EdgeInspector id={edgeIds[0]} />
      ) : (
        <GraphInspector />
      )}
    </aside>
  );
}

function Problems({ list, testid }: { list: Diagnostic[]; testid: string }) {
  if (list.length === 0) return null;
  return (
    <ul className="problems" data-testid={testid}>
      {list.map((d, i) => (
        <li key={i} className={d.severity}>
          {d.port && <code>{d.port}</code>} {d.message}
        </li>
      ))}
    </ul>
  );
}

function NodeInspector({ id }: { id: string }) {
  const node = useEditor((s) => s.view.graph.nodes.find((n) => n.id === id));
  const info = useEditor((s) => s.view.analysis.nodes.get(id));
  const diagnostics = useEditor((s) => s.view.diagnostics.byNode.get(id)) ?? [];
  if (!node || !info) return <div className="empty">Unknown node</div>;
  const block = info.block;
  const byParam = (k: string) => diagnostics.find((d) => d.param === k)?.message.replace(/^parameter "[^"]+" /, '');
  // Only the parameters that apply (an Input of kind "tokens" has no height); one with a problem stays in view.
  const shown = Object.entries(block.params).filter(([k, def]) => paramApplies(def, info.params) || byParam(k) !== undefined);
  return (
    <div className="inspector__body" data-testid={`inspector-node-${id}`}>
      <div className="inspector__head">
        <div className="inspector__type">{block.label}</div>
        <code>{node.type}</code>
      </div>
      <div className="field">
        <label htmlFor="node-label">Label</label>
        <input
          id="node-label"
          type="text"
          key={id}
          defaultValue={node.label ?? ''}
          placeholder={block.label}
          data-testid="node-label"
          onChange={(e) => editor.getState().setLabel(id, e.target.value)}
          onBlur={() => editor.getState().seal()}
        />
        <div className="field__help">
          id <code>{id}</code>
        </div>
      </div>
      <Problems list={diagnostics.filter((d) => !d.param)} testid="inspector-problems" />
      {info.composite && <CompositeSection id={info.composite.id} nodeId={id} />}
      <div className="section-title">Parameters</div>
      {shown.map(([k, def]) => (
        <ParamField key={`${id}:${k}`} block={block} nodeId={id} name={k} def={def} value={node.params[k]} stored={byParam(k)} />
      ))}
      {shown.length === 0 && <div className="empty">No parameters</div>}
      <FineTuneCounts id={id} />
      <div className="section-title">Shapes</div>
      <table className="shapes" data-testid="inspector-shapes">
        <tbody>
          {info.inputs.map((p) => (
            <tr key={`in-${p.name}`}>
              <td>▸ {p.name}</td>
              <td>{shapeText(info.inputShapes[p.name])}</td>
            </tr>
          ))}
          {info.outputs.map((p) => (
            <tr key={`out-${p.name}`}>
              <td>◂ {p.name}</td>
              <td data-testid={`inspector-shape-${p.name}`}>{shapeText(info.outputShapes?.[p.name])}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="section-title">About</div>
      <div className="doc" data-testid="inspector-doc">
        <BlockDocBody block={block} />
      </div>
    </div>
  );
}

/**
 * Trainable and frozen parameters of a node or composite, when fine-tuning (the
 * Training form's Freeze and LR multipliers) freezes some of it. Inside an
 * opened composite, a node's counts are over every use of the composite.
 */
function FineTuneCounts({ id }: { id: string }) {
  const inside = useEditor((s) => s.view.scope[s.view.scope.length - 1]);
  const graph = useEditor((s) => s.graph);
  const analysis = useEditor((s) => s.analysis);
  // Of the weights a gradient trains (BatchNorm's moving statistics never train).
  const counts = useParamCounts(graph, analysis).trainable;
  const frozenNode = useFrozenNodes();
  const all = counts(id, undefined, inside);
  const frozen = counts(id, frozenNode, inside);
  if (all === undefined || !frozen) return null;
  return (
    <div className="field__help" data-testid="inspector-fine-tune">
      Fine-tuning{inside !== undefined && ' (every use of this composite)'}:{' '}
      <span data-testid="inspector-trainable">{(all - frozen).toLocaleString('en-US')}</span> trainable ·{' '}
      <span data-testid="inspector-frozen">{frozen.toLocaleString('en-US')}</span> frozen parameters
    </div>
  );
}

function EdgeInspector({ id }: { id: string }) {
  const index = useEditor((s) => s.view.graph.edges.findIndex((e) => e.id === id));
  const edge = useEditor((s) => s.view.graph.edges[index]);
  const shape = useEditor((s) => s.view.analysis.edgeShapes[index]);
  const problems = useEditor((s) => s.view.diagnostics.byEdge.get(id)) ?? [];
  if (!edge) return null;
  return (
    <div className="inspector__body" data-testid={`inspector-edge-${id}`}>
      <div className="inspector__head">
        <div className="inspector__type">Connection</div>
        <code>{id}</code>
      </div>
      <p>
        <code>
          {edge.from.node}.{edge.from.port}
        </code>{' '}
        →{' '}
        <code>
          {edge.to.node}.{edge.to.port}
        </code>
      </p>
      <p>
        carries <strong>{shapeText(shape)}</strong>
      </p>
      <Problems list={problems} testid="inspector-problems" />
      <button onClick={() => editor.getState().deleteElements([], [id])}>Delete connection</button>
    </div>
  );
}

function MultiInspector({ count, edges }: { count: number; edges: number }) {
  return (
    <div className="inspector__body" data-testid="inspector-multi">
      <p>
        {count} nodes{edges ? ` and ${edges} connections` : ''} selected.
      </p>
      <div className="button-row">
        <button onClick={() => editor.getState().duplicate()}>Duplicate</button>
        <button onClick={() => editor.getState().deleteSelection()}>Delete</button>
        <button onClick={groupSelected} data-testid="group-selection" title="Make the selected nodes one composite block (Ctrl+G)">
          Group into composite
        </button>
      </div>
    </div>
  );
}

function GraphInspector() {
  const name = useEditor((s) => s.graph.name);
  const general = useEditor((s) => s.diagnostics.general);
  const counts = useEditor((s) => `${s.graph.nodes.length} nodes · ${s.graph.edges.length} connections`);
  return (
    <div className="inspector__body" data-testid="inspector-graph">
      <div className="field">
        <label htmlFor="graph-name">Model name</label>
        <input
          id="graph-name"
          type="text"
          value={name}
          data-testid="graph-name"
          onChange={(e) => editor.getState().rename(e.target.value)}
          onBlur={() => editor.getState().seal()}
        />
        <div className="field__help">{counts}</div>
      </div>
      <Problems list={general} testid="inspector-problems" />
      <p className="hint">Select a node to edit its parameters. Press Space over the canvas to add a block, F1 for shortcuts.</p>
    </div>
  );
}
