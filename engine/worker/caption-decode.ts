// Beam search for a trained captioner: the model's own decoder layer decodes
// from the image alone, keeping the K most likely partial captions per step.
// The model's output is the greedy caption; beam 1 gives the same words.
import type * as tfjs from '@tensorflow/tfjs';
import type { Tensor, TF } from '../blocks/contract.js';
import type { CompiledGraph } from '../compile/compile.js';
import type { BeamCaption } from '../blocks/attention/caption-ops/show-attend-tell-layer.js';

export type { BeamCaption };

interface CaptionDecoder extends tfjs.layers.Layer {
  beamSearch(grid: tfjs.Tensor4D, beam: number, endToken: number): BeamCaption[][];
}

/** The captioner's decoder layer (a Show, Attend and Tell block), or undefined for other models. */
export function captionDecoder(compiled: CompiledGraph): CaptionDecoder | undefined {
  return compiled.model.layers.find((l) => l.getClassName() === 'ShowAttendTell') as CaptionDecoder | undefined;
}

/**
 * Per sample of `x`, the `beam` most likely captions (token ids up to and with `endToken`, and their
 * log-probabilities), best first. Throws when the model has no caption decoder.
 */
export function beamCaptions(tf: TF, compiled: CompiledGraph, x: Tensor, beam: number, endToken: number): BeamCaption[][] {
  if (!Number.isInteger(beam) || beam < 1) throw new Error(`beam size must be a positive integer, not ${beam}`);
  const decoder = captionDecoder(compiled);
  if (!decoder) throw new Error('the model has no Show, Attend and Tell decoder: beam search decodes captions only');
  const encoder = tf.model({ inputs: compiled.model.inputs, outputs: decoder.input as tfjs.SymbolicTensor });
  const grid = encoder.predict(x) as tfjs.Tensor4D;
  try {
    return decoder.beamSearch(grid, beam, endToken);
  } finally {
    grid.dispose();
  }
}
