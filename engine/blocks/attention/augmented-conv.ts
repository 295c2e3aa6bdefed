import type * as tfjs from '@tensorflow/tfjs';
import { defineBlock, ShapeError, type Initializer, type SymbolicTensor, type Tensor, type TF } from '../contract.js';
import { customLayer } from '../custom-layer.js';
import { expectRank } from '../shape-rules.js';
import { KERAS_AUGMENTED_CONV, TORCH_AUGMENTED_CONV, TS_HELPERS } from './structured-ops/emit.js';
import { convWeights, pyTargets, tsTargets } from './vision-ops/emit.js';
import { pyArgs, tsObject } from '../emit/snippets.js';

/** [n·n] indices into a [2n − 1] table of relative offsets: entry (i, j) is j − i + n − 1. */
const relativeIndex = (n: number) => Array.from({ length: n * n }, (_, e) => (e % n) - Math.floor(e / n) + n - 1);

/**
 * q [B, heads, H, W, d] with a relative embedding table [2W − 1, d] (or [2H − 1, d] along = 'h') →
 * logits [B, heads, H, W, W] whose entry (x, y, y') is q_xy · r_(y' − y) (or [B, heads, H, W, H] with q_xy · r_(x' − x)).
 */
function relativeLogits(tf: TF, q: Tensor, table: Tensor, along: 'w' | 'h'): Tensor {
  const [b, heads, h, w, d] = q.shape;
  const n = along === 'w' ? w : h;
  const r = tf.transpose(tf.reshape(tf.gather(table, relativeIndex(n)), [n, n, d]), [0, 2, 1]); // [n (from), d, n (to)]
  // Bring the "from" axis to the front so a batched matmul pairs every query with its own row of offsets.
  const order = along === 'w' ? [3, 0, 1, 2, 4] : [2, 0, 1, 3, 4];
  const qs = tf.reshape(tf.transpose(q, order), [n, -1, d]);
  const logits = tf.reshape(tf.matMul(qs, r), along === 'w' ? [w, b, heads, h, n] : [h, b, heads, w, n]);
  return tf.transpose(logits, along === 'w' ? [1, 2, 3, 0, 4] : [1, 2, 0, 3, 4]);
}

/**
 * qkv [B, H, W, 2dk + dv] → [attention output [B, H, W, dv], weights [B, heads, H·W, H·W]], following the
 * reference code of Bello et al.: queries scaled by dkh^−½, logits qᵀk plus, when relative, qᵀ r^W_(y'−y) +
 * qᵀ r^H_(x'−x) with embeddings shared by the heads.
 */
