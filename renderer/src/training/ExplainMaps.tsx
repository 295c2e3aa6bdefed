// Inspect's explanations of one sample: a class activation map (Grad-CAM,
// Grad-CAM++ or HiResCAM, one gradient computed them all) over the input, and
// the attention rollout over the patch grid, with the attention panels' colour
// map and opacity and a colour bar for each.
import { useState } from 'react';
import type { Inspection } from '../../../common/host-api/api.js';
import { MapCanvas, type DrawOptions } from '../attention/MapCanvas.js';
import { ColourBar } from '../attention/ColourBar.js';
import { range } from '../attention/maps.js';

type Explanations = NonNullable<Inspection['explanations']>;
type CamMethod = keyof NonNullable<Explanations['cam']>['maps'];
const CAM_LABELS: Record<CamMethod, string> = { gradcam: 'Grad-CAM', 'gradcam++': 'Grad-CAM++', hirescam: 'HiResCAM' };

function ExplainFigure({
  testId,
  caption,
  rows,
  cols,
  values,
  r,
  opts,
}: {
  testId: string;
  caption: React.ReactNode;
  rows: number;
  cols: number;
  values: Float32Array;
  r: Inspection;
  opts: DrawOptions;
}) {
  const image = r.input.shape.length === 3;
  return (
    <figure className="attn-map" data-testid={testId}>
      <figcaption>{caption}</figcaption>
      <MapCanvas
        view={{ draw: 'tiles', kind: 'spatial', tiles: [{ rows, cols, values }] }}
        opts={opts}
        underlay={image ? { shape: r.input.shape, data: r.input.data } : undefined}
      />
      <ColourBar colormap={opts.colormap} range={range(values)} testId={`${testId}-colour-bar`} />
    </figure>
  );
}

export function ExplainMaps({ r, opts }: { r: Inspection; opts: DrawOptions }) {
  const [method, setMethod] = useState<CamMethod>('gradcam');
  const e = r.explanations;
  if (!e) return null;
  const { cam, rollout } = e;
  return (
    <>
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
                data-testid="inspect-explain-method"
              >
                {(Object.keys(cam.maps) as CamMethod[]).map((m) => (
                  <option key={m} value={m}>
                    {CAM_LABELS[m] ?? m}
                  </option>
                ))}
              </select>
              of class <b>{r.classNames[cam.classIndex] ?? cam.classIndex}</b> on <b>{cam.nodeId}</b>.{cam.port}
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
      {e.notes.length > 0 && (
        <div className="hint" data-testid="inspect-explain-notes">
          {e.notes.join(' · ')}
        </div>
      )}
    </>
  );
}
