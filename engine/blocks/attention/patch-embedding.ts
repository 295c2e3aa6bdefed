import { defineBlock, ShapeError } from '../contract.js';
import { expectRank } from '../shape-rules.js';
import { patchEmbedding } from './ops/sequence-attention.js';
import { kerasCall, torchModule, unlessDefault } from './ops/emit.js';
import { tsObject } from '../emit/snippets.js';
import { convWeights, TORCH_PATCH } from './ops/emit-torch.js';
import { KERAS_PATCH } from './ops/emit-keras.js';
import { TS_PATCH } from './ops/emit-tfjs.js';

export default defineBlock({
  type: 'attention.patchEmbedding',
  label: 'Patch embedding (ViT)',
  category: 'Attention',
  paper: 'Dosovitskiy, A. et al. (2021). An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale. ICLR.',
  doc:
    'Turns an image into a token sequence for a Transformer, as the Vision Transformer does (Dosovitskiy et al. ' +
    '2021, "An Image is Worth 16x16 Words", eq. 1): the image is cut into non-overlapping p×p patches, each ' +
    'flattened and linearly projected to D features (a p×p convolution with stride p), an optional learned class ' +
    'token is put in front, and a learned position embedding is added to every token. Output [B, N (+1), D] with ' +
    "N = (H/p)·(W/p); H and W must be multiples of p. Same parameters as torchvision's VisionTransformer stem: " +
    'p²·C·D + D (projection) + D (class token) + (N + 1)·D (positions).',
  params: {
    patch: { type: 'int', default: 4, min: 1, max: 1024, label: 'patch size', doc: 'Patch side p (pixels).' },
    dim: { type: 'int', default: 64, min: 1, max: 100000, label: 'embedding size', doc: 'Token size D.' },
    classToken: { type: 'bool', default: true, label: 'class token', doc: 'Prepend a learned [class] token (its final state is the image representation).' },
    positions: { type: 'bool', default: true, doc: 'Add learned position embeddings.' },
  },
  inputs: [{ name: 'in', doc: 'Image [B, H, W, C].', rank: 4 }],
  outputs: [{ name: 'out', doc: 'Tokens [B, N (+1), D].' }],
  inferShape({ params: p, inputs }) {
    const [b, h, w] = expectRank(inputs.in, 'in', 4, 'an NHWC image');
    for (const [size, axis] of [
      [h, 'height'],
      [w, 'width'],
    ] as const)
      if (size === null || size % p.patch !== 0) throw new ShapeError(`image ${axis} ${size ?? '?'} is not a multiple of the patch size ${p.patch}`, 'in');
    const n = ((h as number) / p.patch) * ((w as number) / p.patch);
    return { out: [b, n + (p.classToken ? 1 : 0), p.dim] };
  },
  build(tf, { params: p, inputs, name, init }) {
    return { out: patchEmbedding(tf, inputs.in, { ...p, name }, init) };
  },
  emit: {
    tfjs: ({ params: p, inputs: i, outputs: o, layer }) => ({
      body: [
        `const ${o.out} = patchEmbedding(tf, ${i.in}, ${tsObject({ dim: p.dim, patch: p.patch, classToken: unlessDefault(p.classToken, true), positions: unlessDefault(p.positions, true), name: layer })});`,
      ],
      helpers: [TS_PATCH],
    }),
    keras: ({ params: p, inputs: i, outputs: o, layer }) => ({
      body: [
        kerasCall(
          'PatchEmbedding',
          [],
          { dim: p.dim, patch: p.patch, class_token: unlessDefault(p.classToken, true), positions: unlessDefault(p.positions, true), name: layer },
          [o.out],
          [i.in],
        ),
      ],
      helpers: [KERAS_PATCH],
    }),
    pytorch({ params: p, inputs: i, outputs: o, inputShapes: s, name }) {
      const [, h, w, c] = s.in as number[];
      const patches = (h / p.patch) * (w / p.patch);
      return {
        ...torchModule(
          name,
          'PatchEmbedding',
          [],
          {
            in_channels: c,
            dim: p.dim,
            patch: p.patch,
            num_patches: patches,
            class_token: unlessDefault(p.classToken, true),
            positions: unlessDefault(p.positions, true),
          },
          [o.out],
          [i.in],
        ),
        helpers: [TORCH_PATCH],
        torchWeights: [
          ...convWeights('proj', 'proj'),
          ...(p.classToken ? [{ torch: 'class_token', tfjs: '_cls/token' }] : []),
          ...(p.positions ? [{ torch: 'positions', tfjs: '_pos/table' }] : []),
        ],
      };
    },
  },
  examples: [
    { params: { patch: 4, dim: 8 }, inputs: { in: [null, 8, 12, 3] } },
    { params: { patch: 2, dim: 6, classToken: false }, inputs: { in: [null, 4, 4, 1] } },
    { params: { patch: 3, dim: 4, positions: false }, inputs: { in: [null, 6, 3, 2] } },
  ],
});