const augmentedAttentionLayer = (tf: TF) =>
  customLayer(tf, 'AugmentedAttention2d', (tf) => {
    class AugmentedAttention2d extends tf.layers.Layer {
      static className = 'AugmentedAttention2d';
      readonly dk: number;
      readonly dv: number;
      readonly heads: number;
      readonly relative: boolean;
      private readonly embeddingInitializer?: Initializer;
      private relW?: tfjs.LayerVariable;
      private relH?: tfjs.LayerVariable;
      constructor(args: { dk: number; dv: number; heads: number; relative: boolean; embeddingInitializer?: Initializer; name?: string }) {
        super(args);
        this.dk = args.dk;
        this.dv = args.dv;
        this.heads = args.heads;
        this.relative = args.relative;
        this.embeddingInitializer = args.embeddingInitializer;
      }
      override build(inputShape: (number | null)[]) {
        if (this.relative) {
          const [, h, w] = inputShape as number[];
          const dkh = this.dk / this.heads;
          const initializer = this.embeddingInitializer ?? tf.initializers.randomNormal({ mean: 0, stddev: dkh ** -0.5 });
          this.relW = this.addWeight('key_rel_w', [2 * w - 1, dkh], 'float32', initializer);
          this.relH = this.addWeight('key_rel_h', [2 * h - 1, dkh], 'float32', initializer);
        }
        this.built = true;
      }
      override computeOutputShape(inputShape: (number | null)[]) {
        const [b, h, w] = inputShape;
        return [
          [b, h, w, this.dv],
          [b, this.heads, h === null || w === null ? null : h * w, h === null || w === null ? null : h * w],
        ];
      }
      override call(inputs: Tensor | Tensor[]) {
        const qkv = Array.isArray(inputs) ? inputs[0] : inputs;
        return tf.tidy(() => {
          const [b, h, w] = qkv.shape;
          const n = h * w;
          const [dkh, dvh] = [this.dk / this.heads, this.dv / this.heads];
          const [q, k, v] = tf.split(qkv, [this.dk, this.dk, this.dv], 3);
          const split = (t: Tensor, d: number) => tf.transpose(tf.reshape(t, [b, n, this.heads, d]), [0, 2, 1, 3]); // [B, heads, HW, d]
          const queries = tf.mul(split(q, dkh), dkh ** -0.5);
          let logits = tf.matMul(queries, split(k, dkh), false, true); // [B, heads, HW, HW]
          if (this.relW && this.relH) {
            const q5 = tf.reshape(queries, [b, this.heads, h, w, dkh]);
            const byW = tf.expandDims(relativeLogits(tf, q5, this.relW.read(), 'w'), 4); // [B, heads, H, W, 1, W]
            const byH = tf.expandDims(relativeLogits(tf, q5, this.relH.read(), 'h'), 5); // [B, heads, H, W, H, 1]
            logits = tf.reshape(tf.add(tf.reshape(logits, [b, this.heads, h, w, h, w]), tf.add(byW, byH)), [b, this.heads, n, n]);
          }
          const weights = tf.softmax(logits);
          const out = tf.reshape(tf.transpose(tf.matMul(weights, split(v, dvh)), [0, 2, 1, 3]), [b, h, w, this.dv]);
          return [out, weights];
        });
      }
      override getConfig() {
        return { ...super.getConfig(), dk: this.dk, dv: this.dv, heads: this.heads, relative: this.relative };
      }
    }
    return AugmentedAttention2d;
  });

