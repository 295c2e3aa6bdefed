import type * as tfjs from '@tensorflow/tfjs';
import { defineBlock, ShapeError, type Initializer, type SymbolicTensor, type Tensor, type TF } from '../contract.js';
import { customLayer } from '../custom-layer.js';
import { expectRank } from '../shape-rules.js';
import { KERAS_LOCAL_SELF_ATTENTION, TORCH_LOCAL_SELF_ATTENTION, TS_HELPERS } from './structured-ops/emit.js';
import { convWeights, pyTargets, tsTargets } from './vision-ops/emit.js';
import { pyArgs, tsObject } from '../emit/snippets.js';

/**
 * The k×k window of every position of an h×w map, row-major: `index` holds each neighbour's flat position
 * (a neighbour off the edge points at the position itself, any valid index would do) and `mask` 0 for neighbours
 * inside the image and −1e9 for those off the edge, so that they weigh exactly 0 after the softmax.
 */
function windows(h: number, w: number, k: number): { index: Int32Array; mask: Float32Array } {
  const pad = (k - 1) / 2;
  const index = new Int32Array(h * w * k * k);
  const mask = new Float32Array(h * w * k * k);
  let e = 0;
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++)
      for (let a = 0; a < k; a++)
        for (let b = 0; b < k; b++, e++) {
          const [y, x] = [i + a - pad, j + b - pad];
          const inside = y >= 0 && y < h && x >= 0 && x < w;
          index[e] = inside ? y * w + x : i * w + j;
          mask[e] = inside ? 0 : -1e9;
        }
  return { index, mask };
}

/**
 * Rows of a 2-D tensor picked by index, with a scatter-add gradient: tfjs's own gather gradient goes through
 * UnsortedSegmentSum, which the cpu backend computes with one full pass per row (minutes for a 16×16 map).
 */
function gatherRows(tf: TF, x: Tensor, index: Int32Array): Tensor {
  const gather = tf.customGrad(((source: Tensor) => ({
    value: tf.gather(source, index, 0),
    gradFunc: (dy: Tensor) => tf.scatterND(tf.tensor2d(index, [index.length, 1], 'int32'), dy, source.shape),
  })) as unknown as Parameters<TF['customGrad']>[0]);
  return gather(x);
}

/**
 * [q, k, v] (each [B, H, W, C]) → [y [B, H, W, C], weights [B, heads, H·W, k·k]]. Holds the relative position
 * embeddings: rows [k, C/2] and columns [k, C/2]; the offset (a, b) is embedded as concat(row_a, col_b) and
 * split over the heads like the keys.
 */
