// `attn export`: a graph file as TypeScript (tfjs), Python (Keras) or Python
// (PyTorch) code, optionally with the trained weights of a run.
import { mkdir, readdir, copyFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { loadGraphFile } from './graph/load.js';
import { formatDiagnostic, hasErrors, type GraphFile } from './graph/types.js';
import { exportPytorch } from './export/pytorch.js';
import { exportCode } from './export/targets.js';
import { EXPORT_TARGETS, EXPORT_TARGET_IDS, type ExportTarget as Target } from './blocks/emit/targets.js';
import { ExportError } from './export/plan.js';
import { torchWeightsFile } from './export/torch-weights.js';
import { loadTf } from './backends/load-tf.js';
import { compileGraph } from './compile/compile.js';
import { folderHandler, resolveCheckpoint } from './train/checkpoint.js';

type Out = { log: (s: string) => void; err: (s: string) => void };

/**
 * Writes the run's trained weights beside the code: the tfjs model folder
 * (model.json + weights.bin, layer names as in the exported code) for every
 * target, and for PyTorch a safetensors file that load_weights() reads.
 */
async function writeWeights(graph: GraphFile, target: Target, runDir: string, outFile: string): Promise<string[]> {
  const checkpoint = await resolveCheckpoint(path.join(runDir, 'checkpoints')).catch(() => runDir);
  const files = await readdir(checkpoint).catch(() => [] as string[]);
  if (!files.includes('model.json')) throw new Error(`no checkpoint in ${runDir} (expected checkpoints/latest.json or a folder with model.json)`);
  const base = outFile.replace(/\.(ts|py)$/, '');
  const modelDir = `${base}-tfjs-model`;
  await mkdir(modelDir, { recursive: true });
  for (const f of files.filter((f) => f === 'model.json' || (f.endsWith('.bin') && f !== 'optimizer.bin'))) await copyFile(path.join(checkpoint, f), path.join(modelDir, f));
  const written = [modelDir];
  if (target === 'pytorch') {
    const tf = await loadTf();
    compileGraph(tf, graph).model.dispose(); // registers the graph's custom layers for loading
    const model = await tf.loadLayersModel(folderHandler(tf, checkpoint));
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
    .option('--weights <runDir>', "the trained weights of a run (needs --out): a tfjs model folder, and for PyTorch a .safetensors file")
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
      let code: string;
      try {
        code = exportCode(r.graph, o.to);
      } catch (err) {
        if (!(err instanceof ExportError)) throw err;
        out.err(`${file}: ${err.message}`);
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
      if (o.weights) for (const w of await writeWeights(r.graph, o.to, o.weights, target)) out.log(`wrote ${w}`);
      setCode(0);
    });
}
