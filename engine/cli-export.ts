// `attn export`: a graph file as TypeScript (tfjs), Python (Keras), Python
// (PyTorch) code or an ONNX file, optionally with the trained weights of a run,
// and a dataset as the .npz that the exported PyTorch code trains on.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { loadGraphFile } from './shapes/load.js';
import { formatDiagnostic, hasErrors, printable, type GraphFile } from './graph/types.js';
import { exportPytorch } from './export/pytorch.js';
import { exportCode } from './export/targets.js';
import { withFineTuning } from './export/fine-tune-settings.js';
import { EXPORT_TARGETS, EXPORT_FORMAT_IDS, type ExportTarget as Target } from './blocks/emit/targets.js';
import { ExportError } from './export/plan.js';
import { torchWeightsFile } from './export/torch-weights.js';
import { kerasWeightsFile } from './export/keras-weights.js';
import { loadTf } from './backends/load-tf.js';
import { locateCheckpoint, RUN_FILES, RunFolder, RunFolderError } from './runs/index.js';
import { hasTextEntry, textEntry, tfjsTextEntry } from './export/text-entry.js';
import { captionClassesOf, captionVocabularyFile, captionVocabularyText, graphCaptionClasses } from './data/caption-vocabulary.js';
import { readFile } from 'node:fs/promises';
import { compileGraph } from './compile/compile.js';
import { checkpointModel, type CheckpointModel } from './train/checkpoint.js';
import { prepareData, datasetNames, type ArrayDataset } from './data/index.js';
import { analyzeGraph } from './shapes/analyze.js';
import { encodeNpz, type NpyArray } from './export/npz.js';
import { exportOnnx, OnnxExportError } from './export/onnx.js';

type LayersModel = import('@tensorflow/tfjs').LayersModel;
type Out = { log: (s: string) => void; err: (s: string) => void };

/** Runs `use` on a checkpoint's trained tfjs model, loaded with the graph's custom layers registered. */
async function withTrainedModel<T>(graph: GraphFile, { handler }: CheckpointModel, use: (model: LayersModel) => T): Promise<T> {
  const tf = await loadTf();
  compileGraph(tf, graph).model.dispose(); // registers the graph's custom layers for loading
  const model = await tf.loadLayersModel(handler);
  try {
    return use(model);
  } finally {
    model.dispose();
  }
}

/** A checkpoint's trained weights as a safetensors state_dict for the graph's PyTorch export. */
const trainedTorchWeights = (graph: GraphFile, checkpoint: CheckpointModel) =>
  withTrainedModel(graph, checkpoint, (model) => torchWeightsFile(model, exportPytorch(graph)));

/** A checkpoint's trained weights as the safetensors file the Keras export's load_weights() reads (tfjs names and layouts). */
const trainedKerasWeights = (graph: GraphFile, checkpoint: CheckpointModel) => withTrainedModel(graph, checkpoint, kerasWeightsFile);

/**
 * Writes the run's trained weights beside the code: the tfjs model folder
 * (model.json + weights.bin, layer names as in the exported code) for every
 * target, and for PyTorch and Keras a safetensors file that the export's load_weights() reads.
 */
async function writeWeights(graph: GraphFile, target: Target, checkpoint: CheckpointModel, outFile: string): Promise<string[]> {
  const base = outFile.replace(/\.(ts|py)$/, '');
  const modelDir = `${base}-tfjs-model`;
  await mkdir(modelDir, { recursive: true });
  for (const [name, data] of checkpoint.files) await writeFile(path.join(modelDir, name), data);
  const written = [modelDir];
  if (target === 'pytorch' || target === 'keras') {
    const file = `${base}.safetensors`;
    await writeFile(file, target === 'pytorch' ? await trainedTorchWeights(graph, checkpoint) : await trainedKerasWeights(graph, checkpoint));
    written.push(file);
  }
  return written;
}

/**
 * For a run trained on text: its vocabulary beside the model (so that the exported
 * model reads text as training tokenised it), and for PyTorch and Keras a
 * `<name>_text.py` entry point (for tfjs `<name>_text.ts`) that tokenises texts with it and prints the probabilities.
 */
