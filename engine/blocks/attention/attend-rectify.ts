// Attend and Rectify (Rodríguez et al. 2018): attention modules that read a feature
// map and give a gated class hypothesis, and the global gate that weighs those
// hypotheses against the network's own output.
import { defineBlock, ShapeError, type PortDef } from '../contract.js';
import { attendRectify as attendRectifyModule, globalGate as globalGateModule } from './structured-ops/structured-attention.js';
import { expectRank, fmtShape } from '../shape-rules.js';
import { KERAS_ATTEND_RECTIFY, KERAS_GLOBAL_GATE, TORCH_ATTEND_RECTIFY, TORCH_GLOBAL_GATE, TS_HELPERS } from './structured-ops/emit.js';
import { convWeights, linearWeights, pyTargets, tsCall } from './vision-ops/emit.js';
import { pyArgs } from '../emit/snippets.js';

const PAPER =
  'Rodríguez, P., Gonfaus, J. M., Cucurull, G., Roca, F. X., Gonzàlez, J. (2018). Attend and Rectify: a Gated Attention Mechanism for Fine-Grained Recovery. ECCV.';

export const attendRectify = defineBlock({
  type: 'attention.attendRectify',
  label: 'Attend and Rectify module',
  category: 'Attention',
  doc:
    'An attention module of Attend and Rectify (Rodríguez et al. 2018), plugged onto any feature map Z of a ' +
    'classifier. K attention heads (a convolution to K maps, each normalised by a softmax over all positions) say ' +
    "where to look; K output heads (a convolution to `classes` maps per head) say what is there; each head's " +
    'hypothesis is o_k = Σ_xy H_k ⊙ O_k. A confidence gate per head, g = softmax_k(tanh(Σ_xy (W_g ∗ Z) ⊙ H_k)), ' +
    "weighs them into the layer's hypothesis Σ_k g_k o_k (class scores, i.e. logits). Feed the hypotheses of " +
    "several layers and the network's own output into a Global gate. Convolutions have no bias; the paper uses " +
    "1×1 kernels, the authors' code 3×3. The inter-head regularisation loss of the paper is not included.",
  paper: PAPER,
  params: {
    heads: { type: 'int', default: 4, min: 1, max: 64, doc: 'Attention heads K per module.' },
    classes: { type: 'int', default: 10, min: 2, max: 100000, doc: 'Number of classes of the hypothesis.' },
    kernel: { type: 'int', default: 1, min: 1, max: 7, doc: "Kernel size of the attention, output and gate convolutions (paper 1, authors' code 3)." },
  },
  inputs: [{ name: 'in', doc: 'Feature map Z [B, H, W, C].', rank: 4 }],
  outputs: [
    { name: 'out', doc: "The layer's gated hypothesis Σ_k g_k o_k, class scores (logits) [B, classes]." },
    { name: 'maps', doc: 'The K attention maps H, each summing to 1 over positions, [B, H, W, K].', attention: 'spatial', axes: 'batch, height, width, head' },
    { name: 'gates', doc: 'The confidence gates g over the K heads, [B, K].', attention: 'gate', axes: 'batch, head' },
  ],
  inferShape({ params: p, inputs }) {
    const [b, h, w] = expectRank(inputs.in, 'in', 4, 'an NHWC feature map');
    return { out: [b, p.classes], maps: [b, h, w, p.heads], gates: [b, p.heads] };
  },
  build(tf, { params: p, inputs, name, init }) {
    return attendRectifyModule(tf, inputs.in, { heads: p.heads, classes: p.classes, kernelSize: p.kernel, name }, init);
  },
  emit: {
    tfjs: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        tsCall('attendRectify', outputs, [inputs.in], { heads: p.heads, classes: p.classes, kernelSize: p.kernel === 1 ? undefined : p.kernel, name: layer }),
      ],
      helpers: TS_HELPERS.attendRectify,
    }),
    keras: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        `${pyTargets([outputs.out, outputs.maps, outputs.gates])} = AttendRectify(${pyArgs([p.heads, p.classes], { kernel_size: p.kernel === 1 ? undefined : p.kernel, name: layer })})(${inputs.in})`,
      ],
      helpers: [KERAS_ATTEND_RECTIFY],
    }),
    pytorch: ({ params: p, inputs, inputShapes, outputs, name }) => ({
      init: [
        `self.${name} = AttendRectify(${pyArgs([], { channels: inputShapes.in[3], heads: p.heads, classes: p.classes, kernel_size: p.kernel === 1 ? undefined : p.kernel })})`,
      ],
      body: [`${pyTargets([outputs.out, outputs.maps, outputs.gates])} = self.${name}(${inputs.in})`],
      helpers: [TORCH_ATTEND_RECTIFY],
      torchWeights: ['attention', 'outputs', 'gate_scores'].flatMap((c) => convWeights(c, c, false)),
    }),
  },
  examples: [
    { params: { heads: 2, classes: 3 }, inputs: { in: [null, 6, 5, 8] } },
    { params: { heads: 4, classes: 10, kernel: 3 }, inputs: { in: [null, 7, 7, 16] } },
  ],
});

