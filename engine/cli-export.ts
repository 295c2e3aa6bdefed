// `attn export`: a graph file as TypeScript (tfjs), Python (Keras) or Python
// (PyTorch) code, optionally with the trained weights of a run.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { loadGraphFile } from './graph/load.js';
import { formatDiagnostic, hasErrors, printable, type GraphFile } from './graph/types.js';
import { exportPytorch } from './export/pytorch.js';
import { exportCode } from './export/targets.js';
import { EXPORT_TARGETS, EXPORT_TARGET_IDS, type ExportTarget as Target } from './blocks/emit/targets.js';
import { ExportError } from './export/plan.js';
import { torchWeightsFile } from './export/torch-weights.js';
import { loadTf } from './backends/load-tf.js';
import { RunFolderError } from './runs/index.js';
import { compileGraph } from './compile/compile.js';
import { checkpointModel, resolveCheckpoint, type CheckpointModel } from './train/checkpoint.js';

type Out = { log: (s: string) => void; err: (s: string) => void };

/**
 * Writes the run's trained weights beside the code: the tfjs model folder
 * (model.json + weights.bin, layer names as in the exported code) for every
 * target, and for PyTorch a safetensors file that load_weights() reads.
 */
async function writeWeights(graph: GraphFile, target: Target, { files, handler }: CheckpointModel, outFile: string): Promise<string[]> {
  const base = outFile.replace(/\.(ts|py)$/, '');
  const modelDir = `${base}-tfjs-model`;
  await mkdir(modelDir, { recursive: true });
  for (const [name, data] of files) await writeFile(path.join(modelDir, name), data);
  const written = [modelDir];
  if (target === 'pytorch') {
    const tf = await loadTf();
    compileGraph(tf, graph).model.dispose(); // registers the graph's custom layers for loading
    const model = await tf.loadLayersModel(handler);
    const file = `${base}.safetensors`;
    await writeFile(file, torchWeightsFile(model, exportPytorch(graph)));
    model.dispose();
    written.push(file);
  }
  return written;
}

export function registerExportCommand(program: Command, out: Out, setCode: (code: number) => void): void {
  program
    .command('export')
    .description('export a graph as code: TypeScript (tfjs), Python (Keras) or Python (PyTorch)')
    .argument('<file>', 'graph file')
    .addOption(new Option('--to <target>', 'target').choices(EXPORT_TARGET_IDS).makeOptionMandatory())
    .option('--out <path>', 'write the code here (default: print it)')
    .option('--weights <run>', "the trained weights of a run folder (its newest checkpoint) or of one checkpoint (needs --out): a tfjs model folder, and for PyTorch a .safetensors file")
    .action(async (file: string, o: { to: Target; out?: string; weights?: string }) => {
      const r = await loadGraphFile(file);
      if (hasErrors(r.diagnostics) || !r.graph) {
        for (const d of r.diagnostics) out.err(formatDiagnostic(d, file));
        return setCode(1);
      }
      if (o.weights && !o.out) {
        out.err('attn export: --weights needs --out, to know where to put the weight files');
        return setCode(2);
      }
      // The checkpoint is found and verified (checksums, sizes, paths inside the run) before anything is written.
      let weights: CheckpointModel | undefined;
      if (o.weights)
        try {
          weights = await checkpointModel(await resolveCheckpoint(o.weights));
        } catch (err) {
          if (!(err instanceof RunFolderError)) throw err;
          out.err(`attn export --weights: ${err.message}`);
          return setCode(1);
        }
      let code: string;
      try {
        code = exportCode(r.graph, o.to);
      } catch (err) {
        if (!(err instanceof ExportError)) throw err;
        out.err(printable(`${file}: ${err.message}`));
        return setCode(1);
      }
      if (!o.out) {
        out.log(code.trimEnd());
        return setCode(0);
      }
      const target = path.extname(o.out) ? o.out : `${o.out}${path.extname(EXPORT_TARGETS[o.to].fileSuffix)}`;
      await mkdir(path.dirname(path.resolve(target)), { recursive: true });
      await writeFile(target, code);
      out.log(`wrote ${target}`);
      if (weights) for (const w of await writeWeights(r.graph, o.to, weights, target)) out.log(`wrote ${w}`);
      setCode(0);
    });
}