async function writeTextFiles(run: string, target: Target, outFile: string): Promise<string[]> {
  const vocabulary = await (await RunFolder.forResume(run)).run.readJson(RUN_FILES.vocabulary);
  if (vocabulary === undefined) return [];
  const base = outFile.replace(/\.(ts|py)$/, '');
  const files = { model: path.basename(outFile), weights: `${path.basename(base)}.safetensors`, vocabulary: `${path.basename(base)}.vocabulary.json` };
  await writeFile(`${base}.vocabulary.json`, `${JSON.stringify(vocabulary)}\n`);
  if (!hasTextEntry(target)) {
    if (target !== 'tfjs') return [`${base}.vocabulary.json`];
    const entry = `${base}_text.ts`;
    await writeFile(
      entry,
      tfjsTextEntry({ model: files.model, modelDir: `${path.basename(base)}-tfjs-model`, vocabulary: files.vocabulary }, path.basename(entry)),
    );
    return [`${base}.vocabulary.json`, entry];
  }
  const entry = `${base}_text.py`;
  await writeFile(entry, textEntry(target, files, path.basename(entry)));
  return [`${base}.vocabulary.json`, entry];
}

/**
 * For a captioner: its words beside the model, which the exported decoders read to write words, not ids: those of
 * the dataset the run trained on, or else of the dataset written beside it for training (`--data`).
 */
async function writeCaptionWords(graph: GraphFile, run: string | undefined, data: string | undefined, outFile: string): Promise<string[]> {
  const words = (run && (await captionClassesOf(graph, run))) || (data && (await graphCaptionClasses(graph, data)));
  if (!words) return [];
  const file = captionVocabularyFile(outFile);
  await writeFile(file, captionVocabularyText(words));
  return [file];
}

/**
 * The graph with the fine-tuning settings (freeze, frozenBatchNorm,
 * lrMultipliers) and the ImageNet preset of the run its weights come from, so
 * that the exported training script goes on as the run trained.
 */
async function withRunSettings(graph: GraphFile, runDir: string): Promise<GraphFile> {
  let config: { dataset?: { normalize?: unknown }; freeze?: string[]; frozenBatchNorm?: 'inference' | 'train'; lrMultipliers?: Record<string, number> };
  try {
    config = JSON.parse(await readFile(path.join(runDir, RUN_FILES.config), 'utf8')) as typeof config;
  } catch {
    return graph; // a checkpoint outside a run folder: the graph's own settings
  }
  const { freeze, frozenBatchNorm, lrMultipliers } = config;
  return withFineTuning(graph, { freeze, frozenBatchNorm, lrMultipliers, imagenet: config.dataset?.normalize === 'imagenet' });
}

/** A dataset's samples in the order of a split, as arrays. */
function splitArrays(ds: ArrayDataset, split: string): NpyArray[] {
  const xs = ds.inputShape.reduce((a, b) => a * b, 1);
  const ls = ds.labelShape.reduce((a, b) => a * b, 1);
  const x = ds.x instanceof Int32Array ? new Int32Array(ds.size * xs) : new Float32Array(ds.size * xs);
  const y = new Int32Array(ds.size * ls);
  for (let i = 0; i < ds.size; i++) {
    const r = ds.row(i);
    x.set(ds.x.subarray(r * xs, (r + 1) * xs), i * xs);
    y.set(ds.labels.subarray(r * ls, (r + 1) * ls), i * ls);
  }
  return [
    { name: `x_${split}`, data: x, shape: [ds.size, ...ds.inputShape] },
    { name: `y_${split}`, data: y, shape: [ds.size, ...ds.labelShape] },
  ];
}

/**
 * A dataset as the .npz that exported PyTorch code trains on (`python model.py
 * --data FILE`): x_train, y_train, x_val, y_val, split and normalised as
 * `attn train` does; inputs as the graph's (images NHWC), labels class indices.
 */
export async function writeDataFile(graph: GraphFile, dataset: string, file: string, limit?: number): Promise<{ train: number; validation: number }> {
  const analysis = analyzeGraph(graph);
  const input = analysis.order.map((id) => analysis.nodes.get(id)!).find((n) => n.block.type === 'io.input');
  const shape = input?.outputShapes?.out.slice(1).map((d) => d ?? 0);
  const normalize = graph.dataset?.normalize === 'imagenet' ? ('imagenet' as const) : undefined; // as the script's image folders get it
  const data = await prepareData(
    { name: dataset, limit, ...(normalize && { normalize }) },
    shape ? { shape, vocab: input?.params.vocabSize as number | undefined } : undefined,
  );
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFile(file, encodeNpz([...splitArrays(data.train, 'train'), ...splitArrays(data.validation, 'val')]));
  return { train: data.train.size, validation: data.validation.size };
}

