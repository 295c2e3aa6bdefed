// "New from template": every template with a preview of its graph, its
// description, paper, dataset and parameter count; choosing one opens a copy
// (untitled and unsaved, so the template itself is never overwritten).
import { useEffect, useMemo, useState } from 'react';
import type { GraphLoad, TemplateInfo } from '../../../common/host-api/api.js';
import { analyzeGraph } from '../../../engine/shapes/analyze.js';
import type { GraphFile } from '../../../engine/graph/types.js';
import { editor, openDialog, toast } from '../editor.js';
import { confirmDiscard } from '../files.js';
import { host, noHostReason } from '../host/host.js';
import { openGraphText } from '../store/load.js';
import { useParamCounts } from '../params/useParamCounts.js';
import { summarize } from '../store/summary.js';
import { countText } from '../ui-format.js';
import { closeGallery, gallery } from './galleryState.js';
import { previewOf } from './preview.js';
import { laidOut } from '../canvas/autoLayout.js';
import { frameInputEndOnNextLoad } from '../canvas/framing.js';
import './gallery.css';

/** The gallery, when it is open in `win` (the main window's, or the detached dock's). */
export function TemplateGallery({ win = window }: { win?: Window }) {
  const open = gallery.useOpenIn(win);
  return open ? <GalleryDialog win={win} /> : null;
}

type Entry = TemplateInfo & { load?: GraphLoad; error?: string };

function GalleryDialog({ win }: { win: Window }) {
  const [entries, setEntries] = useState<Entry[] | null>(null);
  const [failure, setFailure] = useState<string | null>(host ? null : `Templates are not available: ${noHostReason ?? 'no host'}`);
  useEffect(() => {
    if (!host) return;
    let live = true;
    const h = host;
    void (async () => {
      try {
        const list = await h.listTemplates();
        if (!live) return;
        setEntries(list);
        // Each template's graph, for its preview and count, as it arrives.
        await Promise.all(
          list.map(async (t) => {
            const patch = await h.loadTemplate({ id: t.id }).then(
              (load) => ({ load }),
              (err: Error) => ({ error: err.message }),
            );
            if (live) setEntries((es) => es?.map((e) => (e.id === t.id ? { ...e, ...patch } : e)) ?? null);
          }),
        );
      } catch (err) {
        if (live) setFailure(`Cannot list the templates: ${(err as Error).message}`);
      }
    })();
    return () => void (live = false);
  }, []);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && closeGallery();
    win.addEventListener('keydown', onKey);
    return () => win.removeEventListener('keydown', onKey);
  }, [win]);

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && closeGallery()}>
      <div className="modal gallery" role="dialog" aria-label="New from template" data-testid="gallery">
        <header>
          <h2>New from template</h2>
          <button className="close" onClick={closeGallery} aria-label="Close" data-testid="gallery-close">
            ✕
          </button>
        </header>
        <div className="modal__body gallery__grid">
          {failure && <div className="empty">{failure}</div>}
          {!failure && !entries && <div className="empty">Loading templates…</div>}
          {entries?.length === 0 && <div className="empty">No templates found.</div>}
          {entries?.map((t) => (
            <TemplateCard key={t.id} entry={t} />
          ))}
        </div>
      </div>
    </div>
  );
}

/** Opens a copy of the template, laid out and framed at its input end: not tied to a file, and unsaved. */
async function openCopy(t: Entry): Promise<void> {
  if (!t.load?.graph || !(await confirmDiscard('Start from a template'))) return;
  const opened = openGraphText(JSON.stringify(t.load.graph));
  if (!opened.ok) {
    openDialog({ kind: 'diagnostics', title: `Template ${t.name} cannot be opened`, diagnostics: opened.diagnostics });
    return;
  }
  const graph = await laidOut(opened.graph);
  frameInputEndOnNextLoad();
  editor.getState().load(graph, null, { dirty: true });
  closeGallery();
  toast(`New graph from the template "${t.name}": save it to keep it`);
}

