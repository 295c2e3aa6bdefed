import type * as tfjs from '@tensorflow/tfjs';
import { defineBlock, ShapeError, type Initializer, type Tensor, type TF } from '../contract.js';
import { customLayer } from '../custom-layer.js';
import { expectRank } from '../shape-rules.js';
import { pyArgs, tsObject } from '../emit/snippets.js';
import { pyTargets } from './vision-ops/emit.js';
import { KERAS_SHOW_ATTEND_TELL, TORCH_SHOW_ATTEND_TELL, TS_SHOW_ATTEND_TELL } from './caption-ops/emit.js';

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

interface DecoderArgs {
  steps: number;
  vocab: number;
  embedding: number;
  units: number;
  attentionUnits: number;
  startToken: number;
  doublyStochastic: number;
  seed?: number;
  name?: string;
}

/**
 * [B, H, W, C] annotation grid → [words [B, T, V] (probabilities), attention [B, T, H, W]]. A GRU (PyTorch's
 * gate layout: reset, update, new, the reset applied after the recurrent product) writes one word per step;
 * before each step, additive attention of its state over the grid gives the context it reads.
 */
const showAttendTellLayer = (tf: TF) =>
  customLayer(tf, 'ShowAttendTell', (tf) => {
    class ShowAttendTell extends tf.layers.Layer {
      static className = 'ShowAttendTell';
      readonly args: DecoderArgs;
      private w: Record<string, tfjs.LayerVariable> = {};
      constructor(args: DecoderArgs) {
        super({ name: args.name });
        this.args = args;
      }
      override build(inputShape: (number | null)[]) {
        const c = inputShape[3] as number;
        const { vocab: v, embedding: e, units: u, attentionUnits: a } = this.args;
        let seed = this.args.seed ?? 0;
        const glorot = (): Initializer => tf.initializers.glorotUniform({ seed: seed++ });
        const zeros = (): Initializer => tf.initializers.zeros();
        const [h, w] = [inputShape[1] as number, inputShape[2] as number];
        const shapes: Record<(typeof SAT_WEIGHTS)[number], [number[], () => Initializer]> = {
          positions: [[h * w, c], () => tf.initializers.truncatedNormal({ stddev: 0.02, seed: seed++ })],
          init_kernel: [[c, u], glorot],
          init_bias: [[u], zeros],
          embedding: [[v, e], () => tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: seed++ })],
          key_kernel: [[c, a], glorot],
          key_bias: [[a], zeros],
          query_kernel: [[u, a], glorot],
          score_vector: [[a, 1], glorot],
          input_kernel: [[e + c, 3 * u], glorot],
          recurrent_kernel: [[u, 3 * u], () => tf.initializers.orthogonal({ seed: seed++ })],
          input_bias: [[3 * u], zeros],
          recurrent_bias: [[3 * u], zeros],
          output_kernel: [[u + c + e, v], glorot],
          output_bias: [[v], zeros],
        };
        for (const name of SAT_WEIGHTS) this.w[name] = this.addWeight(name, shapes[name][0], 'float32', shapes[name][1]());
        this.built = true;
      }
      override computeOutputShape(inputShape: (number | null)[]) {
        const [b, h, w] = inputShape;
        return [
          [b, this.args.steps, this.args.vocab],
          [b, this.args.steps, h, w],
        ];
      }
      override call(inputs: Tensor | Tensor[], kwargs: Record<string, unknown>) {
        const grid = (Array.isArray(inputs) ? inputs[0] : inputs) as tfjs.Tensor4D;
        const training = kwargs?.training === true;
        return tf.tidy(() => {
          const [b, h, w, c] = grid.shape;
          const { steps, units: u } = this.args;
          const W = (k: (typeof SAT_WEIGHTS)[number]) => this.w[k].read();
          const annotations = tf.add(tf.reshape(grid, [b, h * w, c]), W('positions'));
          const keys = tf.add(tf.reshape(tf.matMul(tf.reshape(annotations, [b * h * w, c]), W('key_kernel')), [b, h * w, -1]), W('key_bias'));
          let state = tf.tanh(tf.add(tf.matMul(tf.mean(annotations, 1), W('init_kernel')), W('init_bias')));
          let word = tf.fill([b], this.args.startToken, 'int32');
          const words: Tensor[] = [];
          const alphas: Tensor[] = [];
          for (let t = 0; t < steps; t++) {
            // Additive attention (Show, Attend and Tell eq. 4-6): e_ti = vᵀ tanh(W_a a_i + W_h s_{t-1}).
            const query = tf.expandDims(tf.matMul(state, W('query_kernel')), 1);
            const scores = tf.reshape(tf.matMul(tf.reshape(tf.tanh(tf.add(keys, query)), [b * h * w, -1]), W('score_vector')), [b, h * w]);
            const alpha = tf.softmax(scores);
            const context = tf.squeeze(tf.matMul(tf.expandDims(alpha, 1), annotations), [1]);
            // A one-hot product, not a gather: tfjs's gather gradient fails on indices that come from ops.
            const embedded = tf.matMul(tf.oneHot(word, this.args.vocab), W('embedding'));
            // GRU step on [Ey_{t-1}, z_t].
            const gx = tf.add(tf.matMul(tf.concat([embedded, context], 1), W('input_kernel')), W('input_bias'));
            const gh = tf.add(tf.matMul(state, W('recurrent_kernel')), W('recurrent_bias'));
            const [xr, xz, xn] = tf.split(gx, [u, u, u], 1);
            const [hr, hz, hn] = tf.split(gh, [u, u, u], 1);
            const r = tf.sigmoid(tf.add(xr, hr));
            const z = tf.sigmoid(tf.add(xz, hz));
            const n = tf.tanh(tf.add(xn, tf.mul(r, hn)));
            state = tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, state));
            // Deep output (eq. 7, one layer): p(y_t) = softmax(L [s_t, z_t, Ey_{t-1}]).
            const logits = tf.add(tf.matMul(tf.concat([state, context, embedded], 1), W('output_kernel')), W('output_bias'));
            words.push(tf.softmax(logits));
            alphas.push(alpha);
            // The next step reads the word this one wrote (greedy): what decoding does, in training too.
            word = tf.cast(tf.argMax(logits, 1), 'int32');
          }
          const probs = tf.stack(words, 1);
          const attention = tf.stack(alphas, 1);
          const out = training && this.args.doublyStochastic > 0 ? this.regularised(probs, attention) : probs;
          return [out, tf.reshape(attention, [b, steps, h, w])];
        });
      }
      /**
       * The doubly stochastic regulariser (Show, Attend and Tell eq. 14), λ Σ_i (1 − Σ_t α_ti)², averaged over the
       * batch, as a gradient: the words pass through unchanged and the attention weights receive λ·∂R/∂α. The loss
       * the trainer reports is the cross-entropy alone.
       */
      private regularised(probs: Tensor, attention: Tensor): Tensor {
        const lambda = this.args.doublyStochastic;
        const f = tf.customGrad(((p: Tensor, a: Tensor) => ({
          value: tf.clone(p),
          gradFunc: (dy: Tensor) => {
            const coverage = tf.sum(a, 1, true); // [B, 1, N]
            const d = tf.mul(tf.sub(coverage, 1), (2 * lambda) / a.shape[0]);
            return [dy, tf.mul(tf.onesLike(a), d)];
          },
        })) as unknown as Parameters<TF['customGrad']>[0]);
        return f(probs, attention);
      }
      override getConfig() {
        const { seed: _seed, name: _name, ...rest } = this.args;
        return { ...super.getConfig(), ...rest };
      }
    }
    return ShowAttendTell;
  });