/** `--to onnx`: the ONNX file at `out` (the graph's outputs, images NCHW), with a run's weights if given. */
async function writeOnnx(graph: GraphFile, file: string, outPath: string | undefined, checkpoint: CheckpointModel | undefined, out: Out): Promise<number> {
  if (!outPath) {
    out.err('attn export: --to onnx needs --out (ONNX is a binary file)');
    return 2;
  }
  const target = path.extname(outPath) ? outPath : `${outPath}.onnx`;
  try {
    const weights = checkpoint ? await trainedTorchWeights(graph, checkpoint) : undefined;
    const onnx = await exportOnnx(graph, { weights });
    await mkdir(path.dirname(path.resolve(target)), { recursive: true });
    await writeFile(target, onnx);
  } catch (err) {
    if (!(err instanceof ExportError || err instanceof OnnxExportError)) throw err;
    out.err(printable(`${file}: ${err.message}`));
    return 1;
  }
  out.log(`wrote ${target}`);
  return 0;
}

export function registerExportCommand(program: Command, out: Out, setCode: (code: number) => void): void {
  program
    .command('export')
    .description('export a graph as code: TypeScript (tfjs), Python (Keras) or Python (PyTorch)')
    .argument('<file>', 'graph file')
    .addOption(
      new Option('--to <target>', 'target (without it, --data writes only the data file); onnx runs torch.onnx.export and needs --out').choices(
        EXPORT_FORMAT_IDS,
      ),
    )
    .option('--out <path>', 'write the code here (default: print it); with --data and no --to, the .npz file')
    .option(
      '--weights <run>',
      'the trained weights of a run folder (its newest checkpoint) or of one checkpoint (needs --out): a tfjs model folder, and for PyTorch and Keras a .safetensors file',
    )
    .option(
      '--data <dataset>',
      `also write a dataset as .npz for \`python model.py --data\` (needs --out): ${datasetNames().join(', ')}, an image folder or a .csv file`,
    )
    .option('--samples <n>', 'with --data: at most this many samples (training + validation)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--samples must be a positive integer, not "${v}"`);
      return n;
    })
    .action(async (file: string, o: { to?: Target | 'onnx'; out?: string; weights?: string; data?: string; samples?: number }) => {
      const r = await loadGraphFile(file);
      if (hasErrors(r.diagnostics) || !r.graph) {
        for (const d of r.diagnostics) out.err(formatDiagnostic(d, file));
        return setCode(1);
      }
      if (o.data && !o.out) {
        out.err('attn export: --data needs --out, to know where to put the data file');
        return setCode(2);
      }
      if (!o.to && !o.data) {
        out.err(`attn export: say what to export: --to ${EXPORT_FORMAT_IDS.join('|')}, or --data DATASET`);
        return setCode(2);
      }
      if (!o.to) {
        const target = o.out!.endsWith('.npz') ? o.out! : `${o.out}.npz`;
        const n = await writeDataFile(r.graph, o.data!, target, o.samples);
        out.log(`wrote ${target} (${n.train} training and ${n.validation} validation samples)`);
        return setCode(0);
      }
      if (o.weights && !o.out) {
        out.err('attn export: --weights needs --out, to know where to put the weight files');
        return setCode(2);
      }
      // The checkpoint is found and verified (checksums, sizes, paths inside the run) before anything is written.
      let weights: CheckpointModel | undefined;
      let graph = r.graph;
      if (o.weights)
        try {
          const { runDir, checkpoint } = await locateCheckpoint(o.weights);
          weights = await checkpointModel(checkpoint);
          graph = await withRunSettings(graph, runDir);
        } catch (err) {
          if (!(err instanceof RunFolderError)) throw err;
          out.err(`attn export --weights: ${err.message}`);
          return setCode(1);
        }
      if (o.to === 'onnx') return setCode(await writeOnnx(graph, file, o.out, weights, out));
      let code: string;
      try {
        code = exportCode(graph, o.to);
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
      if (weights) for (const w of await writeWeights(graph, o.to, weights, target)) out.log(`wrote ${w}`);
      if (o.weights) for (const w of await writeTextFiles(o.weights, o.to, target)) out.log(`wrote ${w}`);
      for (const w of await writeCaptionWords(graph, o.weights, o.data, target)) out.log(`wrote ${w}`);
      if (o.data) {
        const dataFile = `${target.replace(/\.(ts|py)$/, '')}.npz`;
        const n = await writeDataFile(graph, o.data, dataFile, o.samples);
        out.log(`wrote ${dataFile} (${n.train} training and ${n.validation} validation samples)`);
      }
      setCode(0);
    });
}
