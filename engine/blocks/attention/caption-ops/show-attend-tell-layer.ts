// The Show, Attend and Tell decoder on tfjs: one implementation, built by the
// engine (attention/show-attend-tell.ts) and copied verbatim into TypeScript
// exports (engine/export/tfjs-sources.ts). Written against tfjs-kit.ts only.
import type * as tf from '@tensorflow/tfjs';
import { customLayer, type TF } from '../../tfjs-kit.js';

/** The decoder's weights, in the order the layer creates them; every kernel is [in, out] in all three exports. */
export const SAT_WEIGHTS = [
  'positions',
  'init_kernel',
  'init_bias',
  'embedding',
  'key_kernel',
  'key_bias',
  'query_kernel',
  'score_vector',
  'input_kernel',
  'recurrent_kernel',
  'input_bias',
  'recurrent_bias',
  'output_kernel',
  'output_bias',
] as const;

/** The weight a decoder with coverage adds after SAT_WEIGHTS: how the attention scorer reads each cell's coverage. */
export const SAT_COVERAGE_WEIGHT = 'coverage_vector';

type WeightName = (typeof SAT_WEIGHTS)[number] | typeof SAT_COVERAGE_WEIGHT;

export interface ShowAttendTellArgs {
  steps: number;
  vocab: number;
  embedding: number;
  units: number;
  attentionUnits: number;
  startToken: number;
  /** The scorer also reads each cell's coverage, the attention it received at earlier steps (Tu et al. 2016). */
  coverage?: boolean;
  /** λ of the doubly stochastic regulariser (training only; 0: off). */
  doublyStochastic?: number;
  /** Seeds the initialisers (the engine's; an export passes none and gets tfjs's defaults). */
  seed?: number;
  name?: string;
}

/** A caption found by beam search: its token ids (up to and with <end>, or `steps` of them) and its log-probability. */
export interface BeamCaption {
  ids: number[];
  logProb: number;
}

/**
 * [B, H, W, C] annotation grid → [words [B, T, V] (probabilities), attention [B, T, H, W]]. A GRU (PyTorch's gate
 * layout: reset, update, new, the reset applied after the recurrent product) writes one word per step; before each
 * step, additive attention of its state over the grid gives the context it reads. Step 0 reads `startToken`. In
 * training, step t reads the true word t − 1 (teacher forcing) when the call's kwargs carry the batch's `targets`
 * (class ids [B·T], as the trainer passes them); otherwise, and always at inference, it reads the argmax of step t − 1
 * (greedy decoding).
 */
