// The host service: everything the renderer asks of the machine, in plain Node.
// The desktop shell and the browser mode both construct one of these and pass
// it requests through `dispatch`, which validates them first; neither shell adds
// behaviour of its own beyond dialogs and transport.
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { registry } from '../../engine/blocks/registry.js';
import { blockInfo } from '../../engine/blocks/catalogue.js';
import { analyzeGraph } from '../../engine/graph/analyze.js';
import { loadGraphFile } from '../../engine/graph/load.js';
import { checkGraphSchema, serializeGraph } from '../../engine/graph/schema.js';
import { hasErrors, type Diagnostic, type GraphFile } from '../../engine/graph/types.js';
import {
  parseHostRequest,
  type BlockInfo,
  type DatasetInfo,
  type DatasetPreview,
  type ExportResult,
  type ExportFormat,
  type FileEntry,
  type FileListing,
  type GraphLoad,
  type GraphWrite,
  type HostEvent,
  type HostHandlers,
  type HostInfo,
  type HostMethod,
  type HostRequestParsed,
  type PytorchInfo,
  type RecentFile,
  type Recovery,
  type RunDetail,
  type RunSnapshot,
  type RunSummary,
  type TemplateInfo,
  type TrainConfigInput,
  type TRAINING_BACKENDS,
  type TrainingEvent,
  type Unsubscribe,
  type WeightsImport,
} from '../../common/host-api/api.js';
import { GRAPH_EXT, PathError, type PathPolicy } from './paths.js';
import { BUILTIN_DATASETS, isBuiltinDataset } from '../../engine/data/builtin.js';
import { datasetSpecSchema, type DatasetSpec } from '../../engine/data/index.js';
import { isSyntheticTask, SYNTHETIC_TASKS } from '../../engine/data/spec.js';
import type { InspectCommand, Inspection } from '../../engine/worker/protocol.js';
import { describeDevices, findTorchPython } from '../../engine/pytorch/python.js';
import { imageBytes, inspectionFor, previewDataset, type InspectionTarget } from './runs.js';
import { readSummary, RUN_FILES, RunFolder, writeAtomic } from '../../engine/runs/index.js';
import { importWeightsRun, initWeightsDir } from './weights.js';

/** Native open/save dialogs (desktop only). They answer an absolute path, or null when cancelled. */
export interface Dialogs {
  openGraph(): Promise<string | null>;
  saveGraph(suggestedName: string): Promise<string | null>;
}

export interface TrainingStart {
  runId: string;
  runDir: string;
  graph: GraphFile;
  dataset: DatasetSpec;
  config?: TrainConfigInput;
  backend: (typeof TRAINING_BACKENDS)[number];
  pytorch?: HostRequestParsed<'startTraining'>['pytorch'];
  /** Continue from here (a run folder or one of its checkpoints) instead of starting afresh. */
  resume?: string;
}

/** The training process, seen from the host (see training.ts). */
export interface TrainingDriver {
  start(req: TrainingStart): Promise<void>;
  pause(runId: string): Promise<void>;
  resume(runId: string): Promise<void>;
  stop(runId: string): Promise<void>;
  onEvent(listener: (runId: string, event: TrainingEvent) => void): Unsubscribe;
  dispose(): Promise<void>;
}

export interface Exporter {
  (graph: GraphFile, target: ExportFormat): Promise<ExportResult['files']>;
}

export interface HostServiceOptions {
  mode: 'desktop' | 'browser';
  version: string;
  paths: PathPolicy;
  /** Recent files and the recovery file live here (Electron's userData, or a dot-folder). */
  stateDir: string;
  templatesDir: string;
  runsDir: string;
  dialogs?: Dialogs;
  training?: TrainingDriver;
  /** Why training is unavailable, when `training` is absent. */
  trainingUnavailable?: string;
  datasets?: () => Promise<DatasetInfo[]>;
  exporter?: Exporter;
  /** Runs a sample through a checkpoint in a training process (engine/worker's InspectionPool). */
  inspect?: (cmd: InspectCommand) => Promise<Inspection>;
}

const MAX_RECENT = 10;
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A file read that may fail for a reason the user should see, rather than throwing. */
async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

const graphName = (file: string) => path.basename(file).replace(/\.attn\.json$|\.json$/, '');