function TemplateCard({ entry }: { entry: Entry }) {
  const graph = entry.load?.graph;
  const ready = !!graph;
  return (
    <article className="gallery__card" data-testid={`template-${entry.id}`}>
      <div className="gallery__preview">{graph ? <PreviewSvg graph={graph} /> : <span>{entry.error ?? '…'}</span>}</div>
      <div className="gallery__text">
        <h3>{graph?.name ?? entry.name}</h3>
        <p className="gallery__desc" title={entry.description}>
          {entry.description ?? 'No description.'}
        </p>
        <dl>
          {graph && paperOf(graph) && (
            <>
              <dt>Paper</dt>
              <dd data-testid={`template-paper-${entry.id}`}>{paperOf(graph)}</dd>
            </>
          )}
          <dt>Dataset</dt>
          <dd data-testid={`template-dataset-${entry.id}`}>{graph ? datasetText(graph) : '…'}</dd>
          <dt>Parameters</dt>
          <dd>{graph ? <ParamTotals graph={graph} id={entry.id} /> : '…'}</dd>
          <dt>Graph</dt>
          <dd>
            {entry.nodes} nodes{graph?.composites?.length ? ` · ${graph.composites.length} composites` : ''}
          </dd>
        </dl>
        <button className="primary" disabled={!ready} data-testid={`template-open-${entry.id}`} onClick={() => void openCopy(entry)}>
          Open a copy
        </button>
      </div>
    </article>
  );
}

function PreviewSvg({ graph }: { graph: GraphFile }) {
  const p = useMemo(() => previewOf(graph), [graph]);
  return (
    <svg viewBox={p.viewBox.join(' ')} preserveAspectRatio="xMidYMid meet" role="img" aria-label={`${graph.name}: ${graph.nodes.length} nodes`}>
      {p.wires.map((d, i) => (
        <path key={i} d={d} className="gallery__wire" />
      ))}
      {p.boxes.map((b) => (
        <g key={b.id}>
          {b.composite && (
            <rect
              x={b.x + 14}
              y={b.y - 14}
              width={200}
              height={90}
              rx={10}
              className="gallery__box gallery__box--behind"
              style={{ fill: `hsl(${b.hue} 35% 30%)` }}
            />
          )}
          <rect
            x={b.x}
            y={b.y}
            width={200}
            height={90}
            rx={10}
            className="gallery__box"
            style={{ fill: `hsl(${b.hue} ${b.attention ? 60 : 40}% ${b.attention ? 42 : 36}%)` }}
          />
        </g>
      ))}
    </svg>
  );
}

/**
 * The trainable count (the one papers and torchvision quote, and the card's
 * text) and the count of all weights (with BatchNorm's moving statistics),
 * each labelled: the model summary's, from its counting worker.
 */
function ParamTotals({ graph, id }: { graph: GraphFile; id: string }) {
  const analysis = useMemo(() => analyzeGraph(graph), [graph]);
  const counts = useParamCounts(graph, analysis);
  const { trainableParams: trainable, totalParams: all, uncounted } = useMemo(() => summarize(graph, analysis, counts), [graph, analysis, counts]);
  if (analysis.diagnostics.some((d) => d.severity === 'error')) return <span className="bad">the template has problems</span>;
  if (uncounted > 0) return <span className="muted">counting…</span>;
  return (
    <>
      <span data-testid={`template-params-${id}`} title={`${trainable.toLocaleString('en-US')} trainable parameters`}>
        {countText(trainable)}
      </span>{' '}
      trainable
      <span
        className="muted"
        data-testid={`template-weights-${id}`}
        title={`${all.toLocaleString('en-US')} weights in all, BatchNorm's moving statistics included`}
      >
        {' '}
        · {countText(all)} all weights
      </span>
    </>
  );
}

function paperOf(graph: GraphFile): string | undefined {
  const p = graph.paper ?? graph.reference;
  return typeof p === 'string' ? p : undefined;
}

function datasetText(graph: GraphFile): string {
  const d = graph.dataset;
  if (!d || typeof d.name !== 'string') return 'not set';
  const extra = Object.entries(d)
    .filter(([k]) => k !== 'name')
    .map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  return extra.length ? `${d.name} (${extra.join(', ')})` : d.name;
}
