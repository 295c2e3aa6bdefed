// "Load weights…": a weights file into a new run of the app's runs folder (the
// engine's importWeightsToRun), and config.initWeights named by run id, which
// the host turns into that run's folder before training sees it.
import path from 'node:path';
import type { HostRequestParsed, TrainConfigInput, WeightsImport } from '../../../common/host-api/api.js';
import { loadTf } from '../../../engine/backends/load-tf.js';
import { findTorchPython } from '../../../engine/pytorch/python.js';
import { RunFolder } from '../../../engine/runs/index.js';
import { WeightsImportError } from '../../../engine/weights/import.js';
import { importWeightsToRun } from '../../../engine/weights/import-run.js';
import type { PathPolicy } from '../paths.js';
import { soundGraph } from './graph-check.js';
import { RUN_ID } from './runs.js';

/** The file's weights into a new run for the graph; a refusal (strict names, unreadable file) is an answer with the reason, not a throw. */
export async function importWeightsRun(req: HostRequestParsed<'importWeights'>, opts: { runsDir: string; paths: PathPolicy }): Promise<WeightsImport> {
  const empty = { loaded: [], missing: [], unexpected: [], mismatched: [] };
  const { graph } = soundGraph(req.graph);
  if (!graph) return { ok: false, error: 'the graph has errors; fix them before loading weights', ...empty };
  req = { ...req, graph };
  try {
    const file = await opts.paths.resolve(req.path, 'data');
    const python = /\.(pth|pt|bin)$/i.test(file) ? (await findTorchPython()).python : undefined;
    const tf = await loadTf();
    const { run, report } = await importWeightsToRun(tf, req.graph, file, {
      partial: req.partial,
      out: { dir: await RunFolder.freeName(opts.runsDir, `${req.graph.name || 'weights'}-weights`) },
      python,
    });
    return { ok: true, runId: path.basename(run.path), ...report };
  } catch (err) {
    if (err instanceof WeightsImportError) return { ok: false, error: err.message, ...err.report };
    return { ok: false, error: `${req.path}: ${(err as Error).message}`, ...empty };
  }
}

/** config.initWeights from the app is a run id of the runs folder: that run's folder, or a clear refusal. */
export function initWeightsDir(config: TrainConfigInput | undefined, runsDir: string): TrainConfigInput | undefined {
  const id = config?.initWeights;
  if (!config || id === undefined) return config;
  if (!RUN_ID.test(id)) throw new Error(`initWeights: "${id}" is not a run id (load weights first: it names the run they went into)`);
  return { ...config, initWeights: path.join(runsDir, id) };
}