const localSelfAttentionLayer = (tf: TF) =>
  customLayer(tf, 'LocalSelfAttention2d', (tf) => {
    class LocalSelfAttention2d extends tf.layers.Layer {
      static className = 'LocalSelfAttention2d';
      readonly kernel: number;
      readonly heads: number;
      private readonly embeddingInitializer?: Initializer;
      private rows!: tfjs.LayerVariable;
      private cols!: tfjs.LayerVariable;
      constructor(args: { kernel: number; heads: number; embeddingInitializer?: Initializer; name?: string }) {
        super(args);
        this.kernel = args.kernel;
        this.heads = args.heads;
        this.embeddingInitializer = args.embeddingInitializer;
      }
      override build(inputShape: (number | null)[][]) {
        const half = (inputShape[0][3] as number) / 2;
        const initializer = this.embeddingInitializer ?? tf.initializers.randomNormal({ mean: 0, stddev: 1 });
        this.rows = this.addWeight('row_embedding', [this.kernel, half], 'float32', initializer);
        this.cols = this.addWeight('col_embedding', [this.kernel, half], 'float32', initializer);
        this.built = true;
      }
      override computeOutputShape(inputShape: (number | null)[][]) {
        const [b, h, w] = inputShape[0];
        return [inputShape[2], [b, this.heads, h === null || w === null ? null : h * w, this.kernel * this.kernel]];
      }
      // Windows are gathered by index and every product is a batched matMul: the cpu backend's slices,
      // broadcasts and high-rank transposes are many times slower.
      override call(inputs: Tensor | Tensor[]) {
        const [q, k, v] = inputs as Tensor[];
        return tf.tidy(() => {
          const [b, h, w, c] = q.shape;
          const [n, kk, heads] = [h * w, this.kernel * this.kernel, this.heads];
          const dh = c / heads;
          const { index, mask } = windows(h, w, this.kernel);
          // [B·heads·HW, k·k, dh]: each query's window of keys or values.
          const windowOf = (t: Tensor) => {
            const byPosition = tf.reshape(tf.transpose(tf.reshape(t, [b, n, c]), [1, 0, 2]), [n, b * c]);
            const picked = tf.reshape(gatherRows(tf, byPosition, index), [n, kk, b, heads, dh]);
            return tf.reshape(tf.transpose(picked, [2, 3, 0, 1, 4]), [b * heads * n, kk, dh]);
          };
          const queries = tf.transpose(tf.reshape(q, [b, n, heads, dh]), [0, 2, 1, 3]); // [B, heads, HW, dh]
          const content = tf.matMul(tf.reshape(queries, [b * heads * n, 1, dh]), windowOf(k), false, true); // q·k
          const offsets = Array.from({ length: kk }, (_, e) => e);
          const rel = tf.concat(
            [
              tf.gather(
                this.rows.read(),
                offsets.map((e) => Math.floor(e / this.kernel)),
              ),
              tf.gather(
                this.cols.read(),
                offsets.map((e) => e % this.kernel),
              ),
            ],
            1,
          ); // [k·k, C]: concat(row_a, col_b)
          // q·r per head ([heads, B·HW, k·k]; matMul's gradient does not reduce broadcast batch axes), then [B, heads, HW, k·k].
          const queriesByHead = tf.reshape(tf.transpose(tf.reshape(q, [b, n, heads, dh]), [2, 0, 1, 3]), [heads, b * n, dh]);
          const relByHead = tf.transpose(tf.reshape(rel, [kk, heads, dh]), [1, 0, 2]);
          const position = tf.transpose(tf.reshape(tf.matMul(queriesByHead, relByHead, false, true), [heads, b, n, kk]), [1, 0, 2, 3]);
          const edges = new Float32Array(b * heads * n * kk);
          for (let o = 0; o < edges.length; o += mask.length) edges.set(mask, o);
          const logits = tf.add(tf.add(tf.reshape(content, [b, heads, n, kk]), position), tf.tensor(edges, [b, heads, n, kk]));
          const weights = tf.softmax(logits); // [B, heads, HW, k·k]
          const y = tf.matMul(tf.reshape(weights, [b * heads * n, 1, kk]), windowOf(v)); // [B·heads·HW, 1, dh]
          return [tf.reshape(tf.transpose(tf.reshape(y, [b, heads, n, dh]), [0, 2, 1, 3]), [b, h, w, c]), weights];
        });
      }
      override getConfig() {
        return { ...super.getConfig(), kernel: this.kernel, heads: this.heads };
      }
    }
    return LocalSelfAttention2d;
  });

