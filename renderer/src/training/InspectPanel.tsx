// Inspect after training: one validation sample (or an image dropped in)
// through the run's checkpoint — the prediction with its class probabilities,
// every attention map and, with "Explain" on, its explanations (computed only
// then: a backward pass costs seconds on a large model).
import { useEffect, useMemo, useRef, useState } from 'react';
import type { Inspection } from '../../../common/host-api/api.js';
import { host } from '../host/host.js';
import { MapCanvas, type DrawOptions } from '../attention/MapCanvas.js';
import { tokenView } from '../attention/TokenHeads.js';
import { documentView } from '../attention/ShadedDocument.js';
import { besideCaption, mapKey, range, viewOf } from '../attention/maps.js';
import { useAttentionView } from '../attention/view.js';
import { CaptionFigure } from '../attention/CaptionFigure.js';
import { isLive, useSession } from './session.js';
import { ChooseImageButton, readImageFile, useFileDrop } from './ImageDrop.js';
import { ExplainMaps, type ExplainChoice } from './ExplainMaps.js';
import { useEditor } from '../editor.js';

type Target = { index: number } | { file: File } | { text: string };

/** The CAM layer ("NODE:PORT") a node clicked on the canvas stands for: its own, or for a composite the last one inside it. */
function layerOf(nodeId: string, layers: readonly { nodeId: string; port: string }[]): string | undefined {
  const own = layers.filter((l) => l.nodeId === nodeId || l.nodeId.startsWith(`${nodeId}#`) || l.nodeId.startsWith(`${nodeId}/`));
  const l = own.find((x) => x.nodeId === nodeId) ?? own.at(-1);
  return l && `${l.nodeId}:${l.port}`;
}

function Probabilities({ probs, classNames, label }: { probs: Float32Array; classNames: string[]; label: number }) {
  const order = Array.from(probs, (p, i) => [p, i] as const).sort((a, b) => b[0] - a[0]);
  return (
    <ol className="probs" data-testid="inspect-probs">
      {order.slice(0, 10).map(([p, i], rank) => (
        <li key={i} className={`${i === label ? 'truth' : ''}${rank === 0 ? ' top' : ''}`}>
          <span className="probs__name">{classNames[i] ?? i}</span>
          <span className="probs__bar">
            <span style={{ width: `${(p * 100).toFixed(1)}%` }} />
          </span>
          <span className="num">{(p * 100).toFixed(1)}%</span>
        </li>
      ))}
    </ol>
  );
}

/** The image as dropped, beside what the model saw (fitted to its input). */
function DroppedImage({ r, url }: { r: Inspection; url: string | null }) {
  if (!r.image) return null;
  return (
    <figure className="inspect-dropped" data-testid="inspect-dropped">
      {url && <img src={url} alt={r.image.name} />}
      <figcaption className="hint">
        {r.image.name} · {r.image.width}×{r.image.height} → {r.input.shape.join('×')}
      </figcaption>
    </figure>
  );
}

function InputView({ r }: { r: Inspection }) {
  const view = useMemo(() => {
    if (r.input.shape.length !== 3) return null;
    const data = r.input.data instanceof Float32Array ? r.input.data : Float32Array.from(r.input.data);
    const [h, w] = r.input.shape;
    // The input image drawn with the grey colour map.
    return {
      draw: 'tiles' as const,
      kind: 'spatial' as const,
      tiles: [
        {
          rows: h,
          cols: w,
          values: r.input.shape[2] === 1 ? data : Float32Array.from({ length: h * w }, (_, i) => (data[i * 3] + data[i * 3 + 1] + data[i * 3 + 2]) / 3),
        },
      ],
    };
  }, [r]);
  if (!view) return <div className="mono inspect-tokens">{r.words ? r.words.join(' ') : Array.from(r.input.data).join(' ')}</div>;
  return <MapCanvas view={view} opts={{ colormap: 'gray', opacity: 1, scale: null, sort: 'index', topK: 0 }} testId="inspect-input" />;
}

