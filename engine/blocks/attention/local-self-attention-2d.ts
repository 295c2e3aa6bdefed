import type * as tfjs from '@tensorflow/tfjs';
import { defineBlock, ShapeError, type Initializer, type SymbolicTensor, type Tensor, type TF } from '../contract.js';
import { customLayer } from '../custom-layer.js';
import { expectRank } from '../../shapes/rules.js';

/** x [B, H, W, C] → [B, H, W, k·k, C]: the k×k zero-padded neighbourhood of every position, row-major offsets. */
function neighbourhoods(tf: TF, x: Tensor, k: number): Tensor {
  const [, h, w] = x.shape;
  const pad = (k - 1) / 2;
  const padded = tf.pad(x, [
    [0, 0],
    [pad, pad],
    [pad, pad],
    [0, 0],
  ]);
  const shifted: Tensor[] = [];
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) shifted.push(tf.slice(padded, [0, a, b, 0], [-1, h, w, -1]));
  return tf.stack(shifted, 3);
}

/** 0 where the neighbour lies inside the image, −1e9 where it falls off the edge: [1, H, W, 1, k·k]. */
function edgeMask(tf: TF, h: number, w: number, k: number): Tensor {
  const pad = (k - 1) / 2;
  const m = new Float32Array(h * w * k * k);
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++)
      for (let a = 0; a < k; a++)
        for (let b = 0; b < k; b++) {
          const y = i + a - pad;
          const x = j + b - pad;
          if (y < 0 || y >= h || x < 0 || x >= w) m[((i * w + j) * k + a) * k + b] = -1e9;
        }
  return tf.tensor(m, [1, h, w, 1, k * k]);
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
      override call(inputs: Tensor | Tensor[]) {
        const [q, k, v] = inputs as Tensor[];
        return tf.tidy(() => {
          const [b, h, w, c] = q.shape;
          const kk = this.kernel * this.kernel;
          const dh = c / this.heads;
          const offsets = Array.from({ length: kk }, (_, n) => n);
          const rel = tf.concat(
            [tf.gather(this.rows.read(), offsets.map((n) => Math.floor(n / this.kernel))), tf.gather(this.cols.read(), offsets.map((n) => n % this.kernel))],
            1,
          ); // [k·k, C]
          const perHead = (t: Tensor) => tf.transpose(tf.reshape(t, [b, h, w, kk, this.heads, dh]), [0, 1, 2, 4, 3, 5]); // [B, H, W, heads, k·k, dh]
          const keys = perHead(tf.add(neighbourhoods(tf, k, this.kernel), rel));
          const values = perHead(neighbourhoods(tf, v, this.kernel));
          const queries = tf.reshape(q, [b, h, w, this.heads, 1, dh]);
          const logits = tf.add(tf.sum(tf.mul(queries, keys), -1), edgeMask(tf, h, w, this.kernel)); // [B, H, W, heads, k·k]
          const weights = tf.softmax(logits);
          const y = tf.reshape(tf.sum(tf.mul(tf.expandDims(weights, -1), values), 4), [b, h, w, c]);
          return [y, tf.reshape(tf.transpose(weights, [0, 3, 1, 2, 4]), [b, this.heads, h * w, kk])];
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
      doc: 'Weights over each position\'s k×k window, [B, heads, H·W, k·k].',
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
  examples: [
    { params: { channels: 8, heads: 2, kernel: 3 }, inputs: { in: [null, 6, 5, 4] } },
    { params: { channels: 16, heads: 4, kernel: 5 }, inputs: { in: [null, 4, 4, 3] } },
  ],
});
