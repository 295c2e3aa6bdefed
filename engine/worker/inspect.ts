// Inspection after training: one validation sample (or a given PNG or JPEG,
// fitted to the input as the run's dataset fitted its images) through a
// checkpoint of a run, answered with the prediction and every attention map.
// Runs in the training process (never in the app's own), like training does;
// an inspection process answers many calls and keeps the model between them.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs';
import type { Tensor, TF } from '../blocks/contract.js';
import { selectBackend, type BackendOption } from '../backends/select.js';
import { compileGraph, type CompiledGraph } from '../compile/compile.js';
import { centreCropOf, IGNORE, prepareData, type DatasetSpec, type Normalization, type PreparedData } from '../data/index.js';
import { decodeImage, imageInput } from '../data/image-folder.js';
import { encodeTexts, sentenceTokens, tokensOf, type Vocabulary } from '../data/text.js';
import type { GraphFile } from '../graph/types.js';
import { loadCheckpoint, resolveCheckpoint } from '../train/checkpoint.js';
import type { AttentionMap } from '../schemas/train-events.js';
import { downsample } from '../train/probes.js';
import { captionOutput, readCaption } from '../train/caption-record.js';
import { inspectExplanations } from '../explain/inspection.js';
import { inputHint } from '../train/setup.js';
import type { InspectCommandParsed, Inspection } from './protocol.js';

/**
 * What an inspection process keeps between calls: the data split and the
 * compiled model for one (graph, dataset, backend), and the checkpoint whose
 * weights the model holds. A call for another run rebuilds it all; another
 * checkpoint (or the same one rewritten) reloads the weights only.
 */
interface Loaded {
  key: string;
  tf: TF;
  backend: string;
  data: PreparedData;
  compiled: CompiledGraph;
  probe: LayersModel;
  /** The checkpoint folder whose weights are in the model, and its files' sizes and times. */
  checkpoint?: { dir: string; stamp: string };
}

let loaded: Loaded | undefined;

async function load(cmd: InspectCommandParsed): Promise<Loaded> {
  const graph = cmd.graph as unknown as GraphFile;
  const key = JSON.stringify([cmd.graph, cmd.dataset, cmd.backend]);
  if (loaded?.key !== key) {
    forget();
    const { tf, backend } = await selectBackend({ backend: cmd.backend as BackendOption });
    const data = await prepareData(cmd.dataset, inputHint(graph));
    const compiled = compileGraph(tf, graph);
    const caption = captionOutput(compiled.attention);
    const probe = tf.model({
      inputs: compiled.model.inputs,
      outputs: [...compiled.model.outputs, ...compiled.attention.map((a) => a.tensor), ...(caption ? [caption.words] : [])],
    });
    loaded = { key, tf, backend, data, compiled, probe };
  }
  const dir = await resolveCheckpoint(cmd.checkpoint);
  const stamp = await stampOf(dir);
  if (loaded.checkpoint?.dir !== dir || loaded.checkpoint.stamp !== stamp) {
    loaded.checkpoint = undefined;
    const ck = await loadCheckpoint(loaded.tf, dir);
    try {
      const { model } = loaded.compiled;
      if (ck.weights.length !== model.weights.length)
        throw new Error(`checkpoint ${dir} holds ${ck.weights.length} weights, the model has ${model.weights.length}: it is from another graph`);
      model.setWeights(ck.weights);
    } finally {
      loaded.tf.dispose([...ck.weights, ...ck.optimizer]);
    }
    loaded.checkpoint = { dir, stamp };
  }
  return loaded;
}

/** Disposes what the last call loaded. */
function forget(): void {
  loaded?.compiled.model.dispose();
  loaded = undefined;
}

/** Names, sizes and modification times of a checkpoint's files: a rewritten checkpoint has another stamp. */
async function stampOf(dir: string): Promise<string> {
  const files = (await readdir(dir)).sort();
  const stats = await Promise.all(
    files.map((f) =>
      stat(path.join(dir, f)).then(
        (s) => `${f}:${s.size}:${s.mtimeMs}`,
        () => f,
      ),
    ),
  );
  return stats.join('|');
}

