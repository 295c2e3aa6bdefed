// The attention panels: tiled side by side, each showing one attention output (or
// those of the selected node) for the chosen probe sample at the chosen step.
// They follow the newest snapshot while a run trains, freeze while it is paused,
// and a slider scrubs back through the snapshots of the run.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { AttentionMap, CaptionRecord, ProbeExplanation } from '../../../common/host-api/api.js';
import { useEditor } from '../editor.js';
import { observeSize } from '../resizeObserver.js';
import { loadSnapshot, session, useSession, type Snapshot } from '../training/session.js';
import { COLORMAPS, type ColormapName } from './colormaps.js';
import { ColourBar } from './ColourBar.js';
import { MapCanvas, type Underlay } from './MapCanvas.js';
import { tokenView } from './TokenHeads.js';
import { documentView, sentencesOf } from './ShadedDocument.js';
import { captionRowLabels, mapKey, range, sampleCount, sampleValues, viewOf, type MapView } from './maps.js';
import { sharedScales, stretchWarning, type Range, type ScaleMode } from './scale.js';
import {
  addPanel,
  attentionView,
  CAPTION_SOURCE,
  EXPLANATION_SOURCE,
  removePanel,
  tileAll,
  updatePanel,
  useAttentionView,
  type PanelSource,
  type PanelState,
} from './view.js';
import { ExplanationBody } from './ExplanationPanel.js';
import { CaptionFigure } from './CaptionFigure.js';
import './attention.css';

const KIND_LABEL = { spatial: 'spatial map', channel: 'channel weights', matrix: 'attention matrix', gate: 'gate values' } as const;

/** A node on the canvas owns the maps of its own id and, for composites, of the blocks inlined inside it. */
const ownedBy = (nodeId: string, m: AttentionMap) => m.nodeId === nodeId || m.nodeId.startsWith(`${nodeId}#`) || m.nodeId.startsWith(`${nodeId}/`);

/** The snapshot shown: the pinned step, or the newest. */
export function shownSnapshot(snapshots: Snapshot[], step: number | null): Snapshot | undefined {
  if (!snapshots.length) return undefined;
  if (step === null) return snapshots[snapshots.length - 1];
  return snapshots.find((s) => s.step === step) ?? snapshots.reduce((a, b) => (Math.abs(b.step - step) < Math.abs(a.step - step) ? b : a));
}

/** Pins the view when the run pauses and lets it follow again on resume. */
function useFreezeOnPause(): void {
  const state = useSession((s) => s.state);
  useEffect(() => {
    const v = attentionView.getState();
    if (state === 'paused' && v.step === null) {
      const last = session.getState().snapshots.at(-1);
      if (last) attentionView.setState({ step: last.step, pinnedByPause: true });
    } else if (state === 'running' && v.pinnedByPause) {
      attentionView.setState({ step: null, pinnedByPause: false });
    }
  }, [state]);
}

/** The height of an element, followed as it resizes (0 until it is laid out). */
function useHeight(): [React.RefCallback<HTMLDivElement>, number] {
  const [height, setHeight] = useState(0);
  const unobserve = useRef<(() => void) | null>(null);
  const ref = useCallback((el: HTMLDivElement | null) => {
    unobserve.current?.();
    unobserve.current = null;
    if (!el) return;
    setHeight(el.clientHeight);
    unobserve.current = observeSize(el, () => setHeight(el.clientHeight));
  }, []);
  return [ref, height];
}

