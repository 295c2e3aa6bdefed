// Pretrained weights into a new run folder: what `attn weights import` and the
// app's "Load weights…" both do. The folder holds the graph and one checkpoint
// (step 0) that training starts from (config.initWeights), and that predict,
// Inspect and export read like any run's.
import path from 'node:path';
import type { TF } from '../blocks/contract.js';
import { compileGraph } from '../compile/compile.js';
import type { GraphFile } from '../graph/types.js';
import { RunFolder } from '../runs/index.js';
import { saveCheckpoint } from '../train/checkpoint.js';
import { importWeights, readWeightsFile, type ImportReport } from './import.js';

export interface ImportedRun {
  run: RunFolder;
  checkpoint: string;
  report: ImportReport;
}

/**
 * Reads `file` (.safetensors, or .pth/.pt through `python`), sets it into `graph`'s
 * compiled model (strict unless `partial`: a WeightsImportError with the report)
 * and writes the run folder: exactly `out.dir`, or a fresh one under `out.base`.
 */
export async function importWeightsToRun(
  tf: TF,
  graph: GraphFile,
  file: string,
  opts: { partial?: boolean; out: { dir?: string; base?: string }; python?: string },
): Promise<ImportedRun> {
  const arrays = readWeightsFile(file, opts.python);
  const compiled = compileGraph(tf, graph);
  try {
    const report = importWeights(tf, graph, compiled, arrays, { partial: opts.partial });
    const { missing, unexpected, mismatched, source } = report;
    const run = await RunFolder.create({
      ...(opts.out.dir ? { dir: path.resolve(opts.out.dir) } : { base: opts.out.base }),
      name: graph.name,
      graph,
      config: { importedWeights: { file: path.resolve(file), source, missing, unexpected, mismatched } },
    });
    const state = { epoch: 0, batch: 0, step: 0, sums: {}, history: [], best: null, badEpochs: 0 };
    const checkpoint = await saveCheckpoint(tf, run, compiled.model, { t: 0, state: () => [] }, state, { keep: 1 });
    return { run, checkpoint, report };
  } finally {
    compiled.model.dispose();
  }
}