export async function inspectSample(cmd: InspectCommandParsed): Promise<Inspection> {
  const { tf, backend, data, compiled, probe, checkpoint } = await load(cmd);
  const source = data.validation.size > 0 ? data.validation : data.train;
  const image = cmd.image && imageFor(cmd.image, source.inputShape, data.normalization, cmd.dataset);
  const typed = cmd.text !== undefined ? textInput(cmd.text, data.vocabulary) : undefined;
  const given = image ?? typed;
  if (!given && cmd.index >= source.size) throw new Error(`sample ${cmd.index} does not exist: the validation split has ${source.size} samples`);
  const tensors: Tensor[] = [];
  try {
    const { x, labels } = given
      ? { x: tf.tensor(given.x, [1, ...source.inputShape], given.x instanceof Int32Array ? 'int32' : 'float32'), labels: [IGNORE] }
      : source.batch(tf, [cmd.index]);
    tensors.push(x);
    const out = probe.predict(x) as Tensor | Tensor[];
    const list = Array.isArray(out) ? out : [out];
    tensors.push(...list);
    const n = compiled.model.outputs.length;
    const maps: AttentionMap[] = [];
    for (const [i, a] of compiled.attention.entries()) {
      const t = list[n + i];
      const full = (await t.data()) as Float32Array;
      const small = downsample(full, t.shape, cmd.maxElements);
      maps.push({ nodeId: a.nodeId, port: a.port, kind: a.kind, axes: a.axes, shape: small.shape, fullShape: t.shape, data: Float32Array.from(small.data) });
    }
    const decoder = captionOutput(compiled.attention);
    const caption =
      decoder && (await readCaption(decoder, list[n + compiled.attention.length], list[n + compiled.attention.indexOf(decoder)], data.classNames, labels));
    const input = await x.data();
    const explanations = cmd.explain && (await inspectExplanations(tf, cmd.graph as unknown as GraphFile, compiled, x, cmd.explain));
    return {
      type: 'inspection',
      index: given ? -1 : cmd.index,
      validationSamples: source.size,
      ...(image && { image: image.info }),
      ...(typed && { text: cmd.text }),
      ...(data.vocabulary && input instanceof Int32Array && { words: tokensOf(input, data.vocabulary) }),
      ...(data.vocabulary?.maxSentences && input instanceof Int32Array && { sentences: sentenceTokens(input, data.vocabulary) }),
      classNames: [...data.classNames],
      label: [...labels],
      input: { shape: x.shape.slice(1), data: input instanceof Int32Array ? Int32Array.from(input) : Float32Array.from(input as Float32Array) },
      outputs: await Promise.all(
        compiled.outputs.map(async (o, i) => ({
          nodeId: o.nodeId,
          shape: list[i].shape.slice(1),
          probs: Float32Array.from((await list[i].data()) as Float32Array),
        })),
      ),
      maps,
      ...(caption && { caption }),
      ...(explanations && { explanations }),
      checkpoint: checkpoint!.dir,
      backend,
    };
  } finally {
    tf.dispose(tensors);
  }
}

/** A typed text as the model's input, tokenised as training tokenised its texts. */
function textInput(text: string, vocabulary: Vocabulary | undefined): { x: Int32Array } {
  if (!vocabulary) throw new Error('this run was not trained on text, so a text cannot be inspected: give a validation sample or an image');
  if (!text.trim()) throw new Error('the text to inspect is empty');
  return { x: encodeTexts([text], vocabulary) };
}

/** A given image as the model's input (fitted and normalised as the images of `dataset` were), or an error that names the file. */
export function imageFor(
  image: { name: string; bytes: Uint8Array },
  shape: readonly number[],
  normalization: Normalization | undefined,
  dataset: Pick<DatasetSpec, 'normalize'>,
) {
  try {
    const img = decodeImage(image.bytes);
    return { x: imageInput(img, shape, normalization, centreCropOf(dataset)), info: { name: image.name, width: img.width, height: img.height } };
  } catch (err) {
    throw new Error(`${image.name}: ${(err as Error).message}`);
  }
}
