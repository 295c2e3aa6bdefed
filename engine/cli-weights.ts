// `attn predict` (a trained model on a .npy array) and `attn weights import`
// (pretrained weights into a run folder that training, predict and export use).
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { loadGraphFile } from './shapes/load.js';
import { formatDiagnostic, hasErrors, type GraphFile } from './graph/types.js';
import { loadTf } from './backends/load-tf.js';
import { BACKEND_OPTIONS, selectBackend, type BackendOption } from './backends/select.js';
import { RunFolder, RUN_FILES } from './runs/index.js';
import { encodeTexts, textShape, vocabularySchema } from './data/text.js';
import { loadTrainedModel, predictOutputs } from './worker/run-model.js';
import { readNpy, writeNpy } from './weights/npy.js';
import { reportLines, WeightsImportError } from './weights/import.js';
import { importWeightsToRun } from './weights/import-run.js';
import { captionWords, END_ID } from './data/captions.js';
import { captionClassesOf } from './data/caption-vocabulary.js';
import { beamCaptions } from './worker/caption-decode.js';

type Out = { log: (s: string) => void; err: (s: string) => void };

async function graphOf(file: string, command: string, out: Out): Promise<GraphFile | undefined> {
  const r = await loadGraphFile(file);
  if (hasErrors(r.diagnostics) || !r.graph) {
    for (const d of r.diagnostics) out.err(formatDiagnostic(d, file));
    out.err(`attn ${command}: ${file} has errors`);
    return undefined;
  }
  return r.graph;
}

/** Texts as token ids, with the vocabulary saved in the run that `weights` names. */
async function textInput(texts: string[], weights: string): Promise<{ shape: number[]; data: Int32Array }> {
  const { run } = await RunFolder.forResume(weights);
  const saved = await run.readJson(RUN_FILES.vocabulary);
  if (saved === undefined) throw new Error(`${weights}: the run has no ${RUN_FILES.vocabulary} (it was not trained on text), so --text cannot be tokenised`);
  const parsed = vocabularySchema.safeParse(saved);
  if (!parsed.success) throw new Error(`${path.join(run.path, RUN_FILES.vocabulary)}: not a vocabulary (${parsed.error.issues[0]?.message})`);
  return { shape: [texts.length, ...textShape(parsed.data)], data: encodeTexts(texts, parsed.data) };
}

async function predict(
  file: string,
  o: { weights: string; input?: string; text?: string[]; out?: string; json?: boolean; batchSize: string; beam?: string; backend: BackendOption },
  out: Out,
): Promise<number> {
  const graph = await graphOf(file, 'predict', out);
  if (!graph) return 1;
  if ((o.input === undefined) === (o.text === undefined)) {
    out.err('attn predict: give either --input x.npy or --text "…"');
    return 1;
  }
  const beam = o.beam === undefined ? undefined : Number(o.beam);
  if (beam !== undefined && !(Number.isInteger(beam) && beam >= 1)) {
    out.err(`attn predict: --beam must be a positive integer, not "${o.beam}"`);
    return 1;
  }
  const x = o.input !== undefined ? readNpy(await readFile(o.input), o.input) : await textInput(o.text!, o.weights);
  const { tf } = await selectBackend({ backend: o.backend });
  const { compiled } = await loadTrainedModel(tf, graph, o.weights);
  try {
    if (compiled.inputs.length !== 1) throw new Error(`${file} has ${compiled.inputs.length} inputs; attn predict feeds one`);
    const want = compiled.inputs[0].shape.slice(1);
    const got = x.shape.slice(1);
    if (want.length !== got.length || want.some((d, i) => d !== null && d !== got[i]))
      throw new Error(`${o.input ?? '--text'} is [${x.shape.join(', ')}]; the graph's input is [batch, ${want.map((d) => d ?? '?').join(', ')}] (images NHWC)`);
    const input = compiled.inputs[0].dtype === 'int32' ? tf.tensor(Int32Array.from(x.data), x.shape, 'int32') : tf.tensor(x.data, x.shape);
    const [y, ...rest] = predictOutputs(tf, compiled, input, Number(o.batchSize));
    const result = { shape: y.shape, data: Float32Array.from(y.dataSync()) };
    tf.dispose([y, ...rest]);
    let captions: string[] | undefined;
    let logProbs: number[] | undefined;
    try {
      const classes = await captionClassesOf(graph, o.weights);
      if (beam !== undefined && !classes) throw new Error(`${file}: --beam decodes captions, and this is not a captioner trained on captions`);
      if (beam !== undefined && classes) {
        const best = beamCaptions(tf, compiled, input, beam, END_ID).map((found) => found[0]);
        captions = best.map((c) => captionWords(c.ids, classes).join(' '));
        logProbs = best.map((c) => c.logProb);
      } else if (classes && result.shape.length === 3) captions = greedyCaptions(result, classes);
    } finally {
      input.dispose();
    }
    if (o.out) await writeFile(o.out, writeNpy(result));
    if (o.json)
      out.log(JSON.stringify({ shape: result.shape, data: Array.from(result.data), ...(captions && { captions }), ...(logProbs && { beam, logProbs }) }));
    else {
      if (o.out) out.log(`wrote ${o.out} [${result.shape.join(', ')}]`);
      for (const c of captions ?? []) out.log(c);
    }
    return 0;
  } finally {
    compiled.model.dispose();
  }
}

