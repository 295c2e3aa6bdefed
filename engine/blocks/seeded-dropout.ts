// Dropout whose mask is a pure function of (site seed, training step): the same
// graph, seed and step drop the same values, so runs repeat and a run resumed
// from a checkpoint continues exactly; consecutive steps draw different masks.
// Every dropout in the engine goes through `dropout` below (the Dropout block and
// the Transformer sublayers as the SeededDropout layer, attention weights inside
// DotProductAttention).
import type { DropoutSeed, Shape, SymbolicTensor, Tensor, TF } from './contract.js';
import { customLayer } from './custom-layer.js';

/**
 * x with each value zeroed with probability `rate` and the rest scaled by 1 / (1 − rate) while
 * training; x itself otherwise. Without a site (a layer loaded from a file) the mask is unseeded.
 */
export function dropout(tf: TF, x: Tensor, rate: number, training: boolean, site?: DropoutSeed): Tensor {
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
      override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
        return inputShape;
      }
      override call(inputs: Tensor | Tensor[], kwargs: Record<string, unknown>): Tensor {
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
export function applyDropout(tf: TF, x: SymbolicTensor, args: SeededDropoutArgs & { site: DropoutSeed }): SymbolicTensor {
  return new (seededDropoutLayer(tf))(args).apply(x) as SymbolicTensor;
}