export default defineBlock({
  type: 'attention.localSelfAttention2d',
  label: 'Local self-attention 2D',
  category: 'Attention',
  doc:
    'Stand-alone self-attention (Ramachandran et al. 2019), a drop-in replacement for a k×k convolution: every ' +
    'position ij attends to its k×k neighbourhood N(ij), y_ij = Σ_ab∈N softmax_ab(q_ijᵀ k_ab + q_ijᵀ r_(a−i, b−j)) v_ab, ' +
    'with q, k, v bias-free 1×1 projections split into heads. The relative position embedding r of an offset is the ' +
    'concatenation of a row-offset embedding and a column-offset embedding, each half of the output channels, split ' +
    'over the heads like the keys. As in the paper the logits are not scaled by 1/√d. Neighbours that fall outside ' +
    'the image are masked out of the softmax (rather than attending to zero padding). The attention output gives, ' +
    'per head and query position (row-major, h·W + w), the weights of the k×k window (row-major offsets, the centre ' +
    'at index (k·k − 1)/2); weights of masked neighbours are 0.',
  paper: 'Ramachandran, P., Parmar, N., Vaswani, A., Bello, I., Levskaya, A., Shlens, J. (2019). Stand-Alone Self-Attention in Vision Models. NeurIPS.',
  params: {
    channels: { type: 'int', default: 16, min: 2, max: 4096, doc: 'Output channels d_out (even: half row, half column embedding).' },
    heads: { type: 'int', default: 4, min: 1, max: 64, doc: 'Attention heads; must divide the output channels.' },
    kernel: { type: 'int', default: 3, min: 1, max: 15, doc: 'Neighbourhood size k (odd; the paper uses 7).' },
  },
  inputs: [{ name: 'in', doc: 'Feature map [B, H, W, C].', rank: 4 }],
  outputs: [
    { name: 'out', doc: 'Feature map [B, H, W, channels].' },
    {
      name: 'attention',
      doc: "Weights over each position's k×k window, [B, heads, H·W, k·k].",
      attention: 'matrix',
      axes: 'batch, head, query position (h·W + w), window offset (row-major k×k)',
    },
  ],
  inferShape({ params: p, inputs }) {
    const [b, h, w] = expectRank(inputs.in, 'in', 4, 'an NHWC feature map');
    if (p.kernel % 2 === 0) throw new ShapeError(`kernel ${p.kernel} must be odd so that the window is centred on its position`);
    if (p.channels % 2 !== 0) throw new ShapeError(`channels ${p.channels} must be even: half carry the row-offset embedding, half the column-offset one`);
    if (p.channels % p.heads !== 0) throw new ShapeError(`heads ${p.heads} must divide channels ${p.channels}`);
    return { out: [b, h, w, p.channels], attention: [b, p.heads, h === null || w === null ? null : h * w, p.kernel * p.kernel] };
  },
  build(tf, { params: p, inputs, name, init }) {
    const project = (suffix: string) =>
      tf.layers
        .conv2d({ filters: p.channels, kernelSize: 1, useBias: false, kernelInitializer: init.glorotUniform(), name: `${name}_${suffix}` })
        .apply(inputs.in) as SymbolicTensor;
    const qkv = [project('query'), project('key'), project('value')];
    const layer = new (localSelfAttentionLayer(tf))({ kernel: p.kernel, heads: p.heads, embeddingInitializer: init.normal(1), name: `${name}_attention` });
    const [out, attention] = layer.apply(qkv) as SymbolicTensor[];
    return { out, attention };
  },
  emit: {
    tfjs: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        `const ${tsTargets(outputs)} = new StandAloneSelfAttention2d(${tsObject({ channels: p.channels, heads: p.heads, kernel: p.kernel, name: layer })}).apply(${inputs.in});`,
      ],
      helpers: TS_HELPERS.localSelfAttention,
    }),
    keras: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        `${pyTargets([outputs.out, outputs.attention])} = LocalSelfAttention2d(${pyArgs([p.channels], { heads: p.heads, kernel_size: p.kernel, name: layer })})(${inputs.in})`,
      ],
      helpers: [KERAS_LOCAL_SELF_ATTENTION],
    }),
    pytorch: ({ params: p, inputs, inputShapes, outputs, name }) => ({
      init: [
        `self.${name} = LocalSelfAttention2d(${pyArgs([], { in_channels: inputShapes.in[3], channels: p.channels, heads: p.heads, kernel_size: p.kernel })})`,
      ],
      body: [`${pyTargets([outputs.out, outputs.attention])} = self.${name}(${inputs.in})`],
      helpers: [TORCH_LOCAL_SELF_ATTENTION],
      torchWeights: [
        ...['query', 'key', 'value'].flatMap((c) => convWeights(c, c, false)),
        { torch: 'row_embedding', tfjs: '_attention/row_embedding' },
        { torch: 'col_embedding', tfjs: '_attention/col_embedding' },
      ],
    }),
  },
  examples: [
    { params: { channels: 8, heads: 2, kernel: 3 }, inputs: { in: [null, 6, 5, 4] } },
    { params: { channels: 16, heads: 4, kernel: 5 }, inputs: { in: [null, 4, 4, 3] } },
  ],
});
