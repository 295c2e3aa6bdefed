// One explanation map (Grad-CAM, rollout) over the input it explains: drawn
// with the attention panels' colour map and opacity, on its own range (its
// values are not attention weights, so no shared scale applies), with the
// colour bar of that range. Inspect and the dock's explanation panel draw it.
import { useMemo } from 'react';
import { ColourBar } from './ColourBar.js';
import { MapCanvas, type DrawOptions, type Underlay } from './MapCanvas.js';
import { range, type MapView } from './maps.js';

export function ExplanationFigure({
  testId,
  caption,
  rows,
  cols,
  values,
  underlay,
  opts,
  maxHeight,
}: {
  testId: string;
  caption: React.ReactNode;
  rows: number;
  cols: number;
  values: Float32Array;
  /** The input explained, when it is an image [H, W, C]. */
  underlay?: Underlay;
  opts: Pick<DrawOptions, 'colormap' | 'opacity'>;
  maxHeight?: number;
}) {
  const scale = useMemo(() => range(values), [values]);
  const view = useMemo<MapView>(() => ({ draw: 'tiles', kind: 'spatial', tiles: [{ rows, cols, values }] }), [rows, cols, values]);
  const drawOpts = useMemo<DrawOptions>(
    () => ({ colormap: opts.colormap, opacity: opts.opacity, scale, sort: 'index', topK: 0 }),
    [opts.colormap, opts.opacity, scale],
  );
  return (
    <figure className="attn-map" data-testid={testId}>
      <figcaption>{caption}</figcaption>
      <MapCanvas view={view} opts={drawOpts} underlay={underlay} maxHeight={maxHeight} testId={`${testId}-canvas`} />
      <ColourBar colormap={opts.colormap} range={scale} testId={`${testId}-colour-bar`} />
    </figure>
  );
}
