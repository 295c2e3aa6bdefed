// Checkpoints in the tfjs format (model.json + weights.bin, loadable with
// tf.loadLayersModel), plus the optimizer's state and the trainer's position so
// that a run resumes exactly. Written to a temporary folder and renamed, so a
// process killed mid-write leaves the previous checkpoint intact.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import type { Tensor, TF } from '../blocks/contract.js';

type WeightSpec = tfjs.io.WeightsManifestEntry;

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
function decode(tf: TF, specs: WeightSpec[], data: Buffer): Tensor[] {
  let at = 0;
  return specs.map((s) => {
    if (s.dtype !== 'float32' && s.dtype !== 'int32') throw new Error(`checkpoint weight ${s.name} has unsupported dtype ${s.dtype}`);
    const size = s.shape.reduce((a, b) => a * b, 1);
    const bytes = data.subarray(at, at + size * 4);
    if (bytes.length !== size * 4) throw new Error(`checkpoint weights end before ${s.name}`);
    at += size * 4;
    const copy = new Uint8Array(bytes).buffer; // aligned
    return tf.tensor(s.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy), s.shape, s.dtype);
  });
}

/** A tfjs IOHandler on a folder: model.json and weights.bin (tfjs-node's file:// without tfjs-node). */
export function folderHandler(tf: TF, dir: string): tfjs.io.IOHandler {
  return {
    async save(a) {
      await mkdir(dir, { recursive: true });
      const weightData = a.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(a.weightData);
      const { weightData: _w, weightSpecs, ...rest } = a;
      await writeFile(path.join(dir, 'weights.bin'), Buffer.from(weightData));
      await writeFile(path.join(dir, 'model.json'), JSON.stringify({ ...rest, weightsManifest: [{ paths: ['weights.bin'], weights: weightSpecs ?? [] }] }));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
    },
    async load() {
      const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8'));
      const { weightsManifest, ...rest } = json as { weightsManifest: { paths: string[]; weights: WeightSpec[] }[] };
      const weightSpecs = weightsManifest.flatMap((g) => g.weights);
      const parts = await Promise.all(weightsManifest.flatMap((g) => g.paths).map((p) => readFile(path.join(dir, p))));
      const weightData = new Uint8Array(Buffer.concat(parts)).buffer;
      return { ...rest, weightSpecs, weightData };
    },
  };
}

/** Where a run stands: enough to continue it exactly. */
export interface TrainerState {
  /** Epoch in progress (0-based) and the next batch in it. */
  epoch: number;
  batch: number;
  step: number;
  /** Running sums of the epoch in progress, so its metrics come out the same. */
  sums: Record<string, number>;
  history: Record<string, number>[];
  best: number | null;
  badEpochs: number;
}

export interface Checkpoint {
  state: TrainerState;
  optimizerStep: number;
  weights: Tensor[];
  optimizer: Tensor[];
}

export async function saveCheckpoint(tf: TF, dir: string, model: tfjs.LayersModel, optimizer: { t: number; state(): Tensor[] }, state: TrainerState, extra: Record<string, unknown> = {}): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await model.save(folderHandler(tf, tmp));
  const opt = await encode(optimizer.state().map((tensor, i) => ({ name: `slot_${i}`, tensor })));
  await writeFile(path.join(tmp, 'optimizer.bin'), opt.data);
  await writeFile(path.join(tmp, 'trainer.json'), JSON.stringify({ ...extra, state, optimizer: { step: optimizer.t, weights: opt.specs } }, null, 1));
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  const latest = path.join(path.dirname(dir), 'latest.json');
  await writeFile(`${latest}.tmp`, JSON.stringify({ checkpoint: path.basename(dir), step: state.step, epoch: state.epoch }));
  await rename(`${latest}.tmp`, latest);
}

/** A checkpoint folder, or a checkpoints/ folder (its latest checkpoint). */
export async function resolveCheckpoint(dir: string): Promise<string> {
  const latest = await readFile(path.join(dir, 'latest.json'), 'utf8').catch(() => undefined);
  return latest ? path.join(dir, (JSON.parse(latest) as { checkpoint: string }).checkpoint) : dir;
}

export async function loadCheckpoint(tf: TF, dir: string): Promise<Checkpoint> {
  const handler = folderHandler(tf, dir);
  let artifacts: tfjs.io.ModelArtifacts, meta: { state: TrainerState; optimizer: { step: number; weights: WeightSpec[] } };
  try {
    artifacts = await handler.load!();
    meta = JSON.parse(await readFile(path.join(dir, 'trainer.json'), 'utf8'));
  } catch (e) {
    throw new Error(`cannot read checkpoint ${dir}: ${(e as Error).message}`);
  }
  return {
    state: meta.state,
    optimizerStep: meta.optimizer.step,
    weights: decode(tf, artifacts.weightSpecs!, Buffer.from(artifacts.weightData as ArrayBuffer)),
    optimizer: decode(tf, meta.optimizer.weights, await readFile(path.join(dir, 'optimizer.bin'))),
  };
}
