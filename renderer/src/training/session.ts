// The run the training dock shows: the live one (fed by the host's training
// events) or one reopened from the runs list (read from its run folder). A
// vanilla zustand store, so the attention panels, the charts and the bench can
// read it without React.
import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import type {
  AttentionMap,
  CaptionRecord,
  GraphFile,
  HostEvent,
  ProbeExplanation,
  RunDetail,
  RunState,
  TrainEvent,
  TrainingEvent,
} from '../../../common/host-api/api.js';
import { host } from '../host/host.js';
import { formFromGraph, formFromRequest, setForm, type StartRequest } from './form.js';
export type { StartRequest };
import { editor, toast } from '../editor.js';

type Ev<T extends TrainEvent['type']> = Extract<TrainEvent, { type: T }>;

export interface Snapshot {
  step: number;
  epoch: number;
  /** Absent until loaded (a reopened run's snapshots are read on demand). */
  maps?: AttentionMap[];
  /** The probes' explanation of the first probe sample, when they computed one. */
  explanation?: ProbeExplanation;
  /** A captioning model's probe samples: their captions, each word with its map. */
  caption?: CaptionRecord;
}

export interface LogLine {
  at: number;
  level: 'info' | 'warn' | 'error';
  text: string;
}

/** Per-batch series, columnar for the charts. Arrays grow in place; `version` says when. */
export interface BatchSeries {
  step: number[];
  loss: number[];
  accuracy: (number | null)[];
  lr: number[];
  /** True when the stream carried only the epoch's running means (PyTorch runs, older runs), not each batch's own values. */
  means: boolean;
}

export interface EpochRow {
  epoch: number;
  step: number;
  metrics: Record<string, number>;
}

export interface RunViewState {
  /** Which run is shown; null: none yet. */
  runId: string | null;
  source: 'live' | 'opened' | null;
  state: RunState | 'idle';
  message?: string;
  request?: StartRequest;
  /** The graph the run trains (a copy taken at start). */
  graph?: GraphFile;
  started?: Ev<'started'>;
  progress?: Ev<'progress'>;
  /** While paused: the step the run holds after (the batch in flight when pausing has landed). */
  heldAt?: number;
  batches: BatchSeries;
  epochs: EpochRow[];
  snapshots: Snapshot[];
  done?: Ev<'done'>;
  lastCheckpoint?: string;
  checkpoints: string[];
  log: LogLine[];
  /** Bumped whenever the batch series grows (the arrays are mutated in place). */
  version: number;
  /** Probe inputs (the first validation samples), for heatmaps over the image. */
  probes?: { shape: number[]; samples: (Float32Array | Int32Array)[]; vocabulary?: string[] };
  /** Set while a request to the host is in flight (buttons wait). */
  busy: boolean;
  /** A reopened run as the host read it (the Runs tab's detail view). */
  detail?: RunDetail;
}

/** Live runs keep this many snapshots in memory (older ones are still on disk). */
export const MAX_SNAPSHOTS = 400;

const emptySeries = (): BatchSeries => ({ step: [], loss: [], accuracy: [], lr: [], means: false });

/** Appends one streamed batch: its own loss and accuracy where the process sent them, else the epoch's means. */
function pushBatch(b: BatchSeries, row: { step: number; loss: number; accuracy?: number; batchLoss?: number; batchAccuracy?: number; lr: number }): void {
  const own = row.batchLoss !== undefined;
  b.means ||= !own;
  b.step.push(row.step);
  b.loss.push(own ? row.batchLoss! : row.loss);
  b.accuracy.push((own ? row.batchAccuracy : row.accuracy) ?? null);
  b.lr.push(row.lr);
}

// Every key is spelled out, optional ones as undefined: setState merges, and a key
// left out would carry the previous run's value (its probe images, its done report).
const initial = (): { [K in keyof Required<RunViewState>]: RunViewState[K] } => ({
  runId: null,
  source: null,
  state: 'idle',
  message: undefined,
  request: undefined,
  graph: undefined,
  started: undefined,
  progress: undefined,
  heldAt: undefined,
  done: undefined,
  lastCheckpoint: undefined,
  probes: undefined,
  detail: undefined,
  batches: emptySeries(),
  epochs: [],
  snapshots: [],
  checkpoints: [],
  log: [],
  version: 0,
  busy: false,
});

export const session = createStore<RunViewState>()(() => initial());

export function useSession<T>(selector: (s: RunViewState) => T): T {
  return useStore(session, selector);
}

export const isLive = (s: Pick<RunViewState, 'source' | 'state'>) =>
  s.source === 'live' && (s.state === 'starting' || s.state === 'running' || s.state === 'paused' || s.state === 'stopping');

const fmt = (v: number | undefined, d = 4) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(d));

function log(level: LogLine['level'], text: string): void {
  session.setState((s) => ({ log: [...s.log.slice(-499), { at: Date.now(), level, text }] }));
}

