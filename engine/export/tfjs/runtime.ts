// Data, saving and the command line of an exported tfjs model, for Node:
// `node model.js --data data.npz` (the .npz that `attn export --data DATASET`
// writes: x_train, y_train, x_val, y_val, or x0_train, x1_train, ... for several
// inputs; images NHWC; labels class indices). The TypeScript exporter copies this
// file below its imports into every export (engine/export/tfjs.ts), and tsc checks
// it here with the project's settings. Node modules are imported where they are
// used, so that buildModel() still runs in a browser.
import * as tf from '@tensorflow/tfjs';

export interface Training {
  epochs: number;
  batchSize: number;
}

type Train = (
  model: tf.LayersModel,
  xs: tf.Tensor[],
  ys: tf.Tensor[],
  epochs?: number,
  batchSize?: number,
  validationData?: [tf.Tensor[], tf.Tensor[]],
) => Promise<tf.History>;

/** One .npy file (format 1.0 to 3.0) as a tensor: float32, or int32 for integer arrays. */
function parseNpy(bytes: Uint8Array, where: string): tf.Tensor {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') throw new Error(`${where} is not a .npy array`);
  const major = bytes[6];
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '')
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean)
    .map(Number);
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${where}: Fortran-ordered arrays are not read`);
  const data = bytes.slice(start + headerLength); // a copy, aligned for the typed arrays below
  switch (descr) {
    case '<f4':
      return tf.tensor(new Float32Array(data.buffer), shape, 'float32');
    case '<f8':
      return tf.tensor(Float32Array.from(new Float64Array(data.buffer)), shape, 'float32');
    case '<i4':
      return tf.tensor(new Int32Array(data.buffer), shape, 'int32');
    case '<i8':
      return tf.tensor(Int32Array.from(new BigInt64Array(data.buffer), Number), shape, 'int32');
    case '|u1':
      return tf.tensor(Float32Array.from(data), shape, 'float32');
    default:
      throw new Error(`${where}: arrays of type ${descr} are not read (float32, float64, int32, int64 and uint8 are)`);
  }
}

/** The arrays of an .npz file (a zip of .npy files, stored uncompressed as numpy.savez and `attn export --data` write). */
export async function readNpz(path: string): Promise<Map<string, tf.Tensor>> {
  const { readFileSync } = await import('node:fs');
  const bytes = new Uint8Array(readFileSync(path));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const arrays = new Map<string, tf.Tensor>();
  let at = 0;
  while (at + 30 <= bytes.length && view.getUint32(at, true) === 0x04034b50) {
    const method = view.getUint16(at + 8, true);
    const size = view.getUint32(at + 18, true);
    const nameLength = view.getUint16(at + 26, true);
    const extraLength = view.getUint16(at + 28, true);
    const name = new TextDecoder().decode(bytes.subarray(at + 30, at + 30 + nameLength));
    const start = at + 30 + nameLength + extraLength;
    if (method !== 0) throw new Error(`${path}: ${name} is compressed; write the file with numpy.savez (not savez_compressed) or attn export --data`);
    arrays.set(name.replace(/\.npy$/, ''), parseNpy(bytes.subarray(start, start + size), `${path}: ${name}`));
    at = start + size;
  }
  if (arrays.size === 0) throw new Error(`${path} holds no arrays (not an .npz file?)`);
  return arrays;
}

/** x_train, or x0_train, x1_train, ... for several inputs. */
function arraysOf(data: Map<string, tf.Tensor>, prefix: string, split: string): tf.Tensor[] {
  const one = data.get(`${prefix}_${split}`);
  if (one) return [one];
  const many: tf.Tensor[] = [];
  for (let i = 0; data.has(`${prefix}${i}_${split}`); i++) many.push(data.get(`${prefix}${i}_${split}`)!);
  return many;
}

/**
 * Class-index labels as one-hot rows where the loss wants them (categorical cross-entropy; -1 gives a zero row),
 * and for sparse cross-entropy over steps as floats with a last axis of 1 ([n, steps] → [n, steps, 1]: tfjs wants
 * the labels at the output's rank, widening only 1-D ones itself, and floors them as floats).
 */
function targets(y: tf.Tensor, loss: string | null, output: tf.SymbolicTensor): tf.Tensor {
  const classes = output.shape[output.shape.length - 1];
  if (loss === 'sparseCategoricalCrossentropy' && y.rank > 1 && y.rank === output.shape.length - 1) return y.expandDims(-1).toFloat();
  if (loss !== 'categoricalCrossentropy' || y.dtype !== 'int32' || classes === null || y.rank !== output.shape.length - 1) return y;
  return tf
    .oneHot(y.flatten(), classes)
    .reshape([...y.shape, classes])
    .toFloat();
}

/** The model's inputs and targets for one split, checked against the model. */
function split(
  data: Map<string, tf.Tensor>,
  name: string,
  model: tf.LayersModel,
  losses: (string | null)[],
  path: string,
): [tf.Tensor[], tf.Tensor[]] | undefined {
  const xs = arraysOf(data, 'x', name);
  const ys = arraysOf(data, 'y', name);
  if (xs.length === 0) return undefined;
  if (xs.length !== model.inputs.length) throw new Error(`${path} holds ${xs.length} inputs for ${name}, the model takes ${model.inputs.length}`);
  if (ys.length !== model.outputs.length) throw new Error(`${path} holds ${ys.length} targets for ${name}, the model has ${model.outputs.length} outputs`);
  return [xs, ys.map((y, i) => targets(y, losses[i], model.outputs[i]))];
}

/** Saves the model as model.json + weights.bin in `dir` (what tf.loadLayersModel reads). */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = artifacts.weightData ? new Uint8Array(artifacts.weightData as ArrayBuffer) : new Uint8Array(0);
      writeFileSync(join(dir, 'weights.bin'), weights);
      const manifest = [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }];
      writeFileSync(join(dir, 'model.json'), JSON.stringify({ modelTopology: artifacts.modelTopology, format: 'layers-model', weightsManifest: manifest }));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

/**
 * The trained model's validation scores, as "loss 0.1234, acc 0.9876": those `train` logged for its last epoch
 * (after which the weights did not change), so that a training loop with its own validation (a caption decoder's,
 * over the labelled steps alone) is reported as it validated; evaluate()'s where it logged none.
 */
function validationScores(model: tf.LayersModel, history: tf.History, [xs, ys]: [tf.Tensor[], tf.Tensor[]], batchSize: number): string {
  const logged = Object.entries(history.history).filter(([name]) => name.startsWith('val_'));
  if (logged.length) return logged.map(([name, perEpoch]) => `${name.slice(4)} ${Number(perEpoch[perEpoch.length - 1]).toFixed(4)}`).join(', ');
  const scores = [model.evaluate(xs, ys, { batchSize })].flat() as tf.Scalar[];
  return model.metricsNames.map((m, i) => `${m} ${scores[i].dataSync()[0].toFixed(4)}`).join(', ');
}

const USAGE = `usage: node model.js --data DATA.npz [--epochs N] [--batch-size N] [--save DIR]

  --data FILE       an .npz from \`attn export --data DATASET\` (x_train, y_train, x_val, y_val)
  --epochs N        training epochs (default: the graph's)
  --batch-size N    samples per step (default: the graph's)
  --save DIR        write the trained model there (model.json + weights.bin, for tf.loadLayersModel)`;

