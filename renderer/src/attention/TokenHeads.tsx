// Attention over the words of a text: a 1-D map shades the message's words
// (Yang et al.'s figure); a multi-head map shows each head on its own, labelled
// with the words — token-to-token matrices cropped to the message (BertViz's
// head view), or the words shaded once per head for attention pooling.
import { useMemo, type ReactElement } from 'react';
import { MapCanvas, type DrawOptions } from './MapCanvas.js';
import { range, type MapView, type Tile } from './maps.js';

/** Most words a token-to-token matrix shows (MapCanvas labels up to 40 columns). */
export const MAX_MATRIX_WORDS = 40;

/** A message's words, each shaded by the attention it got. */
export function ShadedWords({
  words,
  weights,
  range: [lo, hi],
  testId = 'attention-words',
}: {
  words: string[];
  weights: ArrayLike<number>;
  range: [number, number];
  testId?: string;
}) {
  return (
    <p className="shaded-words" data-testid={testId}>
      {words.map((w, i) => {
        const a = hi > lo ? (weights[i] - lo) / (hi - lo) : 0;
        return (
          <span
            key={i}
            className="shaded-word"
            style={{ background: `rgba(255, 140, 0, ${a.toFixed(3)})` }}
            title={`${w}: ${Number(weights[i]).toPrecision(3)}`}
            data-weight={weights[i]}
          >
            {w}
          </span>
        );
      })}
    </p>
  );
}

/** The top-left rows × cols of a tile. */
export function cropTile(t: Tile, rows: number, cols: number): Tile {
  const values = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) values.set(t.values.subarray(r * t.cols, r * t.cols + cols), r * cols);
  return { rows, cols, values, label: t.label };
}

export interface TokenViewProps {
  view: MapView;
  /** The message's words (padding left out). */
  words: string[];
  /** The input's length in tokens, padding included: a map over tokens has this many positions. */
  length: number;
  /** The value range a 1-D map is shaded over. */
  range: [number, number];
  opts: DrawOptions;
}

/** The words of a text shaded or labelled by a map over its tokens, or null when the map is not over them. */
export function tokenView({ view, words, length, range: lohi, opts }: TokenViewProps): ReactElement | null {
  if (view.draw === 'bars') return view.values.length === length ? <ShadedWords words={words} weights={view.values} range={lohi} /> : null;
  const tiles = view.tiles;
  if (!tiles.length || tiles.some((t) => t.cols !== length)) return null;
  if (tiles.every((t) => t.rows === 1)) return <PooledHeads tiles={tiles} words={words} />;
  if (tiles.every((t) => t.rows === length)) return <TokenHeads tiles={tiles} words={words} opts={opts} />;
  return null;
}

/** Attention pooling with several heads: the words shaded once per head, each on its own scale. */
function PooledHeads({ tiles, words }: { tiles: Tile[]; words: string[] }) {
  return (
    <div className="token-heads" data-testid="token-heads">
      {tiles.map((t, h) => (
        <div key={h} data-testid={`token-head-${h}`}>
          <span className="hint">{t.label ?? `head ${h}`}</span>
          <ShadedWords words={words} weights={t.values} range={range(t.values.subarray(0, words.length))} testId={`token-head-words-${h}`} />
        </div>
      ))}
    </div>
  );
}

/** Each head's token-to-token weights over the message's words (the first MAX_MATRIX_WORDS), rows attending to columns. */
export function TokenHeads({ tiles, words, opts }: { tiles: Tile[]; words: string[]; opts: DrawOptions }) {
  const n = Math.max(1, Math.min(words.length, MAX_MATRIX_WORDS));
  const shown = useMemo(() => words.slice(0, n), [words, n]);
  const views = useMemo(() => tiles.map((t): MapView => ({ draw: 'tiles', kind: 'matrix', tiles: [{ ...cropTile(t, n, n), label: undefined }] })), [tiles, n]);
  const own = useMemo(() => ({ ...opts, scale: null }), [opts]);
  return (
    <div className="token-heads" data-testid="token-heads">
      {words.length > n && (
        <span className="hint">
          the first {n} of {words.length} words
        </span>
      )}
      {tiles.map((t, h) => (
        <div key={h} data-testid={`token-head-${h}`} data-words={shown.join(' ')}>
          <span className="hint">{t.label ?? `head ${h}`}</span>
          <MapCanvas view={views[h]} opts={own} tokens={shown} testId={`token-head-canvas-${h}`} />
        </div>
      ))}
    </div>
  );
}