export default defineBlock({
  type: 'attention.showAttendTell',
  label: 'Show, Attend and Tell decoder',
  category: 'Attention',
  paper:
    'Xu, K., Ba, J., Kiros, R., Cho, K., Courville, A., Salakhutdinov, R., Zemel, R. & Bengio, Y. (2015). Show, Attend and Tell: Neural Image Caption Generation with Visual Attention. ICML.',
  doc:
    'The caption decoder of Show, Attend and Tell (Xu et al. 2015) with soft attention: the CNN feature map ' +
    '[B, H, W, C] is a grid of L = H·W annotation vectors a_i; the state starts as tanh(W·mean_i a_i); at step t ' +
    'additive attention scores every annotation, α_ti = softmax_i(vᵀ tanh(W_a a_i + W_h s_{t−1})), the context is ' +
    'z_t = Σ_i α_ti a_i, a GRU reads [E y_{t−1}, z_t], and the word probabilities are softmax(L [s_t, z_t, E y_{t−1}]). ' +
    'Each annotation gets a learned position embedding first (not in the paper, whose VGG features see the whole ' +
    'image: a small CNN’s features do not know where they are, so neither the attention nor the context could tell ' +
    'left from right). Step 0 reads the start token. Each step reads the word the previous step wrote (its argmax): the model’s ' +
    'output is the greedy caption, in training too; the graph has one input, so the true previous word (teacher ' +
    'forcing) cannot be fed. "doubly stochastic" is λ of the paper’s regulariser λ Σ_i (1 − Σ_t α_ti)², which asks ' +
    'every part of the image to be looked at about once over the caption; it is added to the gradient in training ' +
    '(the reported loss is the cross-entropy alone). Hard (sampled) attention is not offered: REINFORCE needs a ' +
    'per-sample reward the training loop does not compute and its variance needs many more steps than the soft ' +
    'form, so it could not be trained honestly here. Differences from the paper: a GRU, not an LSTM, and no ' +
    'gating scalar β. Output "attention" gives α as [B, T, H, W], one map over the grid per word.',
  params: {
    steps: { type: 'int', default: 6, min: 1, max: 64, doc: 'Words written, the end token included (the caption length of the data).' },
    vocab: { type: 'int', default: 13, min: 3, max: 100000, doc: 'Output vocabulary (the data’s classes).' },
    embedding: { type: 'int', default: 16, min: 1, max: 4096, doc: 'Word embedding size (E).' },
    units: { type: 'int', default: 64, min: 1, max: 4096, doc: 'GRU state size.' },
    attentionUnits: { type: 'int', default: 32, min: 1, max: 4096, label: 'attention units', doc: 'Hidden size of the attention scorer (the size of v).' },
    startToken: { type: 'int', default: 1, min: 0, max: 100000, label: 'start token', doc: 'The id step 0 reads (<start>: 1 in caption datasets).' },
    doublyStochastic: {
      type: 'float',
      default: 0,
      min: 0,
      max: 100,
      label: 'doubly stochastic λ',
      doc: 'λ of the regulariser λ Σ_i (1 − Σ_t α_ti)² (0: off; the paper uses 1 with its own loss scale).',
    },
  },
  inputs: [{ name: 'features', doc: 'The annotation grid [B, H, W, C] (a CNN feature map).', rank: 4 }],
  outputs: [
    { name: 'out', doc: 'Word probabilities per step [B, steps, vocab].', loss: 'sparseCategoricalCrossentropy' },
    { name: 'attention', doc: 'α: each word’s weights over the grid [B, steps, H, W].', attention: 'matrix', axes: 'batch, word, row, column' },
  ],
  inferShape({ params: p, inputs }) {
    const [b, h, w, c] = expectRank(inputs.features, 'features', 4, 'a feature map [batch, height, width, channels]');
    if (h === null || w === null || c === null) throw new ShapeError('the feature map needs a known height, width and channels', 'features');
    if (p.startToken >= p.vocab) throw new ShapeError(`start token ${p.startToken} is not in the vocabulary of ${p.vocab}`);
    return { out: [b, p.steps, p.vocab], attention: [b, p.steps, h, w] };
  },
  build(tf, { params: p, inputs, name, init }) {
    const layer = new (showAttendTellLayer(tf))({ ...p, seed: init.seed(), name: `${name}_decoder` });
    const [out, attention] = layer.apply(inputs.features) as tfjs.SymbolicTensor[];
    return { out, attention };
  },
  emit: {
    tfjs: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        `const [${outputs.out}, ${outputs.attention}] = new ShowAttendTell(${tsObject({ ...decoderArgs(p), name: `${layer}_decoder` })}).apply(${inputs.features}) as tf.SymbolicTensor[];`,
      ],
      helpers: [TS_SHOW_ATTEND_TELL],
    }),
    keras: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        `${pyTargets([outputs.out, outputs.attention])} = ShowAttendTell(${pyArgs([], { ...snake(decoderArgs(p)), name: `${layer}_decoder` })})(${inputs.features})`,
      ],
      helpers: [KERAS_SHOW_ATTEND_TELL],
    }),
    pytorch: ({ params: p, inputs, inputShapes, outputs, name }) => ({
      init: [
        `self.${name} = ShowAttendTell(${pyArgs([], { channels: inputShapes.features[3], height: inputShapes.features[1], width: inputShapes.features[2], ...snake(decoderArgs(p)) })})`,
      ],
      body: [`${pyTargets([outputs.out, outputs.attention])} = self.${name}(${inputs.features})`],
      helpers: [TORCH_SHOW_ATTEND_TELL],
      torchWeights: SAT_WEIGHTS.map((w) => ({ torch: w, tfjs: `_decoder/${w}` })),
    }),
  },
  examples: [
    { params: { steps: 3, vocab: 7, embedding: 4, units: 8, attentionUnits: 5 }, inputs: { features: [null, 2, 3, 6] } },
    { params: { steps: 2, vocab: 5, embedding: 3, units: 4, attentionUnits: 4, doublyStochastic: 1 }, inputs: { features: [null, 3, 2, 4] } },
  ],
});

/** The decoder's settings, as the exports' constructors take them (the regulariser is training-only). */
function decoderArgs(p: { steps: number; vocab: number; embedding: number; units: number; attentionUnits: number; startToken: number }) {
  return { steps: p.steps, vocab: p.vocab, embedding: p.embedding, units: p.units, attentionUnits: p.attentionUnits, startToken: p.startToken };
}

const snake = (o: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]));
