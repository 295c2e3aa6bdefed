// Dropout whose mask is a pure function of (site seed, training step): the same
// graph, seed and step drop the same values, so runs repeat and a run resumed
// from a checkpoint continues exactly; consecutive steps draw different masks.
// Every dropout in the engine goes through `dropout` below (the Dropout block and
// the Transformer sublayers as the SeededDropout layer, attention weights inside
// DotProductAttention). Written against tfjs-kit.ts: the TypeScript export copies
// it, where a layer has no site and draws unseeded masks as tfjs's own dropout.
import type * as tf from '@tensorflow/tfjs';
import { customLayer, type TF } from './tfjs-kit.js';

/** The training step that dropout masks follow; the trainer sets it before each step. */
export interface StepClock {
  step: number;
}

/** Where one dropout site draws its masks: a seed of its own and the model's step clock. */
export interface DropoutSeed {
  seed: number;
  clock: StepClock;
}

/**
 * x with each value zeroed with probability `rate` and the rest scaled by 1 / (1 − rate) while
 * training; x itself otherwise. Without a site (a layer loaded from a file) the mask is unseeded.
 */
export function dropout(tf: TF, x: tf.Tensor, rate: number, training: boolean, site?: DropoutSeed): tf.Tensor {
  if (!training || rate <= 0) return x;
  // tfjs seeds its generator with the string, so seed and step together pick the mask.
  return site ? tf.dropout(x, rate, undefined, `${site.seed}/${site.clock.step}`) : tf.dropout(x, rate);
}

export interface SeededDropoutArgs {
  rate: number;
  name?: string;
  /** Compile-time wiring, not saved with the model. */
  site?: DropoutSeed;
}

export const seededDropoutLayer = (tf: TF) =>
  customLayer(tf, 'SeededDropout', (tf) => {
    class SeededDropout extends tf.layers.Layer {
      static className = 'SeededDropout';
      readonly rate: number;
      private readonly site?: DropoutSeed;
      constructor(args: SeededDropoutArgs) {
        super(args);
        this.rate = args.rate;
        this.site = args.site;
      }
      override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
        return inputShape;
      }
      override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        return tf.tidy(() => dropout(tf, x, this.rate, kwargs?.training === true, this.site));
      }
      /**
       * Saved as the stock Dropout layer (same config), so checkpoints and exported model folders
       * load in plain tfjs and in the exported code; the seed and clock belong to the compiled graph.
       */
      override getClassName(): string {
        return 'Dropout';
      }
      override getConfig() {
        return { ...super.getConfig(), rate: this.rate };
      }
    }
    return SeededDropout;
  });

/** A SeededDropout layer applied to x. */
export function applyDropout(tf: TF, x: tf.SymbolicTensor, args: SeededDropoutArgs & { site: DropoutSeed }): tf.SymbolicTensor {
  return new (seededDropoutLayer(tf))(args).apply(x) as tf.SymbolicTensor;
}