function probeUnderlay(
  probes: { shape: number[]; samples: (Float32Array | Int32Array)[]; vocabulary?: string[] } | undefined,
  sample: number,
): { underlay?: Underlay; tokens?: string[]; words?: string[]; sentences?: { words: string[][]; shape: number[] } } {
  const x = probes?.samples[sample];
  if (!probes || !x) return {};
  if (probes.shape.length === 3) return { underlay: { shape: probes.shape, data: x } };
  if (probes.shape.length === 2 && x instanceof Int32Array && probes.vocabulary)
    return { sentences: { words: sentencesOf(x, probes.shape, probes.vocabulary), shape: probes.shape } };
  if (probes.shape.length === 1 && x instanceof Int32Array) {
    const vocab = probes.vocabulary;
    if (!vocab) return { tokens: Array.from(x, String) };
    // Text: padding (id 0) ends the message.
    const end = x.indexOf(0) < 0 ? x.length : x.indexOf(0);
    const words = Array.from(x.subarray(0, end), (id) => vocab[id] ?? '<unk>');
    return { tokens: Array.from(x, (id) => vocab[id] ?? '<unk>'), words };
  }
  return {};
}

/** Room for one panel's header and each figure's caption, colour bar and margins (px). */
const PANEL_CHROME = 44;
const FIGURE_CHROME = 76;
const BARS_HEIGHT = 120;
/** The least height a tiled map gets, even if the panel then scrolls: a 14×14 map at about 11 px a cell. */
const MIN_TILE_HEIGHT = 160;

/** The height each tiled map of a panel may take so the panel fits the dock without scrolling (but never under MIN_TILE_HEIGHT). */
function tileHeight(fit: number, views: readonly MapView[]): number | undefined {
  if (fit <= 0) return undefined;
  const tiled = views.filter((v) => v.draw === 'tiles').length;
  const bars = views.length - tiled;
  return Math.max(MIN_TILE_HEIGHT, (fit - PANEL_CHROME - views.length * FIGURE_CHROME - bars * BARS_HEIGHT) / Math.max(1, tiled));
}

interface FigureOptions {
  colormap: ColormapName;
  opacity: number;
  scale: ScaleMode;
}

/** One attention output for one probe sample: its caption, the map, its colour bar and, under a per-map scale, a warning when that scale stretches it. */
function MapFigure({
  m,
  maps,
  view,
  sample,
  panel,
  options,
  shared,
  probes,
  maxHeight,
}: {
  m: AttentionMap;
  /** The snapshot's maps: a document view pairs word and sentence attention. */
  maps: AttentionMap[];
  view: MapView;
  sample: number;
  panel: PanelState;
  options: FigureOptions;
  shared: Range | undefined;
  probes: ReturnType<typeof probeUnderlay>;
  maxHeight?: number;
}) {
  const own = sampleValues(m, sample);
  const scale: Range = options.scale === 'shared' && shared ? shared : range(own);
  const warning = options.scale === 'map' ? stretchWarning(own) : null;
  const testId = `attention-map-${m.nodeId}-${m.port}`;
  const drawOpts = { colormap: options.colormap, opacity: options.opacity, scale, sort: panel.sort, topK: panel.topK };
  const words = probes.sentences
    ? documentView({ m, maps, sample, sentences: probes.sentences.words, shape: probes.sentences.shape })
    : probes.words
      ? tokenView({ view, words: probes.words, length: probes.tokens!.length, range: scale, opts: drawOpts })
      : null;
  return (
    <figure className="attn-map" data-testid={testId}>
      <figcaption>
        <span className={`attention-tag attention-${m.kind}`}>{m.kind}</span> <b>{m.nodeId}</b>.{m.port}{' '}
        <span className="hint">
          {KIND_LABEL[m.kind]} [{m.fullShape.slice(1).join('×')}]{m.shape.join() !== m.fullShape.join() ? ' (downsampled)' : ''}
        </span>
        <span className="range">{options.scale === 'shared' ? 'shared scale' : 'own scale'}</span>
      </figcaption>
      {words ?? (
        <MapCanvas
          view={view}
          opts={drawOpts}
          underlay={m.kind === 'spatial' || m.kind === 'gate' ? probes.underlay : undefined}
          tokens={probes.tokens}
          maxHeight={maxHeight}
          testId="attention-canvas"
        />
      )}
      {!words && <ColourBar colormap={options.colormap} range={scale} testId={`${testId}-colour-bar`} />}
      {warning && (
        <div className="scale-warning" data-testid={`${testId}-scale-warning`} title="The per-map scale spreads this small range over the whole colour map">
          ⚠ {warning}
        </div>
      )}
    </figure>
  );
}

