// The host service: everything the renderer asks of the machine, in plain Node.
// The desktop shell and the browser mode both construct one of these and pass
// it requests through `dispatch` (dispatcher.ts), which validates them first;
// neither shell adds behaviour of its own beyond dialogs and transport.
//
// The work is done by one small service per resource (services/); this file
// builds them from the shell's options and says which one answers each method.
import type { HostEvent, HostHandlers, HostInfo, Unsubscribe } from '../../common/host-api/api.js';
import { HostDispatcher, type HostEndpoint } from './dispatcher.js';
import type { HostServiceOptions } from './options.js';
import { DatasetService } from './services/datasets.js';
import { ExportService } from './services/export.js';
import { FileService } from './services/files.js';
import { InspectService } from './services/inspect.js';
import { RecentFiles } from './services/recent.js';
import { RecoveryService } from './services/recovery.js';
import { RunService } from './services/runs.js';
import { TemplateService } from './services/templates.js';
import { TrainingService } from './services/training.js';
import { SweepHost } from './sweeps.js';
import { importWeightsRun } from './services/weights.js';

export type { Dialogs, Exporter, HostServiceOptions, TrainingDriver, TrainingStart } from './options.js';

export class HostService implements HostEndpoint {
  readonly recent: RecentFiles;
  readonly files: FileService;
  readonly recovery: RecoveryService;
  readonly templates: TemplateService;
  readonly datasets: DatasetService;
  readonly training: TrainingService;
  readonly runs: RunService;
  readonly inspection: InspectService;
  readonly exports: ExportService;
  readonly sweeps: SweepHost;
  private readonly dispatcher: HostDispatcher;
  private readonly listeners = new Set<(event: HostEvent) => void>();
  private readonly unsubscribeTraining?: Unsubscribe;

  constructor(private readonly opts: HostServiceOptions) {
    const { paths, stateDir, runsDir, trainingUnavailable } = opts;
    this.recent = new RecentFiles(stateDir, paths);
    this.files = new FileService(paths, this.recent, opts.dialogs);
    this.recovery = new RecoveryService(stateDir);
    this.templates = new TemplateService(opts.templatesDir);
    this.datasets = new DatasetService(paths, opts.datasets);
    this.training = new TrainingService(runsDir, this.datasets, opts.training, trainingUnavailable);
    this.runs = new RunService(runsDir);
    this.inspection = new InspectService(runsDir, opts.inspect, trainingUnavailable);
    this.exports = new ExportService(opts.exporter);
    this.sweeps = new SweepHost(runsDir);
    this.dispatcher = new HostDispatcher(this.routes());
    this.unsubscribeTraining = opts.training?.onEvent((runId, event) => this.emit({ channel: 'training', runId, event }));
  }

  /** Which service answers each method (a method missing here does not compile). */
  private routes(): HostHandlers {
    const { files, recent, recovery, templates, datasets, training, runs, inspection, exports, sweeps } = this;
    return {
      info: () => this.info(),

      openFile: (r) => files.openFile(r),
      saveFile: (r) => files.saveFile(r),
      saveFileAs: (r) => files.saveFileAs(r),
      listFiles: (r) => files.listFiles(r),
      readGraph: (r) => files.readGraph(r),
      writeGraph: (r) => files.writeGraph(r),
      checkGraph: (r) => files.checkGraph(r),

      recentFiles: () => recent.recentFiles(),
      clearRecentFiles: () => recent.clearRecentFiles(),

      writeRecovery: (r) => recovery.writeRecovery(r),
      readRecovery: () => recovery.readRecovery(),
      clearRecovery: () => recovery.clearRecovery(),

      listTemplates: () => templates.listTemplates(),
      loadTemplate: (r) => templates.loadTemplate(r),
      blockCatalogue: () => templates.blockCatalogue(),

      listDatasets: () => datasets.listDatasets(),
      previewDataset: (r) => datasets.previewDataset(r),

      startTraining: (r) => training.startTraining(r),
      findPytorch: (r) => training.findPytorch(r),
      pauseTraining: (r) => training.pauseTraining(r),
      resumeTraining: (r) => training.resumeTraining(r),
      stopTraining: (r) => training.stopTraining(r),

      listRuns: () => runs.listRuns(),
      openRun: (r) => runs.openRun(r),
      readSnapshot: (r) => runs.readSnapshot(r),

      inspectSample: (r) => inspection.inspectSample(r),
      inspectImage: (r) => inspection.inspectImage(r),
      inspectText: (r) => inspection.inspectText(r),

      importWeights: (r) => importWeightsRun(r, this.opts),

      compareRuns: ({ runIds }) => sweeps.compare(runIds),
      listSweeps: () => sweeps.list(),
      openSweep: ({ sweepId }) => sweeps.open(sweepId),
      sweepTrialGraph: ({ sweepId, trialId }) => sweeps.trialGraph(sweepId, trialId),
      startSweep: async (r) => {
        if (!this.opts.training) throw new Error(this.opts.trainingUnavailable ?? 'training is not available here');
        return sweeps.start(r);
      },
      stopSweep: async ({ sweepId }) => sweeps.stop(sweepId),

      exportCode: (r) => exports.exportCode(r),
    };
  }

  dispatch(method: unknown, request: unknown): Promise<unknown> {
    return this.dispatcher.dispatch(method, request);
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
    this.sweeps.dispose();
    await this.opts.training?.dispose();
  }

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
}
