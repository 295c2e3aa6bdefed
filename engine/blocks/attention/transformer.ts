// The Transformer encoder and decoder layers (Vaswani et al. 2017, §3.1), laid
// out like PyTorch's nn.TransformerEncoderLayer / nn.TransformerDecoderLayer
// (same sublayers, same parameter count, LayerNorm ε 1e-5 unless set), post-norm as in the
// paper or pre-norm (norm_first=True; Xiong et al. 2020).
import { defineBlock } from '../contract.js';
import { attnDropoutParam, headsParam, multiHeadShape } from './ops/multi-head.js';
import { maskPort, sameDim, sequence } from './ops/shapes.js';
import { kerasCall, torchModule, tsTensors, unlessDefault } from './ops/emit.js';
import { numberArg, tsObject } from '../emit/snippets.js';
import { layerNormWeights, linearWeights, multiHeadWeights, TORCH_DECODER, TORCH_ENCODER, TORCH_MASKED_SOFTMAX, TORCH_MULTI_HEAD } from './ops/emit-torch.js';
import { KERAS_DECODER, KERAS_ENCODER, KERAS_MASKED_SOFTMAX, KERAS_MULTI_HEAD } from './ops/emit-keras.js';
import { TS_DECODER, TS_ENCODER } from './ops/emit-tfjs.js';
import { transformerDecoderLayer, transformerEncoderLayer } from './ops/transformer-layers.js';

const PAPER = 'Vaswani, A. et al. (2017). Attention Is All You Need. NeurIPS.';

const layerParams = {
  heads: headsParam,
  ffDim: {
    type: 'int',
    default: 128,
    min: 1,
    max: 1000000,
    label: 'feed-forward size',
    doc: 'Hidden size of the position-wise feed-forward network (PyTorch dim_feedforward).',
  },
  dropout: {
    ...attnDropoutParam,
    default: 0.1,
    doc: 'Dropout on the attention weights, inside the feed-forward network and on each sublayer output (PyTorch dropout).',
  },
  activation: { type: 'enum', options: ['relu', 'gelu'], default: 'relu', doc: 'Feed-forward activation.' },
  norm: {
    type: 'enum',
    options: ['post', 'pre'],
    default: 'post',
    doc: 'LayerNorm after each residual sum (the paper) or before each sublayer (pre-norm, PyTorch norm_first).',
  },
  normEpsilon: {
    type: 'float',
    default: 1e-5,
    min: 1e-12,
    max: 1,
    label: 'LayerNorm ε',
    doc: "The LayerNorms' epsilon: 1e-5 as PyTorch's nn.TransformerEncoderLayer, 1e-6 as torchvision's and timm's ViT.",
  },
} as const;

interface LayerOptions {
  heads: number;
  ffDim: number;
  dropout: number;
  activation: 'relu' | 'gelu';
  norm: 'post' | 'pre';
  normEpsilon: number;
}

type Layer = 'encoder' | 'decoder';

/** Constructor arguments of the exported layer, defaults left out. */
function exportArgs(kind: Layer, p: LayerOptions & { causal: boolean }, d: number, lang: 'python' | 'typescript', ffName = 'ff_dim') {
  const common = {
    dropout: unlessDefault(p.dropout, 0.1),
    activation: unlessDefault(p.activation, 'relu'),
  };
  const causal = unlessDefault(p.causal, kind === 'decoder');
  const eps = p.normEpsilon === 1e-5 ? undefined : numberArg(p.normEpsilon);
  if (lang === 'typescript') return { heads: p.heads, ffDim: p.ffDim, ...common, norm: unlessDefault(p.norm, 'post'), normEpsilon: eps, causal };
  return { d_model: d, num_heads: p.heads, [ffName]: p.ffDim, ...common, norm_first: p.norm === 'pre' ? true : undefined, causal, layer_norm_eps: eps };
}

/** Where the tfjs weights go in the exported PyTorch layer. */
function transformerWeights(kind: Layer): ReturnType<typeof linearWeights> {
  const norms = kind === 'decoder' ? [1, 2, 3] : [1, 2];
  return [
    ...multiHeadWeights('self_attn', 'self_', true),
    ...(kind === 'decoder' ? multiHeadWeights('cross_attn', 'cross_', true) : []),
    ...linearWeights('linear1', 'ff1', true),
    ...linearWeights('linear2', 'ff2', true),
    ...norms.flatMap((i) => layerNormWeights(`norm${i}`, `norm${i}`)),
  ];
}