export const showAttendTellLayer = (tf: TF) =>
  customLayer(tf, 'ShowAttendTell', (tf) => {
    class ShowAttendTell extends tf.layers.Layer {
      static className = 'ShowAttendTell';
      readonly args: ShowAttendTellArgs;
      private w: Partial<Record<WeightName, tf.LayerVariable>> = {};
      constructor(args: ShowAttendTellArgs) {
        super({ name: args.name });
        this.args = args;
      }
      override build(inputShape: tf.Shape | tf.Shape[]) {
        const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
        const [h, w, c] = [shape[1] as number, shape[2] as number, shape[3] as number];
        const { vocab: v, embedding: e, units: u, attentionUnits: a } = this.args;
        let seed = this.args.seed;
        const next = () => (seed === undefined ? undefined : seed++);
        const glorot = () => tf.initializers.glorotUniform({ seed: next() });
        const zeros = () => tf.initializers.zeros();
        const shapes: Record<(typeof SAT_WEIGHTS)[number], [number[], () => ReturnType<typeof zeros>]> = {
          positions: [[h * w, c], () => tf.initializers.truncatedNormal({ stddev: 0.02, seed: next() })],
          init_kernel: [[c, u], glorot],
          init_bias: [[u], zeros],
          embedding: [[v, e], () => tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: next() })],
          key_kernel: [[c, a], glorot],
          key_bias: [[a], zeros],
          query_kernel: [[u, a], glorot],
          score_vector: [[a, 1], glorot],
          input_kernel: [[e + c, 3 * u], glorot],
          recurrent_kernel: [[u, 3 * u], () => tf.initializers.orthogonal({ seed: next() })],
          input_bias: [[3 * u], zeros],
          recurrent_bias: [[3 * u], zeros],
          output_kernel: [[u + c + e, v], glorot],
          output_bias: [[v], zeros],
        };
        for (const name of SAT_WEIGHTS) this.w[name] = this.addWeight(name, shapes[name][0], 'float32', shapes[name][1]());
        if (this.args.coverage) this.w[SAT_COVERAGE_WEIGHT] = this.addWeight(SAT_COVERAGE_WEIGHT, [1, a], 'float32', glorot());
        this.built = true;
      }
      override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape[] {
        const [b, h, w] = inputShape as tf.Shape;
        return [
          [b, this.args.steps, this.args.vocab],
          [b, this.args.steps, h, w],
        ];
      }
      private weight(name: WeightName): tf.Tensor {
        return this.w[name]!.read();
      }
      /** The annotations (each plus its position embedding) [B, L, C], their attention keys [B, L, A] and the first state [B, U]. */
      encode(grid: tf.Tensor4D): { annotations: tf.Tensor3D; keys: tf.Tensor3D; state: tf.Tensor2D } {
        const [b, h, w, c] = grid.shape;
        const annotations = tf.add(tf.reshape(grid, [b, h * w, c]), this.weight('positions')) as tf.Tensor3D;
        const keys = tf.add(
          tf.reshape(tf.matMul(tf.reshape(annotations, [b * h * w, c]), this.weight('key_kernel')), [b, h * w, -1]),
          this.weight('key_bias'),
        ) as tf.Tensor3D;
        const state = tf.tanh(tf.add(tf.matMul(tf.mean(annotations, 1), this.weight('init_kernel')), this.weight('init_bias'))) as tf.Tensor2D;
        return { annotations, keys, state };
      }
      /**
       * One word: the state after reading `word` [B] (int32), the word logits [B, V] and the attention α [B, L] it
       * used. `coverage` [B, L] is the attention each cell received so far (read when the decoder has coverage).
       */
      step(
        annotations: tf.Tensor3D,
        keys: tf.Tensor3D,
        state: tf.Tensor2D,
        word: tf.Tensor1D,
        coverage: tf.Tensor2D,
      ): { state: tf.Tensor2D; logits: tf.Tensor2D; alpha: tf.Tensor2D } {
        const [b, l] = annotations.shape;
        const u = this.args.units;
        // Additive attention (Show, Attend and Tell eq. 4-6): e_ti = vᵀ tanh(W_a a_i + W_h s_{t-1} [+ w_c c_ti]).
        let hidden = tf.add(keys, tf.expandDims(tf.matMul(state, this.weight('query_kernel')), 1));
        // A broadcast product, not a batched matMul with a [1, A] kernel: tfjs's gradient of that has the batch's shape.
        if (this.args.coverage) hidden = tf.add(hidden, tf.mul(tf.expandDims(coverage, 2), this.weight(SAT_COVERAGE_WEIGHT)));
        const scores = tf.reshape(tf.matMul(tf.reshape(tf.tanh(hidden), [b * l, -1]), this.weight('score_vector')), [b, l]);
        const alpha = tf.softmax(scores) as tf.Tensor2D;
        const context = tf.squeeze(tf.matMul(tf.expandDims(alpha, 1), annotations), [1]);
        // A one-hot product, not a gather: tfjs's gather gradient fails on indices that come from ops.
        const embedded = tf.matMul(tf.oneHot(word, this.args.vocab), this.weight('embedding'));
        // GRU step on [Ey_{t-1}, z_t].
        const gx = tf.add(tf.matMul(tf.concat([embedded, context], 1), this.weight('input_kernel')), this.weight('input_bias'));
        const gh = tf.add(tf.matMul(state, this.weight('recurrent_kernel')), this.weight('recurrent_bias'));
        const [xr, xz, xn] = tf.split(gx, [u, u, u], 1);
        const [hr, hz, hn] = tf.split(gh, [u, u, u], 1);
        const r = tf.sigmoid(tf.add(xr, hr));
        const z = tf.sigmoid(tf.add(xz, hz));
        const n = tf.tanh(tf.add(xn, tf.mul(r, hn)));
        const next = tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, state)) as tf.Tensor2D;
        // Deep output (eq. 7, one layer): p(y_t) = softmax(L [s_t, z_t, Ey_{t-1}]).
        const logits = tf.add(tf.matMul(tf.concat([next, context, embedded], 1), this.weight('output_kernel')), this.weight('output_bias')) as tf.Tensor2D;
        return { state: next, logits, alpha };
      }
      override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean; targets?: Int32Array | tf.Tensor }) {
        const grid = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
        const training = kwargs?.training === true;
        return tf.tidy(() => {
          const [b, h, w] = grid.shape;
          const { steps, startToken } = this.args;
          // Teacher forcing: step t + 1 reads the true word t.
          const targets = training ? kwargs.targets : undefined;
          const truth =
            targets === undefined
              ? undefined
              : targets instanceof tf.Tensor
                ? tf.reshape(tf.cast(targets, 'int32'), [b, steps])
                : tf.tensor2d(targets, [b, steps], 'int32');
          const encoded = this.encode(grid);
          let state = encoded.state;
          let word = tf.fill([b], startToken, 'int32') as tf.Tensor1D;
          let coverage = tf.zeros([b, h * w]) as tf.Tensor2D;
          const words: tf.Tensor[] = [];
          const alphas: tf.Tensor[] = [];
          for (let t = 0; t < steps; t++) {
            const out = this.step(encoded.annotations, encoded.keys, state, word, coverage);
            state = out.state;
            coverage = tf.add(coverage, out.alpha);
            words.push(tf.softmax(out.logits));
            alphas.push(out.alpha);
            // Past <end> the truth is padding (-1, no loss): any word will do, and oneHot(-1) reads none.
            word = truth ? (tf.reshape(tf.slice(truth, [0, t], [b, 1]), [b]) as tf.Tensor1D) : (tf.cast(tf.argMax(out.logits, 1), 'int32') as tf.Tensor1D);
          }
          const probs = tf.stack(words, 1);
          const attention = tf.stack(alphas, 1);
          const lambda = this.args.doublyStochastic ?? 0;
          const out = training && lambda > 0 ? doublyStochastic(tf, probs, attention, lambda) : probs;
          return [out, tf.reshape(attention, [b, steps, h, w])];
        });
      }
      /**
       * Beam search from the image alone: per sample the `beam` best captions by log-probability (a caption ends at
       * `endToken` or after `steps` words), best first. Beam 1 is greedy decoding.
       */
      beamSearch(grid: tf.Tensor4D, beam: number, endToken: number): BeamCaption[][] {
        const { steps, startToken, vocab } = this.args;
        const b = grid.shape[0];
        const results: BeamCaption[][] = [];
        for (let s = 0; s < b; s++) {
          const enc = tf.tidy(() => this.encode(tf.slice(grid, [s, 0, 0, 0], [1, -1, -1, -1])));
          type Partial = { ids: number[]; logProb: number; state: tf.Tensor2D; coverage: tf.Tensor2D };
          let live: Partial[] = [{ ids: [], logProb: 0, state: enc.state, coverage: tf.zeros([1, enc.annotations.shape[1]]) }];
          const done: BeamCaption[] = [];
          for (let t = 0; t < steps && live.length > 0; t++) {
            const k = live.length;
            const [logProbs, states, coverages] = tf.tidy(() => {
              const words = tf.tensor1d(
                live.map((c) => c.ids[t - 1] ?? startToken),
                'int32',
              );
              const tile = <T extends tf.Tensor>(x: T) => tf.tile(x, [k, 1, 1]) as T;
              const coverage = tf.concat(live.map((c) => c.coverage)) as tf.Tensor2D;
              const out = this.step(tile(enc.annotations), tile(enc.keys), tf.concat(live.map((c) => c.state)) as tf.Tensor2D, words, coverage);
              return [tf.logSoftmax(out.logits), out.state, tf.add(coverage, out.alpha)] as const;
            });
            const lp = logProbs.arraySync() as number[][];
            const candidates: { from: number; word: number; logProb: number }[] = [];
            for (let i = 0; i < k; i++) for (let v = 0; v < vocab; v++) candidates.push({ from: i, word: v, logProb: live[i].logProb + lp[i][v] });
            candidates.sort((x, y) => y.logProb - x.logProb);
            const next: Partial[] = [];
            for (const c of candidates.slice(0, beam)) {
              const ids = [...live[c.from].ids, c.word];
              if (c.word === endToken || t === steps - 1) done.push({ ids, logProb: c.logProb });
              else {
                const row = <T extends tf.Tensor>(x: T) => tf.keep(tf.slice(x, [c.from, 0], [1, -1])) as T;
                next.push({ ids, logProb: c.logProb, state: row(states), coverage: row(coverages) });
              }
            }
            tf.dispose([logProbs, states, coverages, ...live.flatMap((c) => [c.state, c.coverage])]);
            live = next;
            // Finished captions at least as likely as every live one: no live one can overtake them (log-probs only fall).
            if (done.length >= beam && live.every((c) => c.logProb <= Math.min(...done.map((d) => d.logProb)))) break;
          }
          tf.dispose([enc.annotations, enc.keys, ...live.flatMap((c) => [c.state, c.coverage])]);
          results.push(done.sort((x, y) => y.logProb - x.logProb).slice(0, beam));
        }
        return results;
      }
      override getConfig() {
        const { seed: _seed, name: _name, ...rest } = this.args;
        return { ...super.getConfig(), ...rest };
      }
    }
    return ShowAttendTell;
  });

/**
 * The doubly stochastic regulariser (Show, Attend and Tell eq. 14), λ Σ_i (1 − Σ_t α_ti)², averaged over the batch,
 * as a gradient: the words pass through unchanged and the attention weights receive λ·∂R/∂α. The loss the trainer
 * reports is the cross-entropy alone.
 */
function doublyStochastic(tf: TF, probs: tf.Tensor, attention: tf.Tensor, lambda: number): tf.Tensor {
  const f = tf.customGrad(((p: tf.Tensor, a: tf.Tensor) => ({
    value: tf.clone(p),
    gradFunc: (dy: tf.Tensor) => {
      const coverage = tf.sum(a, 1, true); // [B, 1, L]
      const d = tf.mul(tf.sub(coverage, 1), (2 * lambda) / a.shape[0]);
      return [dy, tf.mul(tf.onesLike(a), d)];
    },
  })) as unknown as Parameters<TF['customGrad']>[0]);
  return f(probs, attention);
}
