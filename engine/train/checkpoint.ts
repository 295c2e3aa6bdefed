// Checkpoints in the tfjs format: model.json + weights.bin (loadable with
// tf.loadLayersModel), plus optimizer.bin and trainer.json (the optimizer's
// state and the trainer's position, so that a run resumes exactly). Where they
// go, in what order, and their checksums are engine/runs' business; this file
// turns a model into those files and verified files back into tensors.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import type { Tensor, TF } from '../blocks/contract.js';
import { inside, locateCheckpoint, readCheckpoint, RunFolderError, type CheckpointFiles, type MetricRow, type RunFolder } from '../runs/index.js';

type WeightSpec = tfjs.io.WeightsManifestEntry;
type WeightsManifest = { paths: string[]; weights: WeightSpec[] }[];

const MODEL_JSON = 'model.json';
const WEIGHTS = 'weights.bin';
const OPTIMIZER = 'optimizer.bin';
const TRAINER = 'trainer.json';

const bytesOf = (s: WeightSpec) => s.shape.reduce((a, b) => a * b, 1) * 4;

function checkDtypes(specs: WeightSpec[], file: string): void {
  for (const s of specs)
    if (s.dtype !== 'float32' && s.dtype !== 'int32') throw new RunFolderError(`${file}: weight ${s.name} has unsupported dtype ${s.dtype}`);
}

/** Refuses weight bytes that are not exactly the listed weights (cut short, or with bytes after the last one). */
function checkLength(specs: WeightSpec[], data: Uint8Array, file: string): void {
  checkDtypes(specs, file);
  const want = specs.reduce((n, s) => n + bytesOf(s), 0);
  if (data.byteLength < want) throw new RunFolderError(`${file} ends before its last weight: ${data.byteLength} bytes, the weights take ${want}`);
  if (data.byteLength > want) throw new RunFolderError(`${file} has ${data.byteLength - want} bytes after its last weight: refused`);
}

/** Concatenated raw bytes of tensors and their specs (float32 and int32 only). */
async function encode(tensors: { name: string; tensor: Tensor }[]): Promise<{ specs: WeightSpec[]; data: Buffer }> {
  const specs: WeightSpec[] = [];
  const parts: Buffer[] = [];
  for (const { name, tensor } of tensors) {
    const values = (await tensor.data()) as Float32Array | Int32Array;
    specs.push({ name, shape: tensor.shape, dtype: tensor.dtype as 'float32' | 'int32' });
    parts.push(Buffer.from(values.buffer, values.byteOffset, values.byteLength));
  }
  return { specs, data: Buffer.concat(parts) };
}

/** Tensors from raw bytes, by position in the spec list (names may repeat between tfjs models). */
function decode(tf: TF, specs: WeightSpec[], data: Uint8Array, file: string): Tensor[] {
  checkLength(specs, data, file);
  let at = 0;
  return specs.map((s) => {
    const copy = new Uint8Array(data.subarray(at, (at += bytesOf(s)))).buffer; // aligned
    return tf.tensor(s.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy), s.shape, s.dtype);
  });
}

/**
 * Model artifacts from model.json's text and its weight files, read by
 * `read` for each name in its weightsManifest (each checked by the caller).
 */
async function artifactsOf(modelJson: string, where: string, read: (p: unknown) => Promise<Uint8Array>): Promise<tfjs.io.ModelArtifacts> {
  let json: { weightsManifest?: WeightsManifest };
  try {
    json = JSON.parse(modelJson) as typeof json;
  } catch (e) {
    throw new RunFolderError(`${where} is damaged: ${(e as Error).message}`);
  }
  const { weightsManifest, ...rest } = json;
  if (!Array.isArray(weightsManifest) || !weightsManifest.every((g) => Array.isArray(g?.paths) && Array.isArray(g?.weights)))
    throw new RunFolderError(`${where} has no readable weightsManifest`);
  const weightSpecs = weightsManifest.flatMap((g) => g.weights);
  const parts = await Promise.all(weightsManifest.flatMap((g) => g.paths).map(read));
  const data = Buffer.concat(parts);
  checkLength(
    weightSpecs,
    data,
    weightsManifest
      .flatMap((g) => g.paths)
      .map((p) => path.join(path.dirname(where), p))
      .join(' + ') || where,
  );
  return { ...(rest as tfjs.io.ModelArtifacts), weightSpecs, weightData: new Uint8Array(data).buffer };
}

/** A tfjs IOHandler on a model folder (model.json + weights.bin): tfjs-node's file:// without tfjs-node; loading keeps to the folder. */
export function folderHandler(tf: TF, dir: string): tfjs.io.IOHandler {
  return {
    async save(a) {
      await mkdir(dir, { recursive: true });
      for (const [name, data] of modelFiles(tf, a)) await writeFile(path.join(dir, name), data);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
    },
    async load() {
      const file = path.join(dir, MODEL_JSON);
      return artifactsOf(await readFile(file, 'utf8'), file, (p) => readFile(inside(dir, p, `${file}'s weightsManifest`)));
    },
  };
}

/** A tfjs IOHandler that loads a verified checkpoint: model.json may only name weight files that the checkpoint's manifest checksums. */
export function checkpointHandler(ck: CheckpointFiles): tfjs.io.IOHandler {
  const where = path.join(ck.dir, MODEL_JSON);
  return {
    async load() {
      const modelJson = ck.files.get(MODEL_JSON);
      if (!modelJson) throw new RunFolderError(`checkpoint ${ck.dir} has no ${MODEL_JSON}`);
      return artifactsOf(modelJson.toString('utf8'), where, async (p) => {
        const data = typeof p === 'string' && p !== MODEL_JSON ? ck.files.get(p) : undefined;
        if (!data)
          throw new RunFolderError(`${where}'s weightsManifest names ${JSON.stringify(p)}, which is not a weight file of checkpoint ${ck.dir}: refused`);
        return data;
      });
    },
  };
}