/** What main() hands on after training: the validation data's predicted and true classes (a captioner's export prints captions). */
type Report = (predicted: number[][], truth: number[][]) => unknown;

/**
 * The first output's most likely class at each position for the validation inputs, and the first targets as
 * class ids, as targets() left them: sparse labels over steps [n, T, 1], or one-hot rows (an empty row: -1).
 */
function predictedClasses(model: tf.LayersModel, [xs, ys]: [tf.Tensor[], tf.Tensor[]], batchSize: number): [number[][], number[][]] {
  return tf.tidy(() => {
    const out = model.predict(xs, { batchSize });
    const first = Array.isArray(out) ? out[0] : out;
    const y = ys[0];
    const truth =
      y.shape[y.shape.length - 1] === 1
        ? y.squeeze([-1]).round().toInt()
        : y.rank === first.rank
          ? tf.where(y.sum(-1).greater(0), y.argMax(-1), tf.fill(y.shape.slice(0, -1), -1, 'int32'))
          : y.toInt();
    return [first.argMax(-1).arraySync() as number[][], truth.arraySync() as number[][]];
  });
}

/**
 * The command line. Returns the training loss of each epoch, or undefined where it only printed the usage.
 * After training, `report` gets predictedClasses() of the validation data (a captioner's export passes reportCaptions).
 */
export async function main(
  buildModel: () => tf.LayersModel,
  train: Train,
  losses: (string | null)[],
  training: Training,
  argv: string[] = process.argv.slice(2),
  report?: Report,
): Promise<number[] | undefined> {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      return undefined;
    }
    if (!['--data', '--epochs', '--batch-size', '--save'].includes(flag) || i + 1 >= argv.length)
      throw new Error(`${flag}: not an option, or no value given\n${USAGE}`);
    args.set(flag, argv[++i]);
  }
  const count = (flag: string, fallback: number) => {
    const v = args.get(flag);
    if (v === undefined) return fallback;
    if (!/^[1-9]\d*$/.test(v)) throw new Error(`${flag} must be a positive integer, not "${v}"`);
    return Number(v);
  };
  const epochs = count('--epochs', training.epochs);
  const batchSize = count('--batch-size', training.batchSize);
  const model = buildModel();
  const path = args.get('--data');
  if (!path) {
    console.log(`${model.name}: ${model.countParams().toLocaleString('en')} parameters. No --data given.\n${USAGE}`);
    return undefined;
  }
  const data = await readNpz(path);
  const trainSet = split(data, 'train', model, losses, path);
  if (!trainSet) throw new Error(`${path} has no x_train (arrays: ${[...data.keys()].join(', ')})`);
  const validation = split(data, 'val', model, losses, path);
  const history = await train(model, trainSet[0], trainSet[1], epochs, batchSize, validation);
  const lossPerEpoch = (history.history.loss as number[]).map(Number);
  console.log(`training loss per epoch: ${lossPerEpoch.map((l) => l.toFixed(4)).join(' ')}`);
  if (validation) console.log(`validation: ${validationScores(model, history, validation, batchSize)}`);
  if (validation && report) await report(...predictedClasses(model, validation, batchSize));
  const save = args.get('--save');
  if (save) {
    await saveModel(model, save);
    console.log(`saved ${save}`);
  }
  return lossPerEpoch;
}
