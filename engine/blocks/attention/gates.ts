// Gates: the highway gate, and a learned gate where one tensor decides how much of another passes.
import { defineBlock, ShapeError, type Shape } from '../contract.js';
import { expectRank, fmtShape } from '../shape-rules.js';
import { highwayGate as highwayModule, learnedGate } from './vision-ops/vision-attention.js';
import {
  convWeights,
  KERAS_HIGHWAY,
  KERAS_LEARNED_GATE,
  linearWeights,
  pyTargets,
  TORCH_HIGHWAY,
  TORCH_LEARNED_GATE,
  TS_HELPERS,
  tsCall,
} from './vision-ops/emit.js';
import { pyArgs } from '../emit/snippets.js';

function knownChannels(shape: Shape, port: string): number {
  const c = shape[shape.length - 1];
  if (c === null) throw new ShapeError(`input "${port}" needs a known last axis (features/channels), got ${fmtShape(shape)}`, port);
  return c;
}

export const highwayGate = defineBlock({
  type: 'attention.highwayGate',
  label: 'Highway gate',
  category: 'Attention',
  doc:
    'A highway layer: a transform H(x) and a transform gate T(x) = σ(W_T x + b_T) decide, per unit, how much of ' +
    'the transform and how much of the unchanged input pass, y = H(x)·T(x) + x·(1 − T(x)). b_T starts negative so ' +
    'that the layer first carries its input through, which lets very deep stacks train. Both maps act on the last ' +
    'axis (per position for sequences and images); on an image a kernel k > 1 makes them k×k convolutions, as in ' +
    "the paper's convolutional highway networks. Parameters: 2·(k²·C² + C), as two nn.Linear/nn.Conv2d with bias.",
  paper: 'Srivastava, Greff & Schmidhuber (2015). Training Very Deep Networks.',
  params: {
    gateBias: { type: 'float', default: -2, min: -10, max: 10, doc: 'Initial gate bias b_T; negative favours carrying x (the paper uses −1 to −3).' },
    activation: { type: 'enum', options: ['relu', 'tanh', 'linear'], default: 'relu', doc: 'Nonlinearity of the transform H.' },
    kernel: { type: 'int', default: 1, min: 1, max: 15, doc: 'Kernel size of H and T on images (odd); 1 on vectors and sequences.' },
  },
  inputs: [{ name: 'in', doc: 'Vector [B, C], sequence [B, T, C] or image [B, H, W, C].', rank: [2, 3, 4] }],
  outputs: [
    { name: 'out', doc: 'y, the same shape as the input.' },
    { name: 'gate', doc: 'Transform gate T(x), the same shape as the input, in (0, 1).', attention: 'gate', axes: 'batch, ..., channel' },
  ],
  inferShape({ params: p, inputs }) {
    const x = expectRank(inputs.in, 'in', [2, 3, 4]);
    knownChannels(x, 'in');
    if (p.kernel > 1 && x.length !== 4) throw new ShapeError(`kernel ${p.kernel} needs an image input; on ${fmtShape(x)} use kernel 1`, 'in');
    if (p.kernel % 2 === 0) throw new ShapeError(`kernel ${p.kernel} is even: use an odd kernel so that the output stays aligned with x`);
    return { out: [...x], gate: [...x] };
  },
  build(tf, { params: p, inputs, name, init }) {
    return highwayModule(tf, inputs.in, { activation: p.activation, kernelSize: p.kernel, gateBias: p.gateBias, name }, init);
  },
  emit: {
    tfjs: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        tsCall('highwayGate', outputs, [inputs.in], {
          activation: p.activation,
          kernelSize: p.kernel === 1 ? undefined : p.kernel,
          gateBias: p.gateBias,
          name: layer,
        }),
      ],
      helpers: TS_HELPERS.highway,
    }),
    keras: ({ params: p, inputs, inputShapes, outputs, layer }) => ({
      body: [
        `${pyTargets([outputs.out, outputs.gate])} = HighwayGate(${pyArgs([], { activation: p.activation, kernel_size: inputShapes.in.length === 4 ? p.kernel : undefined, gate_bias: p.gateBias, name: layer })})(${inputs.in})`,
      ],
      helpers: [KERAS_HIGHWAY],
    }),
    pytorch({ params: p, inputs, inputShapes, outputs, name }) {
      const x = inputShapes.in;
      const image = x.length === 4;
      const weights = image ? convWeights : linearWeights;
      return {
        init: [
          `self.${name} = HighwayGate(${pyArgs([], { channels: x[x.length - 1], activation: p.activation, kernel_size: image ? p.kernel : undefined, gate_bias: p.gateBias })})`,
        ],
        body: [`${pyTargets([outputs.out, outputs.gate])} = self.${name}(${inputs.in})`],
        helpers: [TORCH_HIGHWAY],
        torchWeights: [...weights('transform', 'transform'), ...weights('gate', 'gate')],
      };
    },
  },
  examples: [
    { inputs: { in: [null, 8] } },
    { params: { activation: 'tanh', gateBias: -1 }, inputs: { in: [null, 5, 6] } },
    { params: { kernel: 3 }, inputs: { in: [null, 6, 6, 4] } },
  ],
});