/** The exporters of both layers; `inputs`: the input ports in call order after the sequence itself. */
function transformerEmit(kind: Layer, outputs: string[]) {
  const cls = kind === 'encoder' ? 'TransformerEncoderLayer' : 'TransformerDecoderLayer';
  const extra = kind === 'encoder' ? [] : ['memory'];
  const masks =
    kind === 'encoder'
      ? [['mask', 'mask']]
      : [
          ['mask', 'mask'],
          ['memoryMask', 'memory_mask'],
        ];
  type Ctx = {
    params: LayerOptions & { causal: boolean };
    inputs: Record<string, string>;
    outputs: Record<string, string>;
    inputShapes: Record<string, (number | null)[]>;
    name: string;
    layer: string;
  };
  const d = (c: Ctx) => c.inputShapes.in[2] as number;
  return {
    tfjs(c: Ctx) {
      const fn = kind === 'encoder' ? 'transformerEncoderLayer' : 'transformerDecoderLayer';
      const x = tsTensors({ in: c.inputs.in, ...Object.fromEntries([...extra, ...masks.map(([port]) => port)].map((port) => [port, c.inputs[port]])) });
      const outs = outputs.map((port) => `${port}: ${c.outputs[port]}`).join(', ');
      const options = tsObject({ ...exportArgs(kind, c.params, d(c), 'typescript'), name: c.layer });
      return {
        body: [`const { ${outs} } = ${fn}(tf, ${x}, ${options});`],
        helpers: [kind === 'encoder' ? TS_ENCODER : TS_DECODER],
      };
    },
    keras: (c: Ctx) => ({
      body: [
        kerasCall(
          cls,
          [],
          { ...exportArgs(kind, c.params, d(c), 'python'), name: c.layer },
          outputs.map((port) => c.outputs[port]),
          [c.inputs.in, ...extra.map((port) => c.inputs[port])],
          Object.fromEntries(masks.map(([port, kw]) => [kw.replace('mask', 'padding_mask'), c.inputs[port]])),
        ),
      ],
      helpers: [KERAS_MASKED_SOFTMAX, KERAS_MULTI_HEAD, kind === 'encoder' ? KERAS_ENCODER : KERAS_DECODER],
    }),
    pytorch: (c: Ctx) => {
      const call = torchModule(
        c.name,
        cls,
        [],
        exportArgs(kind, c.params, d(c), 'python', 'dim_feedforward'),
        outputs.map((port) => c.outputs[port]),
        [c.inputs.in, ...extra.map((port) => c.inputs[port])],
        Object.fromEntries(masks.map(([port, kw]) => [kw, c.inputs[port]])),
      );
      return {
        init: call.init,
        body: call.body,
        helpers: [TORCH_MASKED_SOFTMAX, TORCH_MULTI_HEAD, kind === 'encoder' ? TORCH_ENCODER : TORCH_DECODER],
        torchWeights: transformerWeights(kind),
      };
    },
  };
}

export const transformerEncoder = defineBlock({
  type: 'attention.transformerEncoder',
  label: 'Transformer encoder layer',
  category: 'Attention',
  paper: PAPER,
  doc:
    'One Transformer encoder layer (Vaswani et al. 2017, §3.1): multi-head self-attention, then a position-wise ' +
    'feed-forward network, each wrapped in a residual connection with LayerNorm, after the sum (post-norm, the ' +
    'paper) or before the sublayer (pre-norm, which trains deep stacks more stably; Xiong et al. 2020). Same ' +
    "sublayers and parameter count as PyTorch's nn.TransformerEncoderLayer: 4d² + 4d (attention) + 2·d·ff + ff + d " +
    '(feed-forward) + 4d (two LayerNorms). Exposes the self-attention weights. Add position information before it.',
  params: {
    ...layerParams,
    causal: { type: 'bool', default: false, doc: 'Causal self-attention (each step sees only itself and earlier steps).' },
  },
  inputs: [{ name: 'in', doc: 'Sequence [B, T, d].', rank: 3 }, maskPort],
  outputs: [
    { name: 'out', doc: 'Sequence [B, T, d].' },
    { name: 'attention', doc: 'Self-attention weights [B, heads, T, T].', attention: 'matrix', axes: 'batch, head, query, key' },
  ],
  inferShape({ params: p, inputs }) {
    const x = inputs.in;
    const { out, weights } = multiHeadShape(
      { query: x, key: x, value: x, mask: inputs.mask },
      { heads: p.heads, keyDim: 0, valueDim: 0 },
      {
        query: 'in',
        key: 'in',
        value: 'in',
        mask: 'mask',
      },
    );
    return { out, attention: weights };
  },
  build(tf, { params: p, inputs, name, init }) {
    return transformerEncoderLayer(tf, { in: inputs.in, mask: inputs.mask }, { ...p, name }, init);
  },
  emit: transformerEmit('encoder', ['out', 'attention']),
  examples: [
    { params: { heads: 2, ffDim: 16, dropout: 0 }, inputs: { in: [null, 5, 8] } },
    { params: { heads: 2, ffDim: 8, norm: 'pre', activation: 'gelu', causal: true }, inputs: { in: [null, 4, 6], mask: [null, 4] } },
  ],
});