export function InspectPanel() {
  const runId = useSession((s) => s.runId);
  const state = useSession((s) => s.state);
  const source = useSession((s) => s.source);
  const checkpoints = useSession((s) => s.checkpoints);
  const colormap = useAttentionView((s) => s.colormap);
  const opacity = useAttentionView((s) => s.opacity);
  const scale = useAttentionView((s) => s.scale);
  const [index, setIndex] = useState(0);
  const [checkpoint, setCheckpoint] = useState('');
  const [result, setResult] = useState<Inspection | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [typed, setTyped] = useState('');
  const textRun = useSession((s) => !!s.probes?.vocabulary);
  /** The dropped image as a data: URL (the browser mode's CSP has no blob: images). */
  const [droppedUrl, setDroppedUrl] = useState<string | null>(null);
  const [explainOn, setExplainOn] = useState(false);
  const [choice, setChoice] = useState<ExplainChoice>({ classIndex: null, layer: null });
  const last = useRef<Target | null>(null);
  const selected = useEditor((s) => (s.selection.nodes.size === 1 ? [...s.selection.nodes][0] : null));
  const live = isLive({ state, source });
  const opts: DrawOptions = { colormap, opacity, scale: null, sort: 'index', topK: 8 };

  const run = async (ask: () => Promise<{ r: Inspection; url?: string }>) => {
    setBusy(true);
    setError(null);
    try {
      const { r, url } = await ask();
      setResult(r);
      if (r.index >= 0) setIndex(r.index);
      setDroppedUrl(url ?? null);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const at = checkpoint ? { checkpoint } : {};
  /** The request's explanation options: none while "Explain" is off. */
  const explainWith = (on: boolean, c: ExplainChoice) =>
    on ? { explain: { ...(c.classIndex !== null && { classIndex: c.classIndex }), ...(c.layer && { layer: c.layer }) } } : {};
  const inspectTarget = (t: Target, on = explainOn, c = choice) => {
    if (!host || !runId) return;
    last.current = t;
    const explain = explainWith(on, c);
    if ('index' in t) return run(async () => ({ r: await host!.inspectSample({ runId, index: t.index, ...at, ...explain }) }));
    if ('text' in t) return run(async () => ({ r: await host!.inspectText({ runId, text: t.text, ...at, ...explain }) }));
    return run(async () => {
      const image = await readImageFile(t.file);
      return { r: await host!.inspectImage({ runId, image, ...at, ...explain }), url: `data:${t.file.type || 'image/png'};base64,${image.base64}` };
    });
  };
  const inspect = (i = index) => inspectTarget({ index: i });
  const inspectImage = (file: File) => inspectTarget({ file });
  const inspectText = () => typed.trim() && inspectTarget({ text: typed });
  /** The last sample or image again, explained as now asked. */
  const explainAgain = (on: boolean, c: ExplainChoice) => {
    setExplainOn(on);
    setChoice(c);
    const changed = c.classIndex !== choice.classIndex || c.layer !== choice.layer;
    if (on && last.current && result && !busy && (changed || !result.explanations)) void inspectTarget(last.current, on, c);
  };
  const choose = (patch: Partial<ExplainChoice>) => explainAgain(true, { ...choice, ...patch });

  // A layer clicked on the canvas (while its maps are shown) becomes the layer explained.
  const shownLayers = useRef<{ nodeId: string; port: string }[] | undefined>(undefined);
  shownLayers.current = explainOn ? result?.explanations?.cam?.layers : undefined;
  const chooseRef = useRef(choose);
  chooseRef.current = choose;
  useEffect(() => {
    const layer = selected && shownLayers.current ? layerOf(selected, shownLayers.current) : undefined;
    if (layer) chooseRef.current({ layer });
  }, [selected]);
  const cannot = !host || !runId || busy || live;
  const drop = useFileDrop((f) => void inspectImage(f), cannot);

  if (!runId)
    return (
      <div className="empty" {...drop.props}>
        Train a run, or open one from the Runs tab, then inspect its validation samples (or an image of your own) here.
      </div>
    );
  const max = result ? result.validationSamples - 1 : undefined;
  const label = result?.label[0] ?? -1;
  const out = result?.outputs[0];
  const predicted = out ? Array.from(out.probs).indexOf(Math.max(...out.probs.subarray(0, result!.classNames.length))) : -1;
  return (
    <div className={`inspect-panel${drop.over ? ' inspect-panel--over' : ''}`} data-testid="inspect-panel" {...drop.props}>
      <div className="inspect-toolbar">
        <b>Validation sample</b>
        <button onClick={() => void inspect(Math.max(0, index - 1))} disabled={busy || index <= 0}>
          ‹
        </button>
        <input
          type="number"
          min={0}
          max={max}
          value={index}
          onChange={(e) => setIndex(Math.max(0, Number(e.target.value) || 0))}
          style={{ width: 80 }}
          data-testid="inspect-index"
        />
        <button onClick={() => void inspect(index + 1)} disabled={busy || (max !== undefined && index >= max)}>
          ›
        </button>
        <select value={checkpoint} onChange={(e) => setCheckpoint(e.target.value)} aria-label="checkpoint" style={{ width: 180 }}>
          <option value="">latest checkpoint</option>
          {checkpoints.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
        <button
          className="primary"
          onClick={() => void inspect()}
          disabled={busy || live}
          title={live ? 'Wait until the run ends (or stop it)' : ''}
          data-testid="inspect-run"
        >
          {busy ? 'Running…' : 'Inspect'}
        </button>
        <ChooseImageButton onFile={(f) => void inspectImage(f)} disabled={cannot} />
        <label className="inspect-explain-toggle" title="Grad-CAM, attention rollout and the layer × head grid (a backward pass: seconds on a large model)">
          <input
            type="checkbox"
            checked={explainOn}
            disabled={busy}
            onChange={(e) => explainAgain(e.target.checked, choice)}
            data-testid="inspect-explain-toggle"
          />
          Explain
        </label>
        {result && (
          <span className="hint">
            {result.validationSamples} validation samples · {result.backend} · {result.checkpoint.split(/[\\/]/).pop()}
          </span>
        )}
      </div>
      {(textRun || result?.words) && (
        <div className="inspect-toolbar">
          <textarea
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
            placeholder="Or type a text to classify…"
            rows={2}
            style={{ flex: 1 }}
            aria-label="text to inspect"
            data-testid="inspect-text"
          />
          <button onClick={() => void inspectText()} disabled={cannot || !typed.trim()} data-testid="inspect-text-run">
            Inspect text
          </button>
        </div>
      )}
      {error && (
        <div className="preview preview--error" data-testid="inspect-error">
          {error}
        </div>
      )}
      {!result && !error && <div className="empty">Inspect a validation sample, or drop a PNG or JPEG here to see what the model makes of it.</div>}
      {result && out && (
        <div className="inspect-body">
          <div className="inspect-sample">
            <DroppedImage r={result} url={droppedUrl} />
            <InputView r={result} />
            <div className="inspect-verdict" data-testid="inspect-verdict">
              {result.caption ? (
                <>
                  caption <b>{result.caption.words[0].filter((w) => w !== '<end>').join(' ')}</b>
                </>
              ) : (
                <>
                  predicted <b>{result.classNames[predicted] ?? predicted}</b>
                </>
              )}
              {label >= 0 && !result.caption && (
                <>
                  {' '}
                  · true <b>{result.classNames[label] ?? label}</b>{' '}
                  <span className={predicted === label ? 'good' : 'bad'}>{predicted === label ? '✓' : '✗'}</span>
                </>
              )}
            </div>
            {out.shape.length === 1 && <Probabilities probs={out.probs} classNames={result.classNames} label={label} />}
          </div>
          <div className="inspect-maps">
            {explainOn && <ExplainMaps r={result} opts={opts} choice={choice} onChoose={choose} />}
            {result.caption && (
              <CaptionFigure
                c={result.caption}
                sample={0}
                underlay={result.input.shape.length === 3 ? { shape: result.input.shape, data: result.input.data } : undefined}
                opts={opts}
                scale={scale}
                testId="inspect-caption"
                caption={<b>Caption</b>}
              />
            )}
            {result.maps.length === 0 && <div className="empty">This graph has no attention outputs.</div>}
            {besideCaption(result.maps, result.caption).map((m) => (
              <figure key={mapKey(m)} className="attn-map" data-testid={`inspect-map-${m.nodeId}-${m.port}`}>
                <figcaption>
                  <span className={`attention-tag attention-${m.kind}`}>{m.kind}</span> <b>{m.nodeId}</b>.{m.port}
                </figcaption>
                {(result.sentences && documentView({ m, maps: result.maps, sample: 0, sentences: result.sentences, shape: result.input.shape })) ??
                  (result.words && tokenView({ view: viewOf(m, 0), words: result.words, length: result.input.shape[0], range: range(m.data), opts })) ?? (
                    <MapCanvas
                      view={viewOf(m, 0)}
                      opts={opts}
                      underlay={
                        (m.kind === 'spatial' || m.kind === 'gate') && result.input.shape.length === 3
                          ? { shape: result.input.shape, data: result.input.data }
                          : undefined
                      }
                      tokens={result.input.shape.length === 1 ? Array.from(result.input.data, String) : undefined}
                    />
                  )}
              </figure>
            ))}
          </div>
        </div>
      )}
    </div>
  );
}
