// The dock's explanation: what the probes computed on the first probe sample at
// the shown step (Grad-CAM of the predicted class, or attention rollout), over
// that sample, with the dock's colour map, opacity and a colour bar.
import type { ProbeExplanation } from '../../../common/host-api/api.js';
import { ExplanationFigure } from './ExplanationFigure.js';
import type { Underlay } from './MapCanvas.js';
import type { ColormapName } from './colormaps.js';

export function ExplanationBody({
  e,
  classNames,
  underlay,
  opts,
  maxHeight,
}: {
  e: ProbeExplanation;
  classNames?: string[];
  underlay?: Underlay;
  opts: { colormap: ColormapName; opacity: number };
  maxHeight?: number;
}) {
  const what =
    e.method !== 'rollout' ? (
      <>
        <b>{e.method === 'gradcam' ? 'Grad-CAM' : 'HiResCAM'}</b> of class <b>{classNames?.[e.classIndex ?? -1] ?? e.classIndex}</b> (predicted) on{' '}
        <b>{e.layers[0]?.nodeId}</b>.{e.layers[0]?.port}
        {e.method === 'hirescam' && <span className="hint"> (Grad-CAM's averaged gradient left the map empty)</span>}
      </>
    ) : (
      <>
        <b>Attention rollout</b> through {e.layers.map((l) => l.nodeId).join(' → ')}
      </>
    );
  return (
    <ExplanationFigure
      testId="attention-explanation"
      caption={
        <>
          {what} <span className="hint">· probe sample {e.sample}</span>
        </>
      }
      rows={e.rows}
      cols={e.cols}
      values={e.data}
      underlay={underlay}
      opts={opts}
      maxHeight={maxHeight}
    />
  );
}
