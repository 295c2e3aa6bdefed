// The word level of a Hierarchical Attention Network: a recurrent word encoder and
// attention pooling applied to every sentence of a document, TimeDistributed-style.
// The B documents of S sentences are folded into B·S sentences for the encoder and
// unfolded after the pooling, so one set of weights reads every sentence.
import { defineBlock, ShapeError, type SymbolicTensor } from './contract.js';
import { sentenceAxisLayer, type SentenceOp } from './core-layers.js';
import { expectRank, fmtShape } from './shape-rules.js';
import { pyArgs, tsObject } from './emit/snippets.js';
import { tfjsHelper, torchHelper } from './emit/torch-helper.js';
import { kerasRecurrentLayer, recurrentLayer, recurrentTorchHelpers, recurrentTorchWeights, tsRecurrentLayer, type Cell } from './recurrent.js';
import attentionPooling from './attention/attention-pooling.js';

/** The sub-network's pieces: `${layer}_words` (the encoder) and `${layer}_pool` (the attention pooling's layers). */
const WORDS = '_words';
const POOL = '_pool';

/** The encoder's settings as the recurrent block's. */
const encoderOf = (p: { units: number; bidirectional: boolean }) => ({ units: p.units, returnSequences: true, bidirectional: p.bidirectional });

/**
 * The word attention's tfjs or Keras code: attention pooling's own emitter over the folded word states
 * `v('states')` (and mask `v('mask')`), into `v('pooled')` and `v('weights')`.
 */
function wordAttention(target: 'tfjs' | 'keras', p: { attentionUnits: number }, masked: boolean, v: (what: string) => string, layer: string) {
  return attentionPooling.emit![target]!({
    params: { units: p.attentionUnits },
    inputs: { in: v('states'), ...(masked && { mask: v('mask') }) },
    outputs: { out: v('pooled'), weights: v('weights') },
    inputShapes: {},
    outputShapes: {},
    name: v('pool'),
    layer: `${layer}${POOL}`,
  });
}