const EXPLANATION_LABEL = { gradcam: 'Grad-CAM', hirescam: 'HiResCAM', rollout: 'rollout' } as const;

/** The select's values for the explanation and the captions (no attention output's key is empty or starts with a space). */
const EXPLANATION_VALUE = ' explanation';
const CAPTION_VALUE = ' caption';

/** A panel's source as its select's value, and back. */
const sourceValue = (s: PanelSource) => ('follow' in s ? '' : 'key' in s ? s.key : 'explanation' in s ? EXPLANATION_VALUE : CAPTION_VALUE);
const sourceOf = (value: string): PanelSource =>
  value === EXPLANATION_VALUE ? EXPLANATION_SOURCE : value === CAPTION_VALUE ? CAPTION_SOURCE : value ? { key: value } : { follow: 'selection' };

function Panel({
  panel,
  maps,
  explanation,
  explained,
  caption,
  options,
  scales,
  sample,
  probes,
  fit,
}: {
  panel: PanelState;
  maps: AttentionMap[];
  explanation?: ProbeExplanation;
  /** A captioning model's probe captions at this step. */
  caption?: CaptionRecord;
  /** The sample the explanation is of, under its map. */
  explained: ReturnType<typeof probeUnderlay>;
  options: FigureOptions;
  /** The shared scale of each kind of map in the snapshot. */
  scales: Map<AttentionMap['kind'], Range>;
  sample: number;
  probes: ReturnType<typeof probeUnderlay>;
  /** The dock's height for panels (px); 0 before it is measured. */
  fit: number;
}) {
  const selected = useEditor((s) => (s.selection.nodes.size === 1 ? [...s.selection.nodes][0] : null));
  const classNames = useSession((s) => s.started?.classNames);
  const explains = 'explanation' in panel.source;
  const captions = 'caption' in panel.source;
  const shown =
    'follow' in panel.source
      ? selected
        ? maps.filter((m) => ownedBy(selected, m))
        : []
      : 'key' in panel.source
        ? maps.filter((m) => mapKey(m) === (panel.source as { key: string }).key)
        : [];
  // The caption decoder's attention reads as the probe sample's words, one tile each.
  const views = shown.map((m) => viewOf(m, sample, caption && mapKey(m) === mapKey(caption) ? captionRowLabels(caption, sample) : undefined));
  const maxHeight = explains || captions ? tileHeight(fit, [{ draw: 'tiles', kind: 'spatial', tiles: [] }]) : tileHeight(fit, views);
  // Runs whose probes explain nothing or write no captions (or older runs) keep the dock as it was.
  if ((explains && !explanation) || (captions && !caption)) return null;
  return (
    <section className="attn-panel" data-testid={`attention-panel-${panel.id}`}>
      <header>
        <select
          value={sourceValue(panel.source)}
          aria-label="attention output"
          data-testid={`attention-source-${panel.id}`}
          onChange={(e) => updatePanel(panel.id, { source: sourceOf(e.target.value) })}
        >
          <option value="">Selected node</option>
          {explanation && <option value={EXPLANATION_VALUE}>Explanation ({EXPLANATION_LABEL[explanation.method]})</option>}
          {caption && (
            <option value={CAPTION_VALUE}>
              Caption ({caption.nodeId} · {caption.port})
            </option>
          )}
          {maps.map((m) => (
            <option key={mapKey(m)} value={mapKey(m)}>
              {m.nodeId} · {m.port} ({m.kind})
            </option>
          ))}
        </select>
        <button className="icon" title="Close panel" onClick={() => removePanel(panel.id)}>
          ×
        </button>
      </header>
      {shown.some((m) => m.kind === 'channel' || m.kind === 'gate') && (
        <div className="attn-panel__tools">
          <label>
            sort
            <select value={panel.sort} onChange={(e) => updatePanel(panel.id, { sort: e.target.value as PanelState['sort'] })}>
              <option value="index">by index</option>
              <option value="value">by value</option>
            </select>
          </label>
          <label>
            top-k
            <input
              type="number"
              min={0}
              max={512}
              value={panel.topK}
              onChange={(e) => updatePanel(panel.id, { topK: Math.max(0, Number(e.target.value) || 0) })}
            />
          </label>
        </div>
      )}
      {explains && explanation && (
        <ExplanationBody e={explanation} classNames={classNames} underlay={explained.underlay} opts={options} maxHeight={maxHeight} />
      )}
      {captions && caption && (
        <CaptionFigure
          c={caption}
          sample={sample}
          underlay={probes.underlay}
          opts={options}
          scale={options.scale}
          maxHeight={maxHeight}
          testId="attention-caption"
          caption={
            <>
              <b>Caption</b> <span className="hint">· probe sample {sample}</span>
            </>
          }
        />
      )}
      {!explains && !captions && shown.length === 0 && (
        <div className="empty">
          {'follow' in panel.source
            ? selected
              ? 'The selected node has no attention output in this run.'
              : 'Select an attention node on the canvas, or pick an output above.'
            : 'No such output in this snapshot.'}
        </div>
      )}
      {shown.map((m, i) => (
        <MapFigure
          key={mapKey(m)}
          m={m}
          maps={maps}
          view={views[i]}
          sample={sample}
          panel={panel}
          options={options}
          shared={scales.get(m.kind)}
          probes={probes}
          maxHeight={maxHeight}
        />
      ))}
    </section>
  );
}