export default defineBlock({
  type: 'attention.augmentedConv',
  label: 'Attention-augmented convolution',
  category: 'Attention',
  doc:
    'Attention-augmented convolution (Bello et al. 2019): the output channels are split between a k×k convolution ' +
    '(filters − dv channels) and multi-head self-attention over all positions (dv channels), concatenated. The ' +
    'attention half projects the input with one 1×1 convolution to queries, keys (dk channels each) and values (dv), ' +
    "split into heads; logits are qᵀk/√(dk/heads) plus, with relative positions on, the query's dot product with " +
    'learned embeddings of the row offset and the column offset to each key (shared by the heads, as in the ' +
    "paper's code); a softmax over all H·W keys weighs the values, and a 1×1 convolution mixes the heads. With " +
    'dv = filters the layer is fully attentional. The attention output is the weight matrix per head over query and ' +
    'key positions (row-major, h·W + w).',
  paper: 'Bello, I., Zoph, B., Vaswani, A., Shlens, J., Le, Q. V. (2019). Attention Augmented Convolutional Networks. ICCV.',
  params: {
    filters: { type: 'int', default: 16, min: 1, max: 4096, doc: 'Output channels F_out (convolution and attention together).' },
    kernel: { type: 'int', default: 3, min: 1, max: 15, doc: 'Kernel size of the convolution.' },
    dk: { type: 'int', default: 8, min: 1, max: 4096, doc: 'Total query/key depth over all heads.' },
    dv: { type: 'int', default: 8, min: 1, max: 4096, doc: "Total value depth over all heads: the attention's share of the output channels." },
    heads: { type: 'int', default: 2, min: 1, max: 64, doc: 'Attention heads; must divide dk and dv.' },
    relative: { type: 'bool', default: true, doc: 'Add 2-D relative position logits (height and width offsets).' },
  },
  inputs: [{ name: 'in', doc: 'Feature map [B, H, W, C].', rank: 4 }],
  outputs: [
    { name: 'out', doc: 'Feature map [B, H, W, filters]: convolution channels, then attention channels.' },
    {
      name: 'attention',
      doc: 'Attention weights [B, heads, H·W, H·W].',
      attention: 'matrix',
      axes: 'batch, head, query position (h·W + w), key position (h·W + w)',
    },
  ],
  inferShape({ params: p, inputs }) {
    const [b, h, w] = expectRank(inputs.in, 'in', 4, 'an NHWC feature map');
    if (p.dk % p.heads !== 0) throw new ShapeError(`heads ${p.heads} must divide dk ${p.dk}`);
    if (p.dv % p.heads !== 0) throw new ShapeError(`heads ${p.heads} must divide dv ${p.dv}`);
    if (p.dv > p.filters) throw new ShapeError(`dv ${p.dv} is more than the ${p.filters} output filters; the attention's share must fit in them`);
    if (p.relative && (h === null || w === null)) throw new ShapeError('relative position logits need a known height and width', 'in');
    const n = h === null || w === null ? null : h * w;
    return { out: [b, h, w, p.filters], attention: [b, p.heads, n, n] };
  },
  build(tf, { params: p, inputs, name, init }) {
    const conv = (x: SymbolicTensor, filters: number, kernel: number, suffix: string) =>
      tf.layers
        .conv2d({ filters, kernelSize: kernel, padding: 'same', kernelInitializer: init.glorotUniform(), name: `${name}_${suffix}` })
        .apply(x) as SymbolicTensor;
    const qkv = conv(inputs.in, 2 * p.dk + p.dv, 1, 'qkv');
    const attentionLayer = new (augmentedAttentionLayer(tf))({
      dk: p.dk,
      dv: p.dv,
      heads: p.heads,
      relative: p.relative,
      embeddingInitializer: init.normal((p.dk / p.heads) ** -0.5),
      name: `${name}_attention`,
    });
    const [attended, attention] = attentionLayer.apply(qkv) as SymbolicTensor[];
    const attnOut = conv(attended, p.dv, 1, 'attn_out');
    const out =
      p.dv === p.filters
        ? attnOut
        : (tf.layers.concatenate({ axis: -1, name: `${name}_concat` }).apply([conv(inputs.in, p.filters - p.dv, p.kernel, 'conv'), attnOut]) as SymbolicTensor);
    return { out, attention };
  },
  emit: {
    tfjs: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        `const ${tsTargets(outputs)} = new AugmentedConv2d(${tsObject({ filters: p.filters, kernelSize: p.kernel, dk: p.dk, dv: p.dv, heads: p.heads, relative: p.relative ? undefined : false, name: layer })}).apply(${inputs.in});`,
      ],
      helpers: TS_HELPERS.augmentedConv,
    }),
    keras: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        `${pyTargets([outputs.out, outputs.attention])} = AugmentedConv2d(${pyArgs([p.filters, p.kernel], { dk: p.dk, dv: p.dv, heads: p.heads, relative: p.relative ? undefined : false, name: layer })})(${inputs.in})`,
      ],
      helpers: [KERAS_AUGMENTED_CONV],
    }),
    pytorch({ params: p, inputs, inputShapes, outputs, name }) {
      const [, h, w, c] = inputShapes.in;
      const size = p.relative ? { height: h, width: w } : { relative: false };
      return {
        init: [
          `self.${name} = AugmentedConv2d(${pyArgs([], { in_channels: c, filters: p.filters, kernel_size: p.kernel, dk: p.dk, dv: p.dv, heads: p.heads, ...size })})`,
        ],
        body: [`${pyTargets([outputs.out, outputs.attention])} = self.${name}(${inputs.in})`],
        helpers: [TORCH_AUGMENTED_CONV],
        torchWeights: [
          ...(p.dv < p.filters ? convWeights('conv', 'conv') : []),
          ...convWeights('qkv', 'qkv'),
          ...convWeights('attn_out', 'attn_out'),
          ...(p.relative
            ? [
                { torch: 'key_rel_w', tfjs: '_attention/key_rel_w' },
                { torch: 'key_rel_h', tfjs: '_attention/key_rel_h' },
              ]
            : []),
        ],
      };
    },
  },
  examples: [
    { params: { filters: 8, kernel: 3, dk: 4, dv: 4, heads: 2 }, inputs: { in: [null, 4, 5, 3] } },
    { params: { filters: 6, dk: 4, dv: 6, heads: 2, relative: false }, inputs: { in: [null, 3, 3, 4] } },
  ],
});