export default defineBlock({
  type: 'core.perSentence',
  label: 'Per sentence: word encoder + attention (HAN)',
  category: 'Recurrent',
  paper: 'Yang, Z., Yang, D., Dyer, C., He, X., Smola, A. & Hovy, E. (2016). Hierarchical Attention Networks for Document Classification. NAACL-HLT.',
  doc:
    'The word level of a Hierarchical Attention Network (Yang et al. 2016), applied to every sentence of a document ' +
    "as Keras's TimeDistributed applies a layer: a document of embedded words [B, S, W, D] is read as B·S sentences, " +
    'each by the same (bidirectional) GRU or LSTM, and pooled by additive attention against a learned word context ' +
    'vector (u_t = tanh(W h_t + b), α_t = softmax(u_tᵀ u_w), s = Σ_t α_t h_t). Out come the sentence vectors ' +
    '[B, S, H] for a sentence-level encoder and its attention, the word weights [B, S, W], and a sentence mask [B, S] ' +
    '(1 for a sentence with a word) for the sentence attention. Connect the token ids [B, S, W] to "mask" so that ' +
    'padding words get no weight. Parameters: those of the recurrent layer and of the attention pooling.',
  params: {
    cell: { type: 'enum', options: ['gru', 'lstm'], default: 'gru', doc: 'The word encoder: GRU (as the paper) or LSTM.' },
    units: { type: 'int', default: 50, min: 1, max: 100000, doc: 'Hidden size of the word encoder (the paper: 50 each way).' },
    bidirectional: { type: 'bool', default: true, doc: 'Read each sentence both ways; the states concatenate, so H = 2 × units.' },
    attentionUnits: { type: 'int', default: 100, min: 1, max: 100000, doc: 'Size of u_t and of the word context vector u_w (the paper: 100).' },
  },
  inputs: [
    { name: 'in', doc: 'Embedded words by sentence [B, S, W, D].', rank: 4 },
    { name: 'mask', doc: 'Optional token ids (or a padding mask) [B, S, W]: a word is kept where it is non-zero.', rank: 3, optional: true },
  ],
  outputs: [
    { name: 'out', doc: 'One vector per sentence [B, S, H], H = units (× 2 when bidirectional).' },
    { name: 'weights', doc: 'Word attention α [B, S, W]; each sentence row sums to 1.', attention: 'matrix', axes: 'batch, sentence, word' },
    {
      name: 'sentences',
      doc: "Sentence mask [B, S]: 1 for a sentence with a word, 0 for padding (without a mask: for a sentence with any non-zero input): the sentence attention's mask.",
    },
  ],
  inferShape({ params: p, inputs }) {
    const [b, s, w, d] = expectRank(inputs.in, 'in', 4, 'embedded words by sentence [B, S, W, D]');
    if (s === null || w === null || d === null) throw new ShapeError(`input "in" needs known sentences, words and features, got ${fmtShape(inputs.in)}`, 'in');
    if (inputs.mask) {
      const [, ms, mw] = expectRank(inputs.mask, 'mask', 3, 'token ids [B, S, W]');
      if ((ms !== null && ms !== s) || (mw !== null && mw !== w))
        throw new ShapeError(`the mask ${fmtShape(inputs.mask)} must have one entry per sentence and word of "in" ${fmtShape(inputs.in)}`, 'mask');
    }
    return { out: [b, s, p.bidirectional ? 2 * p.units : p.units], weights: [b, s, w], sentences: [b, s] };
  },
  build(tf, { params: p, inputs, inputShapes, name, init }) {
    const s = inputShapes.in[1] as number;
    const axis = (op: SentenceOp, x: SymbolicTensor, suffix: string) =>
      new (sentenceAxisLayer(tf))({ op, sentences: s, name: `${name}_${suffix}` }).apply(x) as SymbolicTensor;
    const words = axis('fold', inputs.in, 'fold');
    const mask = inputs.mask && axis('fold', inputs.mask, 'fold_mask');
    const states = recurrentLayer(tf, p.cell as Cell, encoderOf(p), `${name}${WORDS}`, init).apply(words) as SymbolicTensor;
    const pooled = attentionPooling.build(tf, {
      params: { units: p.attentionUnits },
      inputs: mask ? { in: states, mask } : { in: states },
      inputShapes: {},
      name: `${name}${POOL}`,
      init,
    });
    return {
      out: axis('unfold', pooled.out, 'unfold'),
      weights: axis('unfold', pooled.weights, 'unfold_weights'),
      sentences: axis('present', inputs.mask ?? inputs.in, 'present'),
    };
  },
  emit: {
    tfjs: ({ params: p, inputs: i, outputs: o, inputShapes, layer }) => {
      const s = inputShapes.in[1];
      const axis = (op: SentenceOp, x: string, suffix: string) =>
        `new (sentenceAxisLayer(tf))(${tsObject({ op, sentences: s, name: `${layer}_${suffix}` })}).apply(${x}) as tf.SymbolicTensor`;
      const v = (what: string) => `${o.out}_${what}`;
      const pooled = wordAttention('tfjs', p, i.mask !== undefined, v, layer);
      return {
        body: [
          `const ${v('words')} = ${axis('fold', i.in, 'fold')};`,
          ...(i.mask ? [`const ${v('mask')} = ${axis('fold', i.mask, 'fold_mask')};`] : []),
          `const ${v('states')} = ${tsRecurrentLayer(p.cell as Cell, encoderOf(p), `${layer}${WORDS}`)}.apply(${v('words')}) as tf.SymbolicTensor;`,
          ...pooled.body,
          `const ${o.out} = ${axis('unfold', v('pooled'), 'unfold')};`,
          `const ${o.weights} = ${axis('unfold', v('weights'), 'unfold_weights')};`,
          `const ${o.sentences} = ${axis('present', i.mask ?? i.in, 'present')};`,
        ],
        helpers: [...(pooled.helpers ?? []), tfjsHelper('sentenceAxisLayer', 'core-layers.ts')],
      };
    },
    keras: ({ params: p, inputs: i, outputs: o, inputShapes, layer }) => {
      const [, s, w, d] = inputShapes.in;
      const h = p.bidirectional ? 2 * p.units : p.units;
      const v = (what: string) => `${o.out}_${what}`;
      const pooled = wordAttention('keras', p, i.mask !== undefined, v, layer);
      return {
        body: [
          `# ${layer}: the word encoder and attention read the B*S sentences as one batch`,
          `${v('words')} = ops.reshape(${i.in}, (-1, ${w}, ${d}))`,
          ...(i.mask ? [`${v('mask')} = ops.reshape(${i.mask}, (-1, ${w}))`] : []),
          `${v('states')} = ${kerasRecurrentLayer(p.cell as Cell, encoderOf(p), `${layer}${WORDS}`)}(${v('words')})`,
          ...pooled.body,
          `${o.out} = ops.reshape(${v('pooled')}, (-1, ${s}, ${h}))`,
          `${o.weights} = ops.reshape(${v('weights')}, (-1, ${s}, ${w}))`,
          i.mask
            ? `${o.sentences} = ops.cast(ops.any(ops.not_equal(${i.mask}, 0), axis=-1), "float32")`
            : `${o.sentences} = ops.cast(ops.any(ops.not_equal(${i.in}, 0), axis=(2, 3)), "float32")`,
        ],
        helpers: pooled.helpers,
      };
    },
    pytorch: ({ params: p, inputs: i, outputs: o, inputShapes, name }) => {
      const d = inputShapes.in[3];
      const h = p.bidirectional ? 2 * p.units : p.units;
      const cls = (p.cell as string).toUpperCase();
      const cell = `${cls}(${pyArgs([d, p.units], { return_sequences: true })})`;
      const encoder = p.bidirectional ? `Bidirectional(${cell}, ${cell})` : cell;
      const pooled = attentionPooling.emit!.pytorch!({
        params: { units: p.attentionUnits },
        inputs: { in: 'states' },
        outputs: { out: 'out', weights: 'weights' },
        inputShapes: { in: [null, inputShapes.in[2], h] },
        outputShapes: {},
        name: 'pooling',
        layer: POOL,
      });
      // The pooling's own constructor call, as the attention pooling block writes it.
      const pooling = pooled.init![0].replace(/^self\.pooling = /, '');
      const nested = (prefix: string, suffix: string, ws: typeof pooled.torchWeights) =>
        (ws ?? []).map((w) => ({
          ...w,
          torch: `${prefix}.${w.torch}`,
          tfjs: `${suffix}${w.tfjs.startsWith('_') ? '' : '/'}${w.tfjs.replaceAll('{layer}', `{layer}${suffix}`)}`,
        }));
      return {
        init: [`self.${name} = PerSentence(${encoder}, ${pooling})`],
        body: [`${o.out}, ${o.weights}, ${o.sentences} = self.${name}(${i.in}${i.mask ? `, ${i.mask}` : ''})`],
        helpers: [...recurrentTorchHelpers(p.cell as Cell, p.bidirectional), ...(pooled.helpers ?? []), torchHelper('PerSentence', 'layers.py')],
        torchWeights: [...nested('encoder', WORDS, recurrentTorchWeights(p.bidirectional)), ...nested('pooling', POOL, pooled.torchWeights)],
      };
    },
  },
  examples: [
    { params: { units: 4, attentionUnits: 5 }, inputs: { in: [null, 3, 5, 6], mask: [null, 3, 5] } },
    { params: { cell: 'lstm', units: 3, bidirectional: false, attentionUnits: 4 }, inputs: { in: [null, 2, 4, 5] } },
  ],
});
