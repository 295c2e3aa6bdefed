// Every diagnostic of the graph; clicking one selects and shows its node.
import { editor, useEditor } from '../editor.js';
import { canvasApi } from '../canvas/canvasApi.js';

export function ProblemsPanel() {
  const diagnostics = useEditor((s) => s.analysis.diagnostics);
  if (diagnostics.length === 0)
    return (
      <div className="problems-panel empty" data-testid="problems-panel">
        No problems: the graph compiles.
      </div>
    );
  return (
    <ul className="problems-panel" data-testid="problems-panel">
      {diagnostics.map((d, i) => (
        <li
          key={i}
          className={d.severity}
          data-testid="problem"
          onClick={() => {
            if (!d.nodeId) return;
            editor.getState().select([d.nodeId]);
            canvasApi.current?.focusNode(d.nodeId);
          }}
        >
          <span className="sev">{d.severity === 'error' ? '✕' : '!'}</span>
          {d.nodeId && <code>{d.nodeId}</code>}
          {d.port && <code className="port">{d.port}</code>}
          <span>{d.message}</span>
        </li>
      ))}
    </ul>
  );
}