function SampleThumb({
  data,
  shape,
  active,
  onClick,
  index,
}: {
  data: Float32Array | Int32Array;
  shape: number[];
  active: boolean;
  onClick: () => void;
  index: number;
}) {
  const ref = useMemo(() => ({ current: null as HTMLCanvasElement | null }), []);
  useEffect(() => {
    const c = ref.current;
    if (!c || shape.length !== 3) return;
    const [h, w, ch] = shape;
    c.width = w;
    c.height = h;
    const ctx = c.getContext('2d')!;
    const img = ctx.createImageData(w, h);
    const [lo, hi] = range(data);
    for (let i = 0; i < h * w; i++) {
      for (let k = 0; k < 3; k++) img.data[i * 4 + k] = ((data[i * ch + (ch >= 3 ? k : 0)] - lo) / (hi - lo || 1)) * 255;
      img.data[i * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }, [data, shape, ref]);
  return (
    <button className={`sample-thumb${active ? ' active' : ''}`} onClick={onClick} title={`probe sample ${index}`} data-testid={`probe-sample-${index}`}>
      {shape.length === 3 ? <canvas ref={(el) => void (ref.current = el)} /> : <span>{index}</span>}
    </button>
  );
}

export function AttentionPanels() {
  useFreezeOnPause();
  const snapshots = useSession((s) => s.snapshots);
  const probes = useSession((s) => s.probes);
  const runState = useSession((s) => s.state);
  const v = useAttentionView((s) => s);
  const snap = shownSnapshot(snapshots, v.step);
  useEffect(() => {
    if (snap && !snap.maps) void loadSnapshot(snap.step);
  }, [snap]);
  const maps = useMemo(() => snap?.maps ?? [], [snap]);
  const samples = maps.length ? Math.max(...maps.map(sampleCount)) : 0;
  const sample = Math.min(v.sample, Math.max(0, samples - 1));
  const under = useMemo(() => probeUnderlay(probes, sample), [probes, sample]);
  const explanation = snap?.explanation;
  const caption = snap?.caption;
  const explained = useMemo(() => probeUnderlay(probes, explanation?.sample ?? 0), [probes, explanation?.sample]);
  const options = useMemo(() => ({ colormap: v.colormap, opacity: v.opacity, scale: v.scale }), [v.colormap, v.opacity, v.scale]);
  const scales = useMemo(() => sharedScales(maps), [maps]);
  const [tiles, fit] = useHeight();
  const index = snap ? snapshots.indexOf(snap) : -1;
  const frozen = runState === 'paused';

  return (
    <div className="attention-dock" data-testid="attention-panels">
      <div className="attn-toolbar">
        <span className="attn-toolbar__group">
          <b>Step</b>
          <input
            type="range"
            min={0}
            max={Math.max(0, snapshots.length - 1)}
            value={Math.max(0, index)}
            disabled={snapshots.length < 2}
            data-testid="attention-step"
            onChange={(e) => {
              const i = Number(e.target.value);
              attentionView.setState({ step: i >= snapshots.length - 1 && !frozen ? null : snapshots[i].step, pinnedByPause: false });
            }}
          />
          <span className="mono" data-testid="attention-step-label">
            {snap ? `${snap.step}` : '–'}
            {snapshots.length ? ` (${index + 1}/${snapshots.length})` : ''}
          </span>
          {v.step !== null && (
            <button
              onClick={() => attentionView.setState({ step: null, pinnedByPause: false })}
              title="Follow the newest snapshot"
              data-testid="attention-follow"
            >
              Latest
            </button>
          )}
          {frozen && (
            <span className="badge badge--warn" data-testid="attention-frozen">
              paused · frozen
            </span>
          )}
        </span>
        <span className="attn-toolbar__group">
          <b>Sample</b>
          {probes && probes.samples.length >= samples && samples > 0
            ? Array.from({ length: samples }, (_, i) => (
                <SampleThumb
                  key={i}
                  index={i}
                  data={probes.samples[i]}
                  shape={probes.shape}
                  active={i === sample}
                  onClick={() => attentionView.setState({ sample: i })}
                />
              ))
            : Array.from({ length: samples }, (_, i) => (
                <button
                  key={i}
                  className={`sample-thumb${i === sample ? ' active' : ''}`}
                  onClick={() => attentionView.setState({ sample: i })}
                  data-testid={`probe-sample-${i}`}
                >
                  {i}
                </button>
              ))}
        </span>
        <span className="attn-toolbar__group">
          <select
            value={v.colormap}
            onChange={(e) => attentionView.setState({ colormap: e.target.value as ColormapName })}
            aria-label="colour map"
            data-testid="attention-colormap"
          >
            {COLORMAPS.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
          <label title="Heat over the input image">
            opacity
            <input
              type="range"
              min={0}
              max={1}
              step={0.05}
              value={v.opacity}
              onChange={(e) => attentionView.setState({ opacity: Number(e.target.value) })}
              data-testid="attention-opacity"
            />
          </label>
          <select
            value={v.scale}
            onChange={(e) => attentionView.setState({ scale: e.target.value as ScaleMode })}
            aria-label="scale"
            data-testid="attention-scale"
            title="Shared: one scale from 0 for every map of a kind, so equal weights look equal. Per map: each map stretched over its own range."
          >
            <option value="shared">shared scale</option>
            <option value="map">per-map scale</option>
          </select>
        </span>
        <span className="attn-toolbar__group attn-toolbar__end">
          <button onClick={() => addPanel()} data-testid="attention-add-panel">
            + Panel
          </button>
          <button
            onClick={() => tileAll(maps.map(mapKey), !!explanation, !!caption)}
            disabled={!maps.length && !explanation}
            data-testid="attention-tile-all"
            title="One panel per attention output, and one for the explanation and the captions"
          >
            Tile all
          </button>
        </span>
      </div>
      {!snapshots.length ? (
        <div className="empty">No attention maps yet: they arrive while a run trains (at the probe rate), or open a past run from the Runs tab.</div>
      ) : (
        <div className="attn-tiles attn-tiles--fit" ref={tiles}>
          {v.panels.map((p) => (
            <Panel
              key={p.id}
              panel={p}
              maps={maps}
              explanation={explanation}
              explained={explained}
              caption={caption}
              options={options}
              scales={scales}
              sample={sample}
              probes={under}
              fit={fit}
            />
          ))}
        </div>
      )}
    </div>
  );
}
