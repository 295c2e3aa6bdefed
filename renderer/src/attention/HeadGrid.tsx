// The layer × head grid (BertViz's model view): every attention matrix of one
// sample as a small map, a row per attention layer and a column per head, on
// one shared scale; a click zooms into one head.
import { useMemo, useState } from 'react';
import { ColourBar } from './ColourBar.js';
import type { ColormapName } from './colormaps.js';
import { MapCanvas } from './MapCanvas.js';
import { sharedScale } from './scale.js';

export interface HeadLayer {
  nodeId: string;
  port: string;
  heads: number;
  queries: number;
  keys: number;
  /** [heads, queries, keys] */
  data: Float32Array;
}

const headValues = (l: HeadLayer, h: number) => l.data.subarray(h * l.queries * l.keys, (h + 1) * l.queries * l.keys);

export function HeadGrid({ layers, colormap, tokens }: { layers: HeadLayer[]; colormap: ColormapName; tokens?: string[] }) {
  const [zoom, setZoom] = useState<{ layer: number; head: number } | null>(null);
  const scale = useMemo(() => sharedScale(layers.map((l) => l.data)), [layers]);
  const heads = Math.max(...layers.map((l) => l.heads));
  const opts = { colormap, opacity: 1, scale, sort: 'index' as const, topK: 0 };
  const zoomed = zoom && layers[zoom.layer];
  return (
    <figure className="attn-map head-grid" data-testid="inspect-head-grid">
      <figcaption>
        <b>Layer × head</b> <span className="hint">every attention matrix (query rows, key columns); click one to zoom</span>
      </figcaption>
      <div className="head-grid__cells" style={{ gridTemplateColumns: `auto repeat(${heads}, minmax(36px, 96px))` }}>
        <span />
        {Array.from({ length: heads }, (_, h) => (
          <span key={h} className="head-grid__label">
            head {h}
          </span>
        ))}
        {layers.map((l, li) => (
          <HeadRow key={`${l.nodeId}.${l.port}`} layer={l} index={li} heads={heads} opts={opts} zoom={zoom} onZoom={setZoom} />
        ))}
      </div>
      <ColourBar colormap={colormap} range={scale} testId="inspect-head-grid-colour-bar" />
      {zoomed && zoom.head < zoomed.heads && (
        <div className="head-grid__zoom" data-testid="inspect-head-zoom">
          <div className="hint">
            {zoomed.nodeId}.{zoomed.port} · head {zoom.head}
          </div>
          <MapCanvas
            view={{ draw: 'tiles', kind: 'matrix', tiles: [{ rows: zoomed.queries, cols: zoomed.keys, values: headValues(zoomed, zoom.head) }] }}
            opts={opts}
            tokens={tokens}
            maxHeight={360}
          />
        </div>
      )}
    </figure>
  );
}

function HeadRow({
  layer,
  index,
  heads,
  opts,
  zoom,
  onZoom,
}: {
  layer: HeadLayer;
  index: number;
  heads: number;
  opts: React.ComponentProps<typeof MapCanvas>['opts'];
  zoom: { layer: number; head: number } | null;
  onZoom: (z: { layer: number; head: number }) => void;
}) {
  const views = useMemo(
    () =>
      Array.from({ length: layer.heads }, (_, h) => ({
        draw: 'tiles' as const,
        kind: 'matrix' as const,
        tiles: [{ rows: layer.queries, cols: layer.keys, values: headValues(layer, h) }],
      })),
    [layer],
  );
  return (
    <>
      <span className="head-grid__label" title={`${layer.nodeId}.${layer.port}`}>
        layer {index + 1} <span className="hint">{layer.nodeId}</span>
      </span>
      {Array.from({ length: heads }, (_, h) =>
        h < layer.heads ? (
          <button
            key={h}
            className={`head-grid__cell${zoom?.layer === index && zoom.head === h ? ' active' : ''}`}
            title={`${layer.nodeId}.${layer.port}, head ${h}`}
            data-testid={`inspect-head-${index}-${h}`}
            onClick={() => onZoom({ layer: index, head: h })}
          >
            <MapCanvas view={views[h]} opts={opts} maxHeight={96} />
          </button>
        ) : (
          <span key={h} />
        ),
      )}
    </>
  );
}