function onTrainingEvent(runId: string, e: TrainingEvent): void {
  const s = session.getState();
  if (s.runId !== runId || s.source !== 'live') return;
  switch (e.type) {
    case 'state':
      session.setState({ state: e.state, message: e.message, ...(e.state === 'paused' ? {} : { heldAt: undefined }) });
      log(e.state === 'failed' ? 'error' : 'info', e.message ? `${e.state}: ${e.message}` : `run ${e.state}`);
      return;
    case 'started': {
      session.setState({ started: e });
      const skipped = e.skipped.map((k) => `${k.backend} (${k.reason})`).join('; ');
      log('info', `training on ${e.backend}${skipped ? ` — skipped ${skipped}` : ''}`);
      log(
        'info',
        `${e.params.toLocaleString()} parameters, ${e.trainSamples} training and ${e.validationSamples} validation samples, ${e.batchesPerEpoch} batches per epoch${e.resumedFrom ? `, resumed from ${e.resumedFrom}` : ''}`,
      );
      return;
    }
    case 'progress': {
      const b = s.batches;
      // A resumed run starts over at its checkpoint's step: drop what lies beyond it.
      while (b.step.length && b.step[b.step.length - 1] >= e.step) {
        b.step.pop();
        b.loss.pop();
        b.accuracy.pop();
        b.lr.pop();
      }
      pushBatch(b, e);
      session.setState({ progress: e, version: s.version + 1 });
      return;
    }
    case 'paused':
      session.setState({ heldAt: e.step });
      log('info', `paused after step ${e.step}`);
      return;
    case 'epoch': {
      session.setState({ epochs: [...s.epochs.filter((r) => r.epoch !== e.epoch), { epoch: e.epoch, step: e.step, metrics: e.metrics }] });
      const m = e.metrics;
      log(
        'info',
        `epoch ${e.epoch + 1}: loss ${fmt(m.loss)} acc ${fmt(m.accuracy, 3)} · val_loss ${fmt(m.val_loss)} val_acc ${fmt(m.val_accuracy, 3)} (${e.seconds.toFixed(1)} s)`,
      );
      return;
    }
    case 'attention': {
      const snaps = [
        ...s.snapshots.filter((x) => x.step !== e.step),
        { step: e.step, epoch: e.epoch, maps: e.maps, explanation: e.explanation, caption: e.caption },
      ];
      session.setState({ snapshots: snaps.slice(-MAX_SNAPSHOTS) });
      return;
    }
    case 'checkpoint':
      session.setState({ lastCheckpoint: e.path, checkpoints: [...new Set([...s.checkpoints, e.path.split(/[\\/]/).pop()!])] });
      log('info', `checkpoint at step ${e.step} (${e.reason})`);
      return;
    case 'done':
      session.setState({ done: e });
      log('info', `done (${e.reason}) after ${e.steps} steps at ${e.samplesPerSec.toFixed(0)} samples/s: val_acc ${fmt(e.metrics.val_accuracy, 3)}`);
      return;
    case 'error':
      log('error', e.message);
      return;
  }
}

host?.onEvent((ev: HostEvent) => {
  if (ev.channel === 'training') onTrainingEvent(ev.runId, ev.event);
});

/** Probe inputs for heatmaps: the same first validation samples the trainer probes. */
async function loadProbes(dataset: StartRequest['dataset'], graph: GraphFile | undefined, runId: string): Promise<void> {
  if (!host) return;
  try {
    const p = await host.previewDataset({ dataset, graph });
    if (!p.ok || session.getState().runId !== runId) return;
    session.setState({ probes: { shape: p.inputShape, samples: p.probes.map((x) => x.x), vocabulary: p.vocabulary?.tokens } });
  } catch {
    // heatmaps then draw without the image underneath
  }
}

async function guarded<T>(what: string, f: () => Promise<T>): Promise<T | undefined> {
  session.setState({ busy: true });
  try {
    return await f();
  } catch (err) {
    const text = `${what}: ${(err as Error).message}`;
    log('error', text);
    toast(text, 'error', 6000);
    return undefined;
  } finally {
    session.setState({ busy: false });
  }
}

export async function startRun(req: StartRequest): Promise<string | undefined> {
  if (!host) return undefined;
  const r = await guarded('could not start training', () => host!.startTraining(req));
  if (!r) return undefined;
  const keep = req.resumeFrom ? session.getState() : undefined;
  session.setState({
    ...initial(),
    ...(keep?.runId === r.runId
      ? { batches: keep.batches, epochs: keep.epochs, snapshots: keep.snapshots, log: keep.log, probes: keep.probes, checkpoints: keep.checkpoints }
      : {}),
    runId: r.runId,
    source: 'live',
    state: 'starting',
    request: req,
    graph: req.graph as GraphFile,
  });
  log('info', `${req.resumeFrom ? 'continuing' : 'starting'} run ${r.runId} on ${req.dataset.name}`);
  if (!session.getState().probes) void loadProbes(req.dataset, req.graph as GraphFile, r.runId);
  return r.runId;
}

