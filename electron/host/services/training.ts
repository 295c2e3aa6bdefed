// Training runs: start (afresh or continuing a run), pause, resume, stop, and the
// Python with PyTorch that the `pytorch` backend would use.
import path from 'node:path';
import type { HostRequestParsed, PytorchInfo } from '../../../common/host-api/api.js';
import { WORKER_SCRIPT } from '../../../engine/pytorch/prepare.js';
import { describeDevices, findTorchPython } from '../../../engine/pytorch/python.js';
import { readCheckpoint, RunFolder } from '../../../engine/runs/index.js';
import type { TrainingDriver } from '../options.js';
import type { DatasetService } from './datasets.js';
import { soundGraph } from './graph-check.js';
import { exists } from './quiet-fs.js';
import { initWeightsDir } from './weights.js';
import { trainConfigSchema } from '../../../engine/schemas/train-config.js';

export class TrainingService {
  constructor(
    private readonly runsDir: string,
    private readonly datasets: DatasetService,
    private readonly training?: TrainingDriver,
    private readonly unavailable?: string,
  ) {}

  private driver(): TrainingDriver {
    if (!this.training) throw new Error(this.unavailable ?? 'training is not available here');
    return this.training;
  }

  async findPytorch({ python }: HostRequestParsed<'findPytorch'>): Promise<PytorchInfo> {
    try {
      const p = await findTorchPython(python);
      return { found: true, python: p.python, pythonVersion: p.pythonVersion, torch: p.torch, devices: describeDevices(p), worker: WORKER_SCRIPT };
    } catch (err) {
      return { found: false, reason: (err as Error).message };
    }
  }

  async startTraining({ graph, dataset, config, backend, pytorch, resumeFrom }: HostRequestParsed<'startTraining'>): Promise<{ runId: string }> {
    const t = this.driver();
    const checked = soundGraph(graph);
    if (!checked.graph) {
      const first = checked.diagnostics.find((d) => d.severity === 'error');
      throw new Error(`the graph has errors; fix them before training${first ? ` (${first.message})` : ''}`);
    }
    const data = await this.datasets.datasetSpec(dataset);

    let runDir: string;
    let resume: string | undefined;
    if (resumeFrom) {
      runDir = path.join(this.runsDir, resumeFrom.runId);
      if (!(await exists(runDir))) throw new Error(`no run "${resumeFrom.runId}" to continue`);
      resume = await RunFolder.open(runDir).checkpoint(resumeFrom.checkpoint);
      // "+N epochs" counts from where the checkpoint stands, not from the run's original total.
      if (resumeFrom.moreEpochs) config = trainConfigSchema.parse({ ...config, epochs: (await readCheckpoint(resume)).epoch + resumeFrom.moreEpochs });
    } else {
      // Named now, created by the driver once it accepts the run (a refused run leaves no folder).
      runDir = await RunFolder.freeName(this.runsDir, checked.graph.name);
    }
    const runId = path.basename(runDir);
    await t.start({
      runId,
      runDir,
      graph: checked.graph,
      dataset: data,
      config: initWeightsDir(config, this.runsDir),
      backend,
      ...(backend === 'pytorch' ? { pytorch } : {}),
      resume,
    });
    return { runId };
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
}