/** model.json and weights.bin of model artifacts, as tfjs writes them. */
function modelFiles(tf: TF, a: tfjs.io.ModelArtifacts): [string, Uint8Array | string][] {
  const weightData = a.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(a.weightData);
  const { weightData: _w, weightSpecs, ...rest } = a;
  return [
    [MODEL_JSON, JSON.stringify({ ...rest, weightsManifest: [{ paths: [WEIGHTS], weights: weightSpecs ?? [] }] })],
    [WEIGHTS, new Uint8Array(weightData)],
  ];
}

/** A model's files (model.json + weights.bin) without writing them anywhere. */
async function modelToFiles(tf: TF, model: tfjs.LayersModel): Promise<[string, Uint8Array | string][]> {
  let files: [string, Uint8Array | string][] = [];
  await model.save({
    async save(a) {
      files = modelFiles(tf, a);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
    },
  });
  return files;
}

/** Where a run stands: enough to continue it exactly. */
export interface TrainerState {
  /** Epoch in progress (0-based) and the next batch in it. */
  epoch: number;
  batch: number;
  step: number;
  /** Running sums of the epoch in progress, so its metrics come out the same. */
  sums: Record<string, number>;
  /** The metrics row of every finished epoch: metrics.jsonl is set to these when the run continues from here. */
  history: MetricRow[];
  best: number | null;
  badEpochs: number;
}

export interface Checkpoint {
  dir: string;
  state: TrainerState;
  optimizerStep: number;
  weights: Tensor[];
  /** The weights' names in model.json (tfjs's layer/weight names), in the same order. */
  weightNames: string[];
  optimizer: Tensor[];
}

/** Writes a checkpoint of the model, optimizer and trainer (and any `files` beside them) into the run folder, keeping `keep` on disk; resolves with its folder. */
export async function saveCheckpoint(
  tf: TF,
  run: RunFolder,
  model: tfjs.LayersModel,
  optimizer: { t: number; state(): Tensor[] },
  state: TrainerState,
  opts: { keep: number; extra?: Record<string, unknown>; files?: [string, Uint8Array][] },
): Promise<string> {
  const opt = await encode(optimizer.state().map((tensor, i) => ({ name: `slot_${i}`, tensor })));
  const trainer = JSON.stringify({ ...opts.extra, state, optimizer: { step: optimizer.t, weights: opt.specs } }, null, 1);
  const files: [string, Uint8Array | string][] = [...(await modelToFiles(tf, model)), [OPTIMIZER, opt.data], [TRAINER, trainer], ...(opts.files ?? [])];
  return run.writeCheckpoint({ step: state.step, epoch: state.epoch, files, keep: opts.keep });
}

/** A checkpoint folder, a checkpoints/ folder or a run folder: the checkpoint it names (the newest complete one for a folder). */
export async function resolveCheckpoint(from: string): Promise<string> {
  return (await locateCheckpoint(from)).checkpoint;
}

/** Reads a checkpoint, every file verified (checksums, sizes, paths inside it); refuses naming the file. */
export async function loadCheckpoint(tf: TF, dir: string): Promise<Checkpoint> {
  const ck = await readCheckpoint(dir);
  const artifacts = await checkpointHandler(ck).load!();
  const trainerFile = path.join(dir, TRAINER);
  let meta: { state: TrainerState; optimizer: { step: number; weights: WeightSpec[] } };
  try {
    meta = JSON.parse(ck.files.get(TRAINER)?.toString('utf8') ?? '') as typeof meta;
    if (!meta.state || !Array.isArray(meta.optimizer?.weights)) throw new Error('no trainer state');
  } catch (e) {
    throw new RunFolderError(`${trainerFile} is missing or damaged: ${(e as Error).message}`);
  }
  const weights = decode(tf, artifacts.weightSpecs!, new Uint8Array(artifacts.weightData as ArrayBuffer), path.join(dir, WEIGHTS));
  const optimizer = decode(tf, meta.optimizer.weights, ck.files.get(OPTIMIZER) ?? new Uint8Array(0), path.join(dir, OPTIMIZER));
  return { dir, state: meta.state, optimizerStep: meta.optimizer.step, weights, weightNames: artifacts.weightSpecs!.map((s) => s.name), optimizer };
}

/** A checkpoint's model, verified: its files (model.json and the weight files it names) and a handler for tf.loadLayersModel. */
export interface CheckpointModel {
  files: [string, Uint8Array][];
  handler: tfjs.io.IOHandler;
}

/** What `attn export --weights` copies out of a checkpoint. */
export async function checkpointModel(dir: string): Promise<CheckpointModel> {
  const ck = await readCheckpoint(dir);
  const artifacts = await checkpointHandler(ck).load!();
  const { weightsManifest } = JSON.parse(ck.files.get(MODEL_JSON)!.toString('utf8')) as { weightsManifest: WeightsManifest };
  const names = [MODEL_JSON, ...new Set(weightsManifest.flatMap((g) => g.paths))];
  return { files: names.map((n) => [n, ck.files.get(n)!]), handler: { load: async () => artifacts } };
}
