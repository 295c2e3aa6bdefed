// `attn explain`: Grad-CAM, Grad-CAM++, attention rollout or flow of one sample (a
// validation sample of the run's dataset, or a PNG/JPEG fitted to the input as
// the dataset fitted its images) by a run's trained model; writes the map over
// the input as a PNG and the raw arrays as JSON.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import type { Tensor } from './blocks/contract.js';
import { loadTf } from './backends/load-tf.js';
import { prepareData, type DatasetSpec } from './data/index.js';
import { encodePng } from './data/png.js';
import { EXPLAIN_METHODS, explain, overlay, type ExplainChoice, type Explanation } from './explain/index.js';
import { HEAD_FUSIONS, type HeadFusion } from './explain/rollout.js';
import { CAM_METHOD_NOTES, CAM_METHODS } from './schemas/inspection.js';
import { loadGraphFile } from './shapes/load.js';
import { formatDiagnostic, hasErrors } from './graph/types.js';
import { RunFolder } from './runs/index.js';
import { heatmap } from './runs/heatmap.js';
import { inputHint } from './train/setup.js';
import { imageFor } from './worker/inspect.js';
import { loadTrainedModel } from './worker/run-model.js';

type Out = { log: (s: string) => void; err: (s: string) => void };

interface ExplainOptions {
  run: string;
  sample?: string;
  image?: string;
  method: string;
  class?: string;
  layer?: string;
  fusion: string;
  discardRatio: string;
  opacity: string;
  out: string;
  json?: boolean;
}

function parseOptions(o: ExplainOptions) {
  if (!EXPLAIN_METHODS.includes(o.method as ExplainChoice)) throw new Error(`--method ${o.method}: one of ${EXPLAIN_METHODS.join(', ')}`);
  if (o.sample !== undefined && o.image !== undefined) throw new Error('give --sample or --image, not both');
  if (!HEAD_FUSIONS.includes(o.fusion as HeadFusion)) throw new Error(`--fusion ${o.fusion}: one of ${HEAD_FUSIONS.join(', ')}`);
  const count = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new Error(`${flag} ${v}: a whole number from 0`);
    return Number(v);
  };
  const fraction = (flag: string, v: string, below1: boolean) => {
    const x = Number(v);
    if (!(x >= 0 && (below1 ? x < 1 : x <= 1))) throw new Error(`${flag} ${v}: a number from 0 to ${below1 ? 'below ' : ''}1`);
    return x;
  };
  return {
    method: o.method as ExplainChoice,
    sample: count('--sample', o.sample) ?? 0,
    classIndex: count('--class', o.class),
    fusion: o.fusion as HeadFusion,
    discardRatio: fraction('--discard-ratio', o.discardRatio, true),
    opacity: fraction('--opacity', o.opacity, false),
  };
}

async function explainCommand(file: string, o: ExplainOptions, out: Out): Promise<number> {
  const opts = parseOptions(o);
  const r = await loadGraphFile(file);
  if (hasErrors(r.diagnostics) || !r.graph) {
    for (const d of r.diagnostics) out.err(formatDiagnostic(d, file));
    out.err(`attn explain: ${file} has errors`);
    return 1;
  }
  const graph = r.graph;
  const config = (await RunFolder.open(o.run).readJson('config.json')) as { dataset?: DatasetSpec } | undefined;
  const dataset = config?.dataset ?? (graph.dataset as DatasetSpec | undefined);
  if (!dataset) throw new Error(`${o.run} has no config.json naming its dataset, and ${file} names none`);
  const data = await prepareData(dataset, inputHint(graph));
  const source = data.validation.size > 0 ? data.validation : data.train;
  const tf = await loadTf();
  const { compiled, checkpoint } = await loadTrainedModel(tf, graph, o.run);
  const tensors: Tensor[] = [];
  try {
    let x: Tensor;
    if (o.image) {
      const image = imageFor({ name: o.image, bytes: await readFile(o.image) }, source.inputShape, data.normalization, dataset);
      x = tf.tensor(image.x, [1, ...source.inputShape]);
    } else {
      if (opts.sample >= source.size) throw new Error(`sample ${opts.sample} does not exist: the validation split has ${source.size} samples`);
      x = source.batch(tf, [opts.sample]).x;
    }
    tensors.push(x);
    const e = await explain(tf, graph, compiled, x, {
      method: opts.method,
      classIndex: opts.classIndex,
      layer: o.layer,
      fusion: opts.fusion,
      discardRatio: opts.discardRatio,
    });
    const input = Float32Array.from(await x.data());
    const name = `${e.method}-${o.image ? path.parse(o.image).name : `sample${opts.sample}`}`;
    await mkdir(o.out, { recursive: true });
    const png = path.join(o.out, `${name}.png`);
    const json = path.join(o.out, `${name}.json`);
    await writeFile(png, encodePng(picture(e, input, x.shape.slice(1), opts.opacity)));
    const record = {
      file,
      run: o.run,
      checkpoint,
      ...(o.image ? { image: o.image } : { sample: opts.sample }),
      ...(opts.method !== e.method && { asked: opts.method }),
      ...jsonOf(e, data.classNames),
    };
    await writeFile(json, `${JSON.stringify(record)}\n`);
    if (o.json) out.log(JSON.stringify({ png, json, ...record }));
    else out.log(`wrote ${png} and ${json}: ${summaryOf(e, data.classNames)}${noteOn(e, opts.method)}`);
    return 0;
  } finally {
    tf.dispose(tensors);
    compiled.model.dispose();
  }
}

