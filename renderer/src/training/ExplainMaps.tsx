// Inspect's explanations of one sample: a class activation map (Grad-CAM,
// Grad-CAM++ or HiResCAM, one gradient computed them all) of the predicted or a
// chosen class on the default or a chosen layer, over the input; the attention
// rollout over the patch grid; and the layer × head grid of attention
// matrices; with the attention panels' colour map and opacity and a colour bar
// for each.
import { useState } from 'react';
import type { Inspection } from '../../../common/host-api/api.js';
import { CAM_METHOD_NOTES } from '../../../engine/schemas/inspection.js';
import type { DrawOptions } from '../attention/MapCanvas.js';
import { ExplanationFigure } from '../attention/ExplanationFigure.js';
import { HeadGrid } from '../attention/HeadGrid.js';

type Explanations = NonNullable<Inspection['explanations']>;
type CamMethod = keyof NonNullable<Explanations['cam']>['maps'];
const CAM_LABELS: Record<CamMethod, string> = { gradcam: 'Grad-CAM', 'gradcam++': 'Grad-CAM++', hirescam: 'HiResCAM' };

function ExplainFigure({ r, ...figure }: Omit<React.ComponentProps<typeof ExplanationFigure>, 'underlay'> & { r: Inspection }) {
  return <ExplanationFigure {...figure} underlay={r.input.shape.length === 3 ? { shape: r.input.shape, data: r.input.data } : undefined} />;
}

/** What the maps explain: a class (null: the predicted one) on a layer ("NODE:PORT"; null: the default). */
export interface ExplainChoice {
  classIndex: number | null;
  layer: string | null;
}

const layerKey = (l: { nodeId: string; port: string }) => `${l.nodeId}:${l.port}`;

/** Which class and which layer the class activation maps are computed for. */
function CamChoice({ r, choice, onChoose }: { r: Inspection; choice: ExplainChoice; onChoose: (c: Partial<ExplainChoice>) => void }) {
  const cam = r.explanations?.cam;
  if (!cam) return null;
  return (
    <div className="inspect-explain-tools">
      <label>
        class
        <select
          value={choice.classIndex ?? ''}
          onChange={(e) => onChoose({ classIndex: e.target.value === '' ? null : Number(e.target.value) })}
          data-testid="inspect-explain-class"
        >
          <option value="">predicted ({r.classNames[cam.predicted] ?? cam.predicted})</option>
          {r.classNames.map((name, k) => (
            <option key={k} value={k}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <label title="Or click a layer on the canvas">
        layer
        <select value={choice.layer ?? ''} onChange={(e) => onChoose({ layer: e.target.value || null })} data-testid="inspect-explain-layer">
          <option value="">default</option>
          {cam.layers.map((l) => (
            <option key={layerKey(l)} value={layerKey(l)}>
              {l.nodeId}.{l.port}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}

export function ExplainMaps({
  r,
  opts,
  choice,
  onChoose,
}: {
  r: Inspection;
  opts: DrawOptions;
  choice: ExplainChoice;
  onChoose: (c: Partial<ExplainChoice>) => void;
}) {
  const [method, setMethod] = useState<CamMethod>('gradcam');
  const e = r.explanations;
  if (!e) return null;
  const { cam, rollout, grid } = e;
  return (
    <>
      <CamChoice r={r} choice={choice} onChoose={onChoose} />
      {cam && (
        <ExplainFigure
          testId="inspect-explain-cam"
          r={r}
          opts={opts}
          rows={cam.rows}
          cols={cam.cols}
          values={cam.maps[method]}
          caption={
            <>
              <select
                value={method}
                onChange={(ev) => setMethod(ev.target.value as CamMethod)}
                aria-label="explanation method"
                title={CAM_METHOD_NOTES[method]}
                data-testid="inspect-explain-method"
              >
                {(Object.keys(cam.maps) as CamMethod[]).map((m) => (
                  <option key={m} value={m} title={CAM_METHOD_NOTES[m]}>
                    {CAM_LABELS[m] ?? m}
                  </option>
                ))}
              </select>
              <span data-testid="inspect-explain-cam-what">
                of class <b>{r.classNames[cam.classIndex] ?? cam.classIndex}</b>
                {cam.classIndex === cam.predicted ? ' (predicted)' : ''} on <b>{cam.nodeId}</b>.{cam.port}
              </span>
              {method === 'gradcam++' && (
                <span className="hint" data-testid="inspect-explain-method-caveat">
                  {' '}
                  (no channel weight below 0: the map depends less than Grad-CAM's on the weights above the layer, and can fail the randomisation check)
                </span>
              )}
            </>
          }
        />
      )}
      {rollout && (
        <ExplainFigure
          testId="inspect-explain-rollout"
          r={r}
          opts={opts}
          rows={rollout.rows}
          cols={rollout.cols}
          values={rollout.map}
          caption={
            <>
              <b>Attention rollout</b> through {rollout.layers.map((l) => l.nodeId).join(' → ')}
            </>
          }
        />
      )}
      {grid && grid.length > 0 && (
        <HeadGrid layers={grid} colormap={opts.colormap} tokens={r.input.shape.length === 1 ? Array.from(r.input.data, String) : undefined} />
      )}
      {e.notes.length > 0 && (
        <div className="hint" data-testid="inspect-explain-notes">
          {e.notes.join(' · ')}
        </div>
      )}
    </>
  );
}
