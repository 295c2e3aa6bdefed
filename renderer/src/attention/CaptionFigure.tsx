// A caption with its attention, the figure of Show, Attend and Tell: the words
// the decoder wrote in a row and, under them, each word's map over the image,
// all side by side; hovering a word shows its map alone, clicking pins it.
// Drawn with the dock's colour map and opacity; the shared scale is one range
// from 0 for every word (so equal weights look equal), the per-map scale
// stretches what is shown. The dock's caption panel and Inspect draw it.
import { useMemo, useState } from 'react';
import { wordMap, type CaptionRecord } from '../../../common/host-api/api.js';
import { ColourBar } from './ColourBar.js';
import { MapCanvas, type DrawOptions, type Underlay } from './MapCanvas.js';
import { range, type MapView, type Tile } from './maps.js';
import { sharedScale, type Range, type ScaleMode } from './scale.js';

/** Every word map of every sample in the record: what the shared scale spans. */
const writtenMaps = (c: CaptionRecord) => c.words.flatMap((words, s) => words.map((_, t) => wordMap(c, s, t)));

/** The tightest range over several maps. */
function ownRange(tiles: readonly Tile[]): Range {
  const ends = tiles.map((t) => range(t.values));
  return ends.length ? [Math.min(...ends.map((e) => e[0])), Math.max(...ends.map((e) => e[1]))] : [0, 1];
}

export function CaptionFigure({
  c,
  sample,
  underlay,
  opts,
  scale = 'shared',
  maxHeight,
  testId,
  caption,
}: {
  c: CaptionRecord;
  sample: number;
  /** The image captioned [H, W, C]. */
  underlay?: Underlay;
  opts: Pick<DrawOptions, 'colormap' | 'opacity'>;
  scale?: ScaleMode;
  maxHeight?: number;
  testId: string;
  /** What the figure is of, before the words. */
  caption?: React.ReactNode;
}) {
  const [pinned, setPinned] = useState<number | null>(null);
  const [hovered, setHovered] = useState<number | null>(null);
  const s = Math.min(sample, c.words.length - 1);
  const words = useMemo(() => c.words[s] ?? [], [c, s]);
  const truth = c.truth?.[s];
  const shown = hovered ?? (pinned !== null && pinned < words.length ? pinned : null);
  const tiles = useMemo<Tile[]>(() => words.map((w, t) => ({ rows: c.rows, cols: c.cols, values: wordMap(c, s, t), label: `${t + 1} ${w}` })), [c, s, words]);
  const shared = useMemo(() => sharedScale(writtenMaps(c)), [c]);
  const view = useMemo<MapView>(() => ({ draw: 'tiles', kind: 'spatial', tiles: shown === null ? tiles : [tiles[shown]] }), [tiles, shown]);
  const span = useMemo(() => (scale === 'shared' ? shared : ownRange(view.draw === 'tiles' ? view.tiles : [])), [scale, shared, view]);
  const drawOpts = useMemo<DrawOptions>(
    () => ({ colormap: opts.colormap, opacity: opts.opacity, scale: span, sort: 'index', topK: 0 }),
    [opts.colormap, opts.opacity, span],
  );
  const said = words.filter((w) => w !== '<end>').join(' ');
  return (
    <figure className="attn-map caption-figure" data-testid={testId} data-shown={shown ?? 'all'}>
      <figcaption>
        {caption}{' '}
        <span className="hint">
          {c.nodeId}.{c.port} · each word's attention over the {c.rows}×{c.cols} grid
        </span>
      </figcaption>
      <div className="caption-words" data-testid={`${testId}-words`} data-words={words.join(' ')} onMouseLeave={() => setHovered(null)}>
        <button
          className={`caption-word caption-word--all${shown === null ? ' active' : ''}`}
          onClick={() => setPinned(null)}
          title="Every word's map, side by side"
        >
          all
        </button>
        {words.map((w, t) => (
          <button
            key={t}
            className={`caption-word${shown === t ? ' active' : ''}${w === '<end>' ? ' caption-word--end' : ''}`}
            onMouseEnter={() => setHovered(t)}
            onClick={() => setPinned(pinned === t ? null : t)}
            title={`Where the decoder looked to write “${w}” (click to keep it)`}
            data-testid={`${testId}-word-${t}`}
          >
            {w}
          </button>
        ))}
      </div>
      {truth && (
        <div className="hint" data-testid={`${testId}-truth`}>
          true: <b>{truth.join(' ')}</b> <span className={truth.join(' ') === said ? 'good' : 'bad'}>{truth.join(' ') === said ? '✓' : '✗'}</span>
        </div>
      )}
      <MapCanvas view={view} opts={drawOpts} underlay={underlay} maxHeight={maxHeight} testId={`${testId}-canvas`} />
      <ColourBar colormap={opts.colormap} range={span} testId={`${testId}-colour-bar`} />
    </figure>
  );
}
