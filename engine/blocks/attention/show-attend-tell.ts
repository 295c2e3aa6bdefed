import type * as tfjs from '@tensorflow/tfjs';
import { defineBlock, ShapeError } from '../contract.js';
import { expectRank } from '../shape-rules.js';
import { pyArgs, tsObject } from '../emit/snippets.js';
import { pyTargets } from './vision-ops/emit.js';
import { KERAS_SHOW_ATTEND_TELL, TORCH_SHOW_ATTEND_TELL, TS_SHOW_ATTEND_TELL } from './caption-ops/emit.js';
import { SAT_COVERAGE_WEIGHT, SAT_WEIGHTS, showAttendTellLayer } from './caption-ops/show-attend-tell-layer.js';

export { SAT_WEIGHTS };

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
    'left from right). Step 0 reads the start token. In training each later step reads the true previous word ' +
    '(teacher forcing: the trainer hands the batch’s captions to the decoder); at inference it reads the word the ' +
    'previous step wrote (its argmax), so the output is the greedy caption of the image alone (beam search: ' +
    '`attn predict --beam K`). "doubly stochastic" is λ of the paper’s regulariser λ Σ_i (1 − Σ_t α_ti)², which asks ' +
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
    coverage: {
      type: 'bool',
      default: false,
      doc: 'The attention scorer also reads each cell’s coverage, the attention it received at earlier steps (Tu et al. 2016): e_ti gains a term w_c·Σ_{k<t} α_ki, which makes “the next digit not yet read” easy to find.',
    },
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
    {
      name: 'attention',
      doc: 'α: each word’s weights over the grid [B, steps, H, W].',
      attention: 'matrix',
      axes: 'batch, word, row, column',
      wordsFrom: 'out',
    },
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
        `const [${outputs.out}, ${outputs.attention}] = new (showAttendTellLayer(tf))(${tsObject({ ...decoderArgs(p), name: `${layer}_decoder` })}).apply(${inputs.features}) as tf.SymbolicTensor[];`,
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
      torchWeights: [...SAT_WEIGHTS, ...(p.coverage ? [SAT_COVERAGE_WEIGHT] : [])].map((w) => ({ torch: w, tfjs: `_decoder/${w}` })),
    }),
  },
  examples: [
    { params: { steps: 3, vocab: 7, embedding: 4, units: 8, attentionUnits: 5 }, inputs: { features: [null, 2, 3, 6] } },
    { params: { steps: 2, vocab: 5, embedding: 3, units: 4, attentionUnits: 4, doublyStochastic: 1 }, inputs: { features: [null, 3, 2, 4] } },
    { params: { steps: 3, vocab: 6, embedding: 3, units: 4, attentionUnits: 4, coverage: true }, inputs: { features: [null, 2, 2, 3] } },
  ],
});

/** The decoder's settings, as the exports' constructors take them (the regulariser is training-only). */
function decoderArgs(p: { steps: number; vocab: number; embedding: number; units: number; attentionUnits: number; startToken: number; coverage: boolean }) {
  const { steps, vocab, embedding, units, attentionUnits, startToken, coverage } = p;
  return { steps, vocab, embedding, units, attentionUnits, startToken, ...(coverage && { coverage }) };
}

const snake = (o: Record<string, number | boolean>): Record<string, number | boolean> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]));