/** The captions in a captioner's output [n, steps, vocab] (its decoder reads each step's argmax: the greedy captions), up to <end>. */
function greedyCaptions(y: { shape: number[]; data: Float32Array }, classes: readonly string[]): string[] {
  const [n, steps, vocab] = y.shape;
  return Array.from({ length: n }, (_, s) => {
    const ids = Array.from({ length: steps }, (_, t) => {
      const row = y.data.subarray((s * steps + t) * vocab, (s * steps + t + 1) * vocab);
      return row.indexOf(Math.max(...row));
    });
    return captionWords(ids, classes).join(' ');
  });
}

async function importCommand(file: string, weights: string, o: { out: string; partial?: boolean; json?: boolean }, out: Out): Promise<number> {
  const graph = await graphOf(file, 'weights import', out);
  if (!graph) return 1;
  const tf = await loadTf();
  let imported;
  try {
    imported = await importWeightsToRun(tf, graph, weights, { partial: o.partial, out: { dir: o.out } });
  } catch (err) {
    if (!(err instanceof WeightsImportError)) throw err;
    if (o.json) out.log(JSON.stringify({ ok: false, ...err.report }));
    out.err(`attn weights import: ${weights}: ${err.message}`);
    return 1;
  }
  const { run, checkpoint, report } = imported;
  if (o.json) out.log(JSON.stringify({ ok: true, run: run.path, checkpoint, ...report }));
  else {
    for (const line of reportLines(report)) out.log(line);
    out.log(`wrote ${checkpoint}`);
  }
  return 0;
}

export function registerWeightsCommands(program: Command, out: Out, setCode: (code: number) => void): void {
  program
    .command('predict')
    .description("run a graph with a run's trained weights on a float32 .npy array (NHWC images, or [batch, time, …]) or on texts, and write its first output")
    .argument('<file>', 'graph file')
    .requiredOption('--weights <run>', 'a run folder (its newest checkpoint) or one checkpoint')
    .option('--input <x.npy>', 'the input batch')
    .option('--text <text...>', "texts, tokenised with the run's vocabulary.json (a model trained on text)")
    .option('--out <y.npy>', 'where to write the first output')
    .option('--json', 'print the output as JSON')
    .option('--batch-size <n>', 'samples per forward pass', '8')
    .option('--beam <k>', "a captioner's captions by beam search of width k (default: greedy, the model's output)")
    .addOption(
      new Option('--backend <b>', 'tfjs backend: cpu (pure JS, the default) or another; wasm is many times faster on a ResNet-50')
        .choices([...BACKEND_OPTIONS])
        .default('cpu'),
    )
    .action(async (file: string, o) => setCode(await predict(file, o, out)));
  program
    .command('weights')
    .description('pretrained weights')
    .command('import')
    .description(
      "pretrained weights (.safetensors, or .pth/.pt through a Python with torch) into a run folder; names of our PyTorch export, torchvision's ResNet and VisionTransformer, timm's ViT and seresnet50, or the CBAM authors' ResNet",
    )
    .argument('<file>', 'graph file')
    .argument('<weights>', '.safetensors, .pth or .pt state_dict')
    .requiredOption('--out <run>', 'the run folder to write')
    .option('--partial', 'load what fits and list the rest (a new head, an inserted block)')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, weights: string, o) => setCode(await importCommand(file, weights, o, out)));
}