/** Why the map shown is not the one asked for, or is empty. */
function noteOn(e: Explanation, asked: ExplainChoice): string {
  const why = "its channel weights, the class score's gradient averaged over the positions, left nothing above 0";
  if (asked === 'auto' && e.method === 'hirescam') return ` (Grad-CAM's map is empty here: ${why})`;
  if (e.method === 'rollout' || e.method === 'flow' || e.map.some((v) => v > 0)) return '';
  return e.method === 'gradcam' ? ` (the map is empty: ${why}; --method hirescam does not average the gradient)` : ' (the map is empty)';
}

/** Over the input when it is an image; else the map alone. */
function picture(e: Explanation, input: Float32Array, shape: readonly number[], opacity: number) {
  const image = shape.length === 3 && (shape[2] === 1 || shape[2] === 3);
  return image ? overlay(input, shape, e.map, e.rows, e.cols, opacity) : heatmap(e.map, [1, e.rows, e.cols], 'matrix');
}

function jsonOf(e: Explanation, classNames: readonly string[]) {
  return {
    method: e.method,
    layers: e.layers,
    ...(e.classIndex !== undefined && { class: e.classIndex, className: classNames[e.classIndex], predicted: e.predicted, probs: Array.from(e.probs!) }),
    rows: e.rows,
    cols: e.cols,
    map: Array.from(e.map),
    ...(e.joint && { tokens: e.tokens, joint: Array.from(e.joint) }),
  };
}

function summaryOf(e: Explanation, classNames: readonly string[]): string {
  const where = e.layers.map((l) => `${l.nodeId}.${l.port}`).join(' → ');
  if (e.classIndex === undefined) return `${e.method} through ${where}, ${e.rows}×${e.cols}`;
  const cls = (k: number) => `${k}${classNames[k] && classNames[k] !== String(k) ? ` (${classNames[k]})` : ''}`;
  return `${e.method} of class ${cls(e.classIndex)} (predicted ${cls(e.predicted!)}) on ${where}, ${e.rows}×${e.cols}`;
}

export function registerExplainCommand(program: Command, out: Out, setCode: (code: number) => void): void {
  program
    .command('explain')
    .description(
      "why a run's model decided what it did on one sample: Grad-CAM, Grad-CAM++, attention rollout or attention flow, as a PNG over the input and the raw arrays as JSON",
    )
    .argument('<file>', 'graph file')
    .requiredOption('--run <dir>', 'a run folder (its newest checkpoint) or one checkpoint')
    .option('--sample <n>', "a validation sample of the run's dataset (default 0)")
    .option('--image <png>', 'a PNG or JPEG instead, fitted to the input as the dataset fits its images')
    .option(
      '--method <m>',
      `${EXPLAIN_METHODS.join(' | ')}; auto: Grad-CAM, or HiResCAM where Grad-CAM's map is empty, as the app shows; flow: attention flow (Abnar & Zuidema 2020), the maximum flow through the attention layers where rollout multiplies them. ${CAM_METHODS.map((m) => CAM_METHOD_NOTES[m]).join(' ')}`,
      'auto',
    )
    .option('--class <k>', 'Grad-CAM: the class to explain (default: the predicted one)')
    .option(
      '--layer <node>',
      'Grad-CAM: the node (or node:port) to weigh (default: the last spatial layer before the head, before any pooling of it; for a ViT, the tokens entering its last attention)',
    )
    .option('--fusion <f>', `rollout and flow: how heads are fused, ${HEAD_FUSIONS.join(' | ')}`, 'mean')
    .option('--discard-ratio <r>', 'rollout and flow: fraction of the smallest attention weights dropped per layer', '0')
    .option('--opacity <a>', "the map's share in the overlay", '0.5')
    .requiredOption('--out <dir>', 'the folder to write the PNG and JSON to')
    .option('--json', 'print what was written as JSON')
    .action(async (file: string, o: ExplainOptions) => setCode(await explainCommand(file, o, out)));
}