const hypothesisPorts = (n: number): PortDef[] =>
  Array.from({ length: n }, (_, i) => ({
    name: `hyp${i + 1}`,
    doc: `Hypothesis ${i + 1}: class scores (logits) [B, classes] of an Attend and Rectify module.`,
    rank: 2,
  }));

export const globalGate = defineBlock({
  type: 'attention.globalGate',
  label: 'Global gate (Attend and Rectify)',
  category: 'Attention',
  doc:
    "The global attention gates of Attend and Rectify (Rodríguez et al. 2018): the network's own output and the " +
    "hypotheses of N attention modules are weighed by gates g = softmax(tanh(W f)) computed from the network's " +
    "features f (the `features` input, pooled if it is a feature map, as in the authors' code; if unconnected, " +
    'the network output itself), so the model learns when the attended layers should rectify its prediction. The ' +
    'output is the mixture g_0 · p_net + Σ_l g_l · softmax(o_l), a class distribution trained with cross-entropy. ' +
    "W has no bias; the authors' code adds a BatchNorm before the tanh and mixes log-probabilities instead.",
  paper: PAPER,
  params: {
    hypotheses: { type: 'int', default: 2, min: 1, max: 8, doc: 'Number N of attention-module hypotheses.' },
    net: {
      type: 'enum',
      options: ['probabilities', 'logits'],
      default: 'probabilities',
      doc: 'What the network output carries (a Classification head gives probabilities).',
    },
  },
  inputs: (p) => [
    { name: 'net', doc: "The network's own output [B, classes].", rank: 2 },
    ...hypothesisPorts(p.hypotheses),
    { name: 'features', doc: 'Features the gates are computed from: [B, F] or a feature map [B, H, W, F] (pooled).', rank: [2, 4], optional: true },
  ],
  outputs: [
    { name: 'out', doc: 'The gated class distribution [B, classes].', loss: 'categoricalCrossentropy' },
    {
      name: 'gates',
      doc: 'Gates over the sources [B, N + 1]: the network output first, then hypotheses 1…N.',
      attention: 'gate',
      axes: 'batch, source (network, hyp1…hypN)',
    },
  ],
  inferShape({ params: p, inputs }) {
    const net = expectRank(inputs.net, 'net', 2, 'class scores');
    for (const port of hypothesisPorts(p.hypotheses)) {
      const h = expectRank(inputs[port.name], port.name, 2, 'class scores');
      if (h[1] !== null && net[1] !== null && h[1] !== net[1])
        throw new ShapeError(`input "${port.name}" has ${h[1]} classes ${fmtShape(h)} but the network output "net" has ${net[1]} ${fmtShape(net)}`, port.name);
    }
    if (inputs.features) expectRank(inputs.features, 'features', [2, 4], 'features or a feature map');
    return { out: [net[0], net[1]], gates: [net[0], p.hypotheses + 1] };
  },
  build(tf, { params: p, inputs, name, init }) {
    const hyps = hypothesisPorts(p.hypotheses).map((port) => inputs[port.name]);
    return globalGateModule(tf, inputs.net, hyps, inputs.features, { netIsLogits: p.net === 'logits', name }, init);
  },
  emit: {
    tfjs({ params: p, inputs, outputs, layer }) {
      const hyps = hypothesisPorts(p.hypotheses).map((port) => inputs[port.name]);
      return {
        body: [
          tsCall('globalGate', outputs, [inputs.net, `[${hyps.join(', ')}]`, inputs.features ?? 'undefined'], {
            netIsLogits: p.net === 'logits' ? true : undefined,
            name: layer,
          }),
        ],
        helpers: TS_HELPERS.globalGate,
      };
    },
    keras({ params: p, inputs, outputs, layer }) {
      const all = [inputs.net, ...hypothesisPorts(p.hypotheses).map((port) => inputs[port.name]), ...(inputs.features ? [inputs.features] : [])];
      return {
        body: [
          `${pyTargets([outputs.out, outputs.gates])} = GlobalGate(${pyArgs([p.hypotheses], { net_is_logits: p.net === 'logits' ? true : undefined, name: layer })})([${all.join(', ')}])`,
        ],
        helpers: [KERAS_GLOBAL_GATE],
      };
    },
    pytorch({ params: p, inputs, inputShapes, outputs, name }) {
      const f = inputShapes.features ?? inputShapes.net;
      const hyps = hypothesisPorts(p.hypotheses).map((port) => inputs[port.name]);
      const args = [inputs.net, `[${hyps.join(', ')}]`, ...(inputs.features ? [`features=${inputs.features}`] : [])];
      return {
        init: [
          `self.${name} = GlobalGate(${pyArgs([], { features: f[f.length - 1], hypotheses: p.hypotheses, net_is_logits: p.net === 'logits' ? true : undefined })})`,
        ],
        body: [`${pyTargets([outputs.out, outputs.gates])} = self.${name}(${args.join(', ')})`],
        helpers: [TORCH_GLOBAL_GATE],
        torchWeights: linearWeights('gates', 'gates', false),
      };
    },
  },
  examples: [
    { params: { hypotheses: 2 }, inputs: { net: [null, 5], hyp1: [null, 5], hyp2: [null, 5] } },
    { params: { hypotheses: 1, net: 'logits' }, inputs: { net: [null, 3], hyp1: [null, 3], features: [null, 4, 4, 6] } },
  ],
});
