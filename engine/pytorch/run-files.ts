// The run folder, for a PyTorch run, through the trainer's own writers
// (engine/runs and engine/train/checkpoint.ts): a thin adapter, so that a
// PyTorch checkpoint is a tfjs one with the safetensors inside it (under the
// same manifest and checksums), and changes to those writers reach both.
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import type { Tensor, TF } from '../blocks/contract.js';
import type { PytorchExport } from '../export/pytorch.js';
import { decodeSafetensors, encodeSafetensors } from '../export/safetensors.js';
import { loadCheckpoint, resolveCheckpoint, saveCheckpoint, type TrainerState } from '../train/checkpoint.js';
import type { RunFolder } from '../runs/index.js';
import { loadTorchState, tfjsSlots, torchMoments, torchStateDict } from './weights.js';

/** The safetensors files a PyTorch checkpoint adds to the tfjs one. */
export const TORCH_FILES = ['model.safetensors', 'optimizer.safetensors'] as const;

export interface TorchCheckpoint {
  /** The folder train_worker.py wrote its safetensors to. */
  folder: string;
  optimizerStep: number;
  state: TrainerState;
  reason: 'interval' | 'epoch' | 'stop';
}

/**
 * Turns the worker's safetensors into a checkpoint of the run: the weights and
 * moments go into the compiled tfjs model and its optimizer slots, saved by
 * the trainer's saveCheckpoint, and the safetensors move in beside them.
 * Returns the checkpoint's path.
 */
export async function saveTorchCheckpoint(
  tf: TF,
  run: RunFolder,
  model: tfjs.LayersModel,
  exported: PytorchExport,
  slots: string[],
  ck: TorchCheckpoint,
  opts: { keep: number; extra: Record<string, unknown> },
): Promise<string> {
  const torchFiles = await Promise.all(TORCH_FILES.map(async (f) => [f, await readFile(path.join(ck.folder, f))] as [string, Uint8Array]));
  loadTorchState(tf, model, exported, decodeSafetensors(torchFiles[0][1]));
  const slotTensors = tfjsSlots(tf, model, exported, decodeSafetensors(torchFiles[1][1]), slots);
  try {
    const target = await saveCheckpoint(tf, run, model, { t: ck.optimizerStep, state: () => slotTensors }, ck.state, {
      keep: opts.keep,
      extra: { ...opts.extra, reason: ck.reason, backend: 'pytorch' },
      files: torchFiles,
    });
    await rm(ck.folder, { recursive: true, force: true });
    return target;
  } finally {
    tf.dispose(slotTensors);
  }
}

/** Slot names of the optimizer's moments, as the tfjs Optimizer keeps them per variable. */
export function slotNames(config: { optimizer: string; momentum: number }): string[] {
  return config.optimizer === 'sgd' ? (config.momentum > 0 ? ['m'] : []) : ['m', 'v'];
}

/** Writes the starting point for the worker: a checkpoint's weights, moments and position, or the model's initial weights. */
export async function writeStartingPoint(
  tf: TF,
  dir: string,
  model: tfjs.LayersModel,
  exported: PytorchExport,
  slots: string[],
  checkpoint?: string,
): Promise<{ weights: string; optimizer?: string; optimizerStep?: number; state?: TrainerState; from?: string }> {
  const weights = path.join(dir, 'start-model.safetensors');
  if (!checkpoint) {
    await writeFile(weights, encodeSafetensors(torchStateDict(model, exported)));
    return { weights };
  }
  const from = await resolveCheckpoint(checkpoint);
  const ck = await loadCheckpoint(tf, from);
  try {
    if (ck.weights.length !== model.weights.length)
      throw new Error(`checkpoint ${from} holds ${ck.weights.length} weights, the model has ${model.weights.length}: it is from another graph`);
    model.setWeights(ck.weights);
    const wanted = model.trainableWeights.length * slots.length;
    if (ck.optimizer.length !== wanted)
      throw new Error(
        `checkpoint ${from} holds ${ck.optimizer.length} optimizer tensors; this run's optimizer needs ${wanted} (was it saved with another optimizer?)`,
      );
    await writeFile(weights, encodeSafetensors(torchStateDict(model, exported)));
    const optimizer = path.join(dir, 'start-optimizer.safetensors');
    await writeFile(optimizer, encodeSafetensors(torchMoments(model, exported, ck.optimizer as Tensor[], slots)));
    return { weights, optimizer, optimizerStep: ck.optimizerStep, state: ck.state, from };
  } finally {
    tf.dispose([...ck.weights, ...ck.optimizer]);
  }
}