export const gate = defineBlock({
  type: 'attention.gate',
  label: 'Learned gate',
  category: 'Attention',
  doc:
    'A gate where one tensor decides how much of another passes: y = σ(W c + b) ⊙ x, the sigmoid gating of gated ' +
    'linear units with the gate computed from a context tensor of its own. Per channel, the context c is ' +
    'averaged over its positions and a dense layer gives one weight per channel of x ([B, C]); per position, a ' +
    '1×1 projection of c gives one weight per position of x ([B, H, W] or [B, T]), so the context must have the same ' +
    'positions. Leave the context unconnected and x gates itself. Parameters: C_c·C + C per channel, C_c + 1 per ' +
    'position (a dense layer / 1×1 conv with bias).',
  paper: 'Dauphin, Fan, Auli & Grangier (2017). Language Modeling with Gated Convolutional Networks.',
  params: {
    mode: { type: 'enum', options: ['channel', 'position'], default: 'channel', doc: 'What the gate weighs: each channel, or each position.' },
  },
  inputs: [
    { name: 'in', doc: 'The tensor that is gated: a sequence [B, T, C] or an image [B, H, W, C].', rank: [3, 4] },
    { name: 'context', doc: 'The tensor that decides; defaults to `in` itself.', rank: [2, 3, 4], optional: true },
  ],
  outputs: (p) => [
    { name: 'out', doc: 'The gated tensor, shaped like `in`.' },
    p.mode === 'channel'
      ? { name: 'gate', doc: 'Gate values in (0, 1), one per channel [B, C].', attention: 'gate', axes: 'batch, channel' }
      : {
          name: 'gate',
          doc: 'Gate values in (0, 1), one per position [B, H, W] or [B, T].',
          attention: 'gate',
          axes: 'batch, position (height, width or time)',
        },
  ],
  inferShape({ params: p, inputs }) {
    const x = expectRank(inputs.in, 'in', [3, 4], 'a sequence or an image');
    const c = knownChannels(x, 'in');
    const ctx = inputs.context ?? x;
    knownChannels(ctx, 'context');
    if (p.mode === 'channel') return { out: [...x], gate: [null, c] };
    const positions = x.slice(1, -1);
    const ctxPositions = ctx.slice(1, -1);
    if (ctxPositions.length !== positions.length || ctxPositions.some((d, i) => d !== null && positions[i] !== null && d !== positions[i]))
      throw new ShapeError(`a per-position gate needs a context with the positions of "in" ${fmtShape(x)}, got ${fmtShape(ctx)}`, 'context');
    return { out: [...x], gate: [null, ...positions] };
  },
  build(tf, { params: p, inputs, name, init }) {
    return learnedGate(tf, inputs.in, inputs.context, { per: p.mode, name }, init);
  },
  emit: {
    tfjs: ({ params: p, inputs, outputs, layer }) => ({
      body: [tsCall('learnedGate', outputs, [inputs.in, inputs.context ?? 'undefined'], { per: p.mode, name: layer })],
      helpers: TS_HELPERS.learnedGate,
    }),
    keras: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        `${pyTargets([outputs.out, outputs.gate])} = LearnedGate(${pyArgs([], { per: p.mode, name: layer })})([${[inputs.in, inputs.context].filter(Boolean).join(', ')}])`,
      ],
      helpers: [KERAS_LEARNED_GATE],
    }),
    pytorch({ params: p, inputs, inputShapes, outputs, name }) {
      const x = inputShapes.in;
      const ctx = inputShapes.context ?? x;
      return {
        init: [`self.${name} = LearnedGate(${pyArgs([], { context_channels: ctx[ctx.length - 1], channels: x[x.length - 1], per: p.mode })})`],
        body: [`${pyTargets([outputs.out, outputs.gate])} = self.${name}(${[inputs.in, inputs.context].filter(Boolean).join(', ')})`],
        helpers: [TORCH_LEARNED_GATE],
        torchWeights: linearWeights('proj', 'dense'),
      };
    },
  },
  examples: [
    { inputs: { in: [null, 6, 6, 8], context: [null, 3, 3, 5] } },
    { params: { mode: 'position' }, inputs: { in: [null, 6, 6, 8], context: [null, 6, 6, 2] } },
    { params: { mode: 'position' }, inputs: { in: [null, 7, 4] } },
    { inputs: { in: [null, 7, 4], context: [null, 3] } },
  ],
});