const control = (what: 'pauseTraining' | 'resumeTraining' | 'stopTraining') => async () => {
  const { runId } = session.getState();
  if (!runId || !host) return;
  await guarded(what.replace('Training', ''), () => host![what]({ runId }));
};
export const pauseRun = control('pauseTraining');
export const resumeRun = control('resumeTraining');
export const stopRun = control('stopTraining');

/** Shows a past run: its config, metrics per epoch, checkpoints and attention snapshots (maps read on demand). */
export async function openRun(runId: string): Promise<RunDetail | undefined> {
  if (!host) return undefined;
  if (isLive(session.getState())) {
    toast('A run is training: stop it before opening another', 'error');
    return undefined;
  }
  const d = await guarded('could not open the run', () => host!.openRun({ runId }));
  if (!d) return undefined;
  const batches = emptySeries();
  // Runs the app trained have their streamed batches; others (the CLI's) only their epochs.
  const rows = d.batches.length
    ? d.batches
    : d.metrics.map((m) => ({ step: m.step, loss: m.loss, accuracy: typeof m.accuracy === 'number' ? m.accuracy : undefined, lr: NaN }));
  for (const row of rows) pushBatch(batches, row);
  const dataset = (d.config.dataset ?? { name: d.dataset ?? 'mnist' }) as StartRequest['dataset'];
  const request: StartRequest = { graph: d.graph ?? ({} as GraphFile), dataset, config: d.config as StartRequest['config'] };
  // One current run: the editor shows the graph it trained and the form its settings.
  if (d.graph) showRunGraph(d.graph, request);
  session.setState({
    ...initial(),
    detail: d,
    runId,
    source: 'opened',
    state: d.state,
    message: d.message,
    graph: d.graph,
    request,
    batches,
    epochs: d.metrics.map((row) => {
      const { epoch, step, seconds: _x, ...metrics } = row;
      return { epoch, step, metrics: metrics as Record<string, number> };
    }),
    snapshots: d.snapshots.map((step) => ({ step, epoch: -1 })),
    checkpoints: d.checkpoints.filter((c) => c !== 'latest.json'),
    log: [
      {
        at: Date.now(),
        level: 'info',
        text: `opened run ${runId} (${d.state}${d.backend ? `, ${d.backend}` : ''}): ${d.metrics.length} epoch(s), ${d.snapshots.length} attention snapshot(s), ${d.checkpoints.length} checkpoint file(s)`,
      },
    ],
    version: 1,
  });
  if (d.snapshots.length) await loadSnapshot(d.snapshots[d.snapshots.length - 1]);
  void loadProbes(dataset, d.graph, runId);
  return d;
}

/** Reads a stored snapshot's maps (reopened runs, or live ones scrolled past what memory keeps). */
export async function loadSnapshot(step: number): Promise<void> {
  const { runId, snapshots } = session.getState();
  if (!runId || !host || snapshots.find((x) => x.step === step)?.maps) return;
  try {
    const snap = await host.readSnapshot({ runId, step });
    if (session.getState().runId !== runId) return;
    session.setState((s) => ({
      snapshots: s.snapshots.map((x) => (x.step === step ? { ...x, maps: snap.maps, explanation: snap.explanation, caption: snap.caption } : x)),
    }));
  } catch (err) {
    log('warn', `snapshot at step ${step}: ${(err as Error).message}`);
  }
}

/** Continues the shown run from its latest checkpoint (or a named one), in the same run folder. */
export async function continueRun(checkpoint?: string, extraEpochs = 1): Promise<void> {
  const s = session.getState();
  if (!s.runId || !s.request || !s.graph) return;
  const config = { ...(s.request.config ?? {}) } as Record<string, unknown>;
  delete config.dataset;
  delete config.backend;
  // The host counts the extra epochs from the checkpoint's own epoch.
  await startRun({
    graph: s.graph,
    dataset: s.request.dataset,
    config: config as StartRequest['config'],
    resumeFrom: { runId: s.runId, ...(checkpoint ? { checkpoint } : {}), moreEpochs: extraEpochs },
  });
}

export function resetSession(): void {
  if (!isLive(session.getState())) session.setState(initial());
}

/** Set while the editor loads a reopened run's graph: that load keeps the run shown. */
let loadingRunGraph = false;

function showRunGraph(graph: GraphFile, request: StartRequest): void {
  loadingRunGraph = true;
  try {
    editor.getState().load(graph, null);
  } finally {
    loadingRunGraph = false;
  }
  setForm(formFromRequest(request));
}

/**
 * Another document in the editor (new, open, a template) is no longer the shown
 * run's graph: a run that is not training is put away (no stale STOPPED status,
 * charts or maps under another graph) and the form takes the document's settings.
 */
function followDocument(): () => void {
  setForm({ ...formFromGraph(editor.getState().graph), lossWeights: {} });
  return editor.subscribe((s, prev) => {
    if (s.loadCount === prev.loadCount || loadingRunGraph) return;
    setForm({ ...formFromGraph(s.graph), lossWeights: {} });
    resetSession();
  });
}
followDocument();
