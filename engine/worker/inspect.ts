// Inspection after training: one validation sample (or a given PNG or JPEG,
// fitted to the input as the run's dataset fitted its images) through a
// checkpoint of a run, answered with the prediction and every attention map.
// Runs in the training process (never in the app's own), like training does.
import type { Tensor } from '../blocks/contract.js';
import { selectBackend, type BackendOption } from '../backends/select.js';
import { compileGraph } from '../compile/compile.js';
import { IGNORE, prepareData, type Normalization } from '../data/index.js';
import { decodeImage, imageInput } from '../data/image-folder.js';
import type { GraphFile } from '../graph/types.js';
import { loadCheckpoint, resolveCheckpoint } from '../train/checkpoint.js';
import type { AttentionMap } from '../train/events.js';
import { downsample } from '../train/probes.js';
import { inputHint } from '../train/setup.js';
import type { InspectCommandParsed, Inspection } from './protocol.js';

export async function inspectSample(cmd: InspectCommandParsed): Promise<Inspection> {
  const graph = cmd.graph as unknown as GraphFile;
  const { tf, backend } = await selectBackend({ backend: cmd.backend as BackendOption });
  const data = await prepareData(cmd.dataset, inputHint(graph));
  const source = data.validation.size > 0 ? data.validation : data.train;
  const image = cmd.image && imageFor(cmd.image, source.inputShape, data.normalization);
  if (!image && cmd.index >= source.size) throw new Error(`sample ${cmd.index} does not exist: the validation split has ${source.size} samples`);
  const compiled = compileGraph(tf, graph);
  const checkpoint = await resolveCheckpoint(cmd.checkpoint);
  const ck = await loadCheckpoint(tf, checkpoint);
  const tensors: Tensor[] = [];
  try {
    if (ck.weights.length !== compiled.model.weights.length) throw new Error(`checkpoint ${checkpoint} holds ${ck.weights.length} weights, the model has ${compiled.model.weights.length}: it is from another graph`);
    compiled.model.setWeights(ck.weights);
    const outputs = [...compiled.model.outputs, ...compiled.attention.map((a) => a.tensor)];
    const probe = tf.model({ inputs: compiled.model.inputs, outputs });
    const { x, labels } = image ? { x: tf.tensor(image.x, [1, ...source.inputShape]), labels: [IGNORE] } : source.batch(tf, [cmd.index]);
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
    const input = await x.data();
    return {
      type: 'inspection',
      index: image ? -1 : cmd.index,
      validationSamples: source.size,
      ...(image && { image: image.info }),
      classNames: [...data.classNames],
      label: [...labels],
      input: { shape: x.shape.slice(1), data: input instanceof Int32Array ? Int32Array.from(input) : Float32Array.from(input as Float32Array) },
      outputs: await Promise.all(compiled.outputs.map(async (o, i) => ({ nodeId: o.nodeId, shape: list[i].shape.slice(1), probs: Float32Array.from((await list[i].data()) as Float32Array) }))),
      maps,
      checkpoint,
      backend,
    };
  } finally {
    tf.dispose([...tensors, ...ck.weights, ...ck.optimizer]);
    compiled.model.dispose();
  }
}

/** A given image as the model's input, or an error that names the file. */
function imageFor(image: { name: string; bytes: Uint8Array }, shape: readonly number[], normalization?: Normalization) {
  try {
    const img = decodeImage(image.bytes);
    return { x: imageInput(img, shape, normalization), info: { name: image.name, width: img.width, height: img.height } };
  } catch (err) {
    throw new Error(`${image.name}: ${(err as Error).message}`);
  }
}
