import { defineBlock, ShapeError } from '../contract.js';
import { imageInput } from './vision-ops/gates.js';
import { nonLocalBlock } from './vision-ops/vision-attention.js';
import { batchNormWeights, convWeights, KERAS_NON_LOCAL, pyTargets, TORCH_NON_LOCAL, TS_HELPERS, tsCall } from './vision-ops/emit.js';
import { DENSE_KERNEL_TO_TORCH, pyArgs } from '../emit/snippets.js';

const PY_PAIRWISE = { embeddedGaussian: 'embedded_gaussian', dotProduct: 'dot_product', concatenation: 'concatenation' } as const;

export default defineBlock({
  type: 'attention.nonLocal',
  label: 'Non-local block',
  category: 'Attention',
  doc:
    'Self-attention over all positions of a feature map: y_i = Σ_j f(x_i, x_j) g(x_j) / C(x), z = BN(W_z y) + x. ' +
    'θ, φ and g are 1×1 convolutions to C′ = ⌊C/2⌋ channels (at least 1); the pairwise function is the embedded ' +
    'Gaussian (softmax over θ_iᵀφ_j), the dot product (θ_iᵀφ_j / N′) or concatenation (ReLU(w_fᵀ[θ_i; φ_j]) / N′), ' +
    'N′ being the number of key positions. Subsampling max-pools φ and g 2×2, so N′ = ⌊H/2⌋·⌊W/2⌋. The BatchNorm ' +
    'after W_z starts with γ = 0, so the block starts as the identity and can be inserted into a pretrained net. ' +
    'The attention output is the normalised affinity [B, HW, N′]. Parameters as the reference PyTorch code ' +
    '(convolutions with bias): 4·C·C′ + 3·C′ + C for the convolutions, 2·C for BatchNorm (+2·C running statistics), ' +
    "and 2·C′ more for concatenation's w_f (no bias).",
  paper: 'Wang, Girshick, Gupta & He (2018). Non-local Neural Networks.',
  params: {
    pairwise: {
      type: 'enum',
      options: ['embeddedGaussian', 'dotProduct', 'concatenation'],
      default: 'embeddedGaussian',
      doc: 'The pairwise function f.',
    },
    subsample: { type: 'bool', default: true, doc: 'Max-pool φ and g by 2×2, a quarter of the pairwise computation.' },
  },
  inputs: [{ name: 'in', doc: 'Feature map [B, H, W, C].', rank: 4 }],
  outputs: [
    { name: 'out', doc: 'z = BN(W_z y) + x, [B, H, W, C].' },
    {
      name: 'affinity',
      doc: 'Normalised affinity f(x_i, x_j)/C(x) [B, HW, N′]; rows are query positions, row-major over (H, W).',
      attention: 'matrix',
      axes: 'batch, query position, key position',
    },
  ],
  inferShape({ params: p, inputs }) {
    const [h, w, c] = imageInput(inputs.in, 'in');
    if (p.subsample && (h < 2 || w < 2))
      throw new ShapeError(`subsampling halves height and width, but the input is only ${h}×${w}: turn subsampling off or feed a larger map`, 'in');
    const keys = p.subsample ? Math.floor(h / 2) * Math.floor(w / 2) : h * w;
    return { out: [null, h, w, c], affinity: [null, h * w, keys] };
  },
  build(tf, { params: p, inputs, name, init }) {
    return nonLocalBlock(tf, inputs.in, { pairwise: p.pairwise, subsample: p.subsample, name }, init);
  },
  emit: {
    tfjs: ({ params: p, inputs, outputs, layer }) => ({
      body: [tsCall('nonLocalBlock', outputs, [inputs.in], { pairwise: p.pairwise, subsample: p.subsample, name: layer })],
      helpers: TS_HELPERS.nonLocal,
    }),
    keras: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        `${pyTargets([outputs.out, outputs.affinity])} = NonLocalBlock(${pyArgs([], { pairwise: PY_PAIRWISE[p.pairwise], subsample: p.subsample, name: layer })})(${inputs.in})`,
      ],
      helpers: [KERAS_NON_LOCAL],
    }),
    pytorch: ({ params: p, inputs, inputShapes, outputs, name }) => ({
      init: [`self.${name} = NonLocalBlock(${pyArgs([], { channels: inputShapes.in[3], pairwise: PY_PAIRWISE[p.pairwise], subsample: p.subsample })})`],
      body: [`${pyTargets([outputs.out, outputs.affinity])} = self.${name}(${inputs.in})`],
      helpers: [TORCH_NON_LOCAL],
      torchWeights: [
        ...['theta', 'phi', 'g', 'wz'].flatMap((c) => convWeights(c, c)),
        ...batchNormWeights('bn', 'wz_bn'),
        ...(p.pairwise === 'concatenation' ? [{ torch: 'concat_project.weight', tfjs: '_affinity/kernel', permute: DENSE_KERNEL_TO_TORCH }] : []),
      ],
    }),
  },
  examples: [
    { inputs: { in: [null, 6, 6, 8] } },
    { params: { pairwise: 'dotProduct', subsample: false }, inputs: { in: [null, 4, 5, 6] } },
    { params: { pairwise: 'concatenation' }, inputs: { in: [null, 5, 7, 3] } },
  ],
});