export const transformerDecoder = defineBlock({
  type: 'attention.transformerDecoder',
  label: 'Transformer decoder layer',
  category: 'Attention',
  paper: PAPER,
  doc:
    'One Transformer decoder layer (Vaswani et al. 2017, §3.1): causal multi-head self-attention over the target, ' +
    'multi-head cross-attention from the target to the encoder output ("memory"), and a position-wise feed-forward ' +
    'network, each with a residual connection and LayerNorm (post-norm as in the paper, or pre-norm). Same ' +
    "sublayers and parameter count as PyTorch's nn.TransformerDecoderLayer: 2·(4d² + 4d) + 2·d·ff + ff + d + 6d. " +
    'Exposes both attention maps; the memory must have the same feature size d as the target.',
  params: {
    ...layerParams,
    causal: { type: 'bool', default: true, doc: 'Causal self-attention over the target (on for autoregressive decoding).' },
  },
  inputs: [
    { name: 'in', doc: 'Target sequence [B, T, d].', rank: 3 },
    { name: 'memory', doc: 'Encoder output [B, S, d].', rank: 3 },
    { ...maskPort, doc: 'Optional padding mask [B, T] over the target steps (1 keeps, 0 masks).' },
    { ...maskPort, name: 'memoryMask', doc: 'Optional padding mask [B, S] over the memory steps (1 keeps, 0 masks).' },
  ],
  outputs: [
    { name: 'out', doc: 'Target sequence [B, T, d].' },
    { name: 'selfAttention', doc: 'Self-attention weights [B, heads, T, T].', attention: 'matrix', axes: 'batch, head, target, target' },
    { name: 'crossAttention', doc: 'Cross-attention weights [B, heads, T, S].', attention: 'matrix', axes: 'batch, head, target, memory' },
  ],
  inferShape({ params: p, inputs }) {
    const x = inputs.in;
    const heads = { heads: p.heads, keyDim: 0, valueDim: 0 };
    const self = multiHeadShape({ query: x, key: x, value: x, mask: inputs.mask }, heads, { query: 'in', key: 'in', value: 'in', mask: 'mask' });
    const [, dm] = sequence(inputs.memory, 'memory');
    sameDim(dm, self.dims.e, 'memory', 'the memory must have the same feature size as the target (d_model)');
    const cross = multiHeadShape({ query: x, key: inputs.memory, value: inputs.memory, mask: inputs.memoryMask }, heads, {
      query: 'in',
      key: 'memory',
      value: 'memory',
      mask: 'memoryMask',
    });
    return { out: self.out, selfAttention: self.weights, crossAttention: cross.weights };
  },
  build(tf, { params: p, inputs, name, init }) {
    return transformerDecoderLayer(tf, { in: inputs.in, memory: inputs.memory, mask: inputs.mask, memoryMask: inputs.memoryMask }, { ...p, name }, init);
  },
  emit: transformerEmit('decoder', ['out', 'selfAttention', 'crossAttention']),
  examples: [
    { params: { heads: 2, ffDim: 16, dropout: 0 }, inputs: { in: [null, 4, 8], memory: [null, 6, 8] } },
    { params: { heads: 3, ffDim: 8, norm: 'pre', causal: false }, inputs: { in: [null, 3, 6], memory: [null, 5, 6], mask: [null, 3], memoryMask: [null, 5] } },
  ],
});