/** Schema check plus semantic analysis of a graph held in memory. */
function checkGraph(graph: unknown): { graph?: GraphFile; diagnostics: Diagnostic[] } {
  const r = checkGraphSchema(graph);
  if (!r.graph) return r;
  return { graph: r.graph, diagnostics: analyzeGraph(r.graph).diagnostics };
}

export class HostService implements HostHandlers {
  private readonly listeners = new Set<(event: HostEvent) => void>();
  private readonly unsubscribeTraining?: Unsubscribe;

  constructor(private readonly opts: HostServiceOptions) {
    this.unsubscribeTraining = opts.training?.onEvent((runId, event) => this.emit({ channel: 'training', runId, event }));
  }

  /** Validates an untrusted request and runs it. Throws HostRequestError or the handler's error. */
  async dispatch(method: unknown, request: unknown): Promise<unknown> {
    const parsed = parseHostRequest(method, request);
    const handler = this[parsed.method] as (r: HostRequestParsed<HostMethod>) => Promise<unknown>;
    return handler.call(this, parsed.request);
  }

  onEvent(listener: (event: HostEvent) => void): Unsubscribe {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  emit(event: HostEvent): void {
    for (const l of this.listeners) l(event);
  }

  async dispose(): Promise<void> {
    this.unsubscribeTraining?.();
    await this.opts.training?.dispose();
  }

  // ------------------------------------------------------------ info

  async info(): Promise<HostInfo> {
    const { mode, version, dialogs, training, trainingUnavailable, exporter, paths } = this.opts;
    return {
      mode,
      version,
      platform: process.platform,
      nativeDialogs: Boolean(dialogs),
      workspace: paths.workspace,
      training: training ? { available: true } : { available: false, reason: trainingUnavailable ?? 'the training process is not available' },
      exportAvailable: Boolean(exporter),
    };
  }

  // ------------------------------------------------------------ files

  async openFile({ path: p }: HostRequestParsed<'openFile'>): Promise<GraphLoad | null> {
    if (p === undefined) {
      if (!this.opts.dialogs) throw new Error('no file dialog in browser mode: pass a path (see listFiles)');
      const chosen = await this.opts.dialogs.openGraph();
      if (chosen === null) return null;
      return this.readGraph({ path: chosen });
    }
    return this.readGraph({ path: p });
  }

  async readGraph({ path: p }: HostRequestParsed<'readGraph'>): Promise<GraphLoad> {
    const abs = await this.opts.paths.resolve(p, 'read');
    const shown = this.opts.paths.show(abs);
    const r = await loadGraphFile(abs);
    // loadGraphFile names the absolute path in "cannot read" messages; show the renderer's path instead.
    const diagnostics = r.diagnostics.map((d) => ({ ...d, message: d.message.split(abs).join(shown) }));
    if (r.graph) await this.remember(abs);
    // A recent file that is gone (moved, deleted) leaves Open Recent.
    else if (!(await stat(abs).catch(() => null))) await this.forget(abs);
    return { path: shown, name: graphName(abs), graph: r.graph, diagnostics };
  }

  async writeGraph({ path: p, graph }: HostRequestParsed<'writeGraph'>): Promise<GraphWrite> {
    const abs = await this.opts.paths.resolve(p, 'write');
    const shown = this.opts.paths.show(abs);
    const checked = checkGraph(graph);
    // Schema errors mean the editor holds something that is not a graph: refuse. Semantic
    // errors (an unconnected input, a shape mismatch) are work in progress: save it.
    if (!checked.graph) return { path: shown, written: false, diagnostics: checked.diagnostics };
    await writeAtomic(abs, serializeGraph(checked.graph));
    await this.remember(abs);
    return { path: shown, written: true, diagnostics: checked.diagnostics };
  }

  saveFile(req: HostRequestParsed<'saveFile'>): Promise<GraphWrite> {
    return this.writeGraph(req);
  }

  async saveFileAs({ graph, path: p, suggestedName }: HostRequestParsed<'saveFileAs'>): Promise<GraphWrite | null> {
    let target = p;
    if (target === undefined) {
      if (!this.opts.dialogs) throw new Error('no file dialog in browser mode: pass a path');
      const base = (suggestedName || graph.name || 'untitled').replace(/[\\/:*?"<>|]+/g, '_');
      target = (await this.opts.dialogs.saveGraph(base.endsWith(GRAPH_EXT) ? base : `${base}${GRAPH_EXT}`)) ?? undefined;
      if (target === undefined) return null;
    }
    if (!target.endsWith(GRAPH_EXT)) target += GRAPH_EXT;
    return this.writeGraph({ path: target, graph });
  }

  async listFiles({ dir }: HostRequestParsed<'listFiles'>): Promise<FileListing> {
    const { paths } = this.opts;
    const start = dir ?? paths.workspace;
    if (start === undefined) throw new Error('listFiles needs a folder in the desktop app');
    const abs = await paths.resolve(start, 'list');
    const items = await readdir(abs, { withFileTypes: true });
    const entries: FileEntry[] = [];
    for (const it of items) {
      if (it.name.startsWith('.')) continue;
      const full = path.join(abs, it.name);
      const kind = it.isDirectory() ? 'dir' : it.isFile() && it.name.endsWith(GRAPH_EXT) ? 'file' : undefined;
      if (!kind) continue;
      const mtimeMs = kind === 'file' ? (await stat(full)).mtimeMs : undefined;
      entries.push({ name: it.name, path: paths.show(full), kind, mtimeMs });
    }
    entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'dir' ? -1 : 1));
    const parentAbs = path.dirname(abs);
    let parent: string | undefined;
    if (parentAbs !== abs)
      try {
        parent = paths.show(await paths.resolve(paths.workspace ? paths.show(parentAbs) : parentAbs, 'list'));
      } catch (err) {
        if (!(err instanceof PathError)) throw err;
      }
    return { dir: paths.show(abs), parent, entries };
  }

  async checkGraph({ graph }: HostRequestParsed<'checkGraph'>): Promise<{ diagnostics: Diagnostic[] }> {
    return { diagnostics: checkGraph(graph).diagnostics };
  }

  // ------------------------------------------------------------ recent files

  private get recentFile(): string {
    return path.join(this.opts.stateDir, 'recent.json');
  }

  private async readRecent(): Promise<RecentFile[]> {
    const text = await readText(this.recentFile);
    if (!text) return [];
    try {
      const list = JSON.parse(text) as unknown;
      return Array.isArray(list) ? list.filter((r): r is RecentFile => typeof r?.path === 'string' && typeof r?.name === 'string') : [];
    } catch {
      return []; // a damaged list is not worth an error dialog
    }
  }

  private async remember(abs: string): Promise<void> {
    const shown = this.opts.paths.show(abs);
    const list = (await this.readRecent()).filter((r) => r.path !== shown);
    list.unshift({ path: shown, name: graphName(abs), openedAt: new Date().toISOString() });
    await writeAtomic(this.recentFile, JSON.stringify(list.slice(0, MAX_RECENT), null, 2));
  }

  private async forget(abs: string): Promise<void> {
    const shown = this.opts.paths.show(abs);
    const list = await this.readRecent();
    if (list.some((r) => r.path === shown)) await writeAtomic(this.recentFile, JSON.stringify(list.filter((r) => r.path !== shown), null, 2));
  }

  async recentFiles(): Promise<RecentFile[]> {
    return this.readRecent();
  }

  async clearRecentFiles(): Promise<void> {
    await rm(this.recentFile, { force: true });
  }

  // ------------------------------------------------------------ recovery

  private get recoveryFile(): string {
    return path.join(this.opts.stateDir, 'recovery.json');
  }

  async writeRecovery({ graph, path: p, dirty }: HostRequestParsed<'writeRecovery'>): Promise<void> {
    // Kept even when the graph has schema problems: losing work is worse than restoring a broken graph.
    const rec: Recovery = { graph, path: p, dirty, savedAt: new Date().toISOString() };
    await writeAtomic(this.recoveryFile, JSON.stringify(rec));
  }

  async readRecovery(): Promise<Recovery | null> {
    const text = await readText(this.recoveryFile);
    if (!text) return null;
    try {
      const rec = JSON.parse(text) as Recovery;
      return rec && typeof rec === 'object' && rec.graph && typeof rec.graph === 'object' ? rec : null;
    } catch {
      return null;
    }
  }

  async clearRecovery(): Promise<void> {
    await rm(this.recoveryFile, { force: true });
  }

  // ------------------------------------------------------------ templates and catalogue

  async listTemplates(): Promise<TemplateInfo[]> {
    const dir = this.opts.templatesDir;
    const files = (await readdir(dir)).filter((f) => f.endsWith(GRAPH_EXT)).sort();
    const out: TemplateInfo[] = [];
    for (const f of files) {
      const r = checkGraphSchema(JSON.parse(await readFile(path.join(dir, f), 'utf8')));
      if (!r.graph) continue; // a broken template is the test suite's business, not the palette's
      out.push({ id: graphName(f), name: r.graph.name, description: r.graph.description, nodes: r.graph.nodes.length, edges: r.graph.edges.length });
    }
    return out;
  }

  async loadTemplate({ id }: HostRequestParsed<'loadTemplate'>): Promise<GraphLoad> {
    const file = path.join(this.opts.templatesDir, `${id}${GRAPH_EXT}`);
    const r = await loadGraphFile(file);
    if (r.diagnostics.some((d) => d.message.startsWith(`cannot read ${file}`))) throw new Error(`no template "${id}"`);
    return { path: null, name: r.graph?.name ?? id, graph: r.graph, diagnostics: r.diagnostics };
  }

  async blockCatalogue(): Promise<BlockInfo[]> {
    return registry.all().map((b) => blockInfo(b) as BlockInfo);
  }

  async listDatasets(): Promise<DatasetInfo[]> {
    return this.opts.datasets ? this.opts.datasets() : builtinDatasets();
  }

  // ------------------------------------------------------------ training

  private driver() {
    const t = this.opts.training;
    if (!t) throw new Error(this.opts.trainingUnavailable ?? 'training is not available here');
    return t;
  }

  async findPytorch({ python }: HostRequestParsed<'findPytorch'>): Promise<PytorchInfo> {
    try {
      const p = await findTorchPython(python);
      return { found: true, python: p.python, pythonVersion: p.pythonVersion, torch: p.torch, devices: describeDevices(p) };
    } catch (err) {
      return { found: false, reason: (err as Error).message };
    }
  }

  async startTraining({ graph, dataset, config, backend, pytorch, resumeFrom }: HostRequestParsed<'startTraining'>): Promise<{ runId: string }> {
    const t = this.driver();
    const checked = checkGraph(graph);
    if (!checked.graph || hasErrors(checked.diagnostics)) {
      const first = checked.diagnostics.find((d) => d.severity === 'error');
      throw new Error(`the graph has errors; fix them before training${first ? ` (${first.message})` : ''}`);
    }
    const data = await this.datasetSpec(dataset);

    let runDir: string;
    let resume: string | undefined;
    if (resumeFrom) {
      runDir = path.join(this.opts.runsDir, resumeFrom.runId);
      if (!(await exists(runDir))) throw new Error(`no run "${resumeFrom.runId}" to continue`);
      resume = await RunFolder.open(runDir).checkpoint(resumeFrom.checkpoint);
    } else {
      // Named now, created by the driver once it accepts the run (a refused run leaves no folder).
      runDir = await RunFolder.freeName(this.opts.runsDir, checked.graph.name);
    }
    const runId = path.basename(runDir);
    await t.start({ runId, runDir, graph: checked.graph, dataset: data, config: initWeightsDir(config, this.opts.runsDir), backend, ...(backend === 'pytorch' ? { pytorch } : {}), resume });
    return { runId };
  }

  /** Checks a dataset request; a file or folder must be one the renderer may name (the workspace, in browser mode). */
  private async datasetSpec(dataset: HostRequestParsed<'startTraining'>['dataset']): Promise<DatasetSpec> {
    const spec = datasetSpecSchema.safeParse(dataset);
    if (!spec.success) throw new Error(`dataset: ${spec.error.issues.map((i) => `${i.path.join('.') || 'dataset'}: ${i.message}`).join('; ')}`);
    const data = spec.data;
    if (!isBuiltinDataset(data.name) && !isSyntheticTask(data.name.replace(/^synthetic:/, ''))) data.name = await this.opts.paths.resolve(data.name, 'data');
    return data;
  }

  async previewDataset({ dataset, graph }: HostRequestParsed<'previewDataset'>): Promise<DatasetPreview> {
    let spec: DatasetSpec;
    try {
      spec = await this.datasetSpec(dataset);
    } catch (err) {
      return { ok: false, name: dataset.name, error: (err as Error).message };
    }
    return previewDataset(spec, graph);
  }

  async pauseTraining({ runId }: HostRequestParsed<'pauseTraining'>): Promise<void> {
    await this.driver().pause(runId);
  }

  async resumeTraining({ runId }: HostRequestParsed<'resumeTraining'>): Promise<void> {
    await this.driver().resume(runId);
  }

  async stopTraining({ runId }: HostRequestParsed<'stopTraining'>): Promise<void> {
    await this.driver().stop(runId);
  }

  // ------------------------------------------------------------ runs

  async listRuns(): Promise<RunSummary[]> {
    let names: string[];
    try {
      names = await readdir(this.opts.runsDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const runs: RunSummary[] = [];
    for (const n of names.filter((x) => RUN_ID.test(x))) {
      const s = await readSummary(this.run(n));
      if (s) runs.push(s);
    }
    return runs.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  private run(runId: string): RunFolder {
    return RunFolder.open(path.join(this.opts.runsDir, runId));
  }

  async openRun({ runId }: HostRequestParsed<'openRun'>): Promise<RunDetail> {
    const run = this.run(runId);
    const summary = await readSummary(run);
    if (!summary) throw new Error(`no run "${runId}"`);
    const config = ((await run.readJson(RUN_FILES.config)) ?? {}) as Record<string, unknown>;
    const graphJson = await run.readJson(RUN_FILES.graph);
    const graph = graphJson === undefined ? undefined : checkGraphSchema(graphJson).graph;
    return { ...summary, config, graph, metrics: await run.metrics(), batches: await run.batches(), checkpoints: await run.checkpoints(), snapshots: await run.snapshots() };
  }

  async readSnapshot({ runId, step }: HostRequestParsed<'readSnapshot'>): Promise<RunSnapshot> {
    return { step, maps: await this.run(runId).readSnapshot(step) };
  }

  async inspectSample({ runId, index, checkpoint }: HostRequestParsed<'inspectSample'>): Promise<Inspection> {
    return this.inspectRun(runId, { index, checkpoint });
  }

  async inspectImage({ runId, image, checkpoint }: HostRequestParsed<'inspectImage'>): Promise<Inspection> {
    return this.inspectRun(runId, { image: imageBytes(image), checkpoint });
  }

  private async inspectRun(runId: string, what: InspectionTarget): Promise<Inspection> {
    if (!this.opts.inspect) throw new Error(this.opts.trainingUnavailable ?? 'inspection needs the training process, which is not available here');
    const dir = path.join(this.opts.runsDir, runId);
    if (!(await exists(dir))) throw new Error(`no run "${runId}"`);
    return this.opts.inspect(await inspectionFor(dir, what));
  }

  async importWeights(req: HostRequestParsed<'importWeights'>): Promise<WeightsImport> {
    const checked = checkGraph(req.graph);
    if (!checked.graph || hasErrors(checked.diagnostics)) return { ok: false, error: 'the graph has errors; fix them before loading weights', loaded: [], missing: [], unexpected: [], mismatched: [] };
    return importWeightsRun({ ...req, graph: checked.graph }, this.opts);
  }

  // ------------------------------------------------------------ export

  async exportCode({ graph, target }: HostRequestParsed<'exportCode'>): Promise<ExportResult> {
    if (!this.opts.exporter) throw new Error('code export is not available in this build');
    const checked = checkGraph(graph);
    if (!checked.graph || hasErrors(checked.diagnostics)) return { target, files: [], diagnostics: checked.diagnostics };
    return { target, files: await this.opts.exporter(checked.graph, target), diagnostics: checked.diagnostics };
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** The built-in image sets and the synthetic sequence tasks (their shape follows the graph's input). */
export function builtinDatasets(): DatasetInfo[] {
  const images: DatasetInfo[] = Object.entries(BUILTIN_DATASETS).map(([id, b]) => ({
    id,
    name: id === 'mnist' ? 'MNIST' : 'Fashion-MNIST',
    kind: 'image',
    description: id === 'mnist' ? 'Handwritten digits, 28×28 grey, 10 classes.' : 'Clothing images, 28×28 grey, 10 classes.',
    inputShape: [28, 28, 1],
    classes: [...b.classNames],
  }));
  const tasks: DatasetInfo[] = Object.entries(SYNTHETIC_TASKS).map(([task, description]) => ({
    id: task,
    name: `Synthetic: ${task}`,
    kind: 'sequence',
    description,
    inputShape: [],
  }));
  return [...images, ...tasks];
}
