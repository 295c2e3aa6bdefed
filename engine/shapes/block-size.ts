// What one block costs once built, known from its parameters and shapes alone
// (no tfjs): its parameter count and how many tfjs layers deep it builds. The
// limits (limits.ts) add these up over a graph without building or expanding it.
//
// Counts are exact for the standard layers, which are where huge parameter
// counts come from (a Dense of 1e6 units, an Embedding of 1e7 words); the
// attention blocks get an estimate from their widths (test/graph-limits checks
// both against tfjs on every block example).
import type { AnyBlock, ParamDefs, ParamValues, Shape } from '../blocks/contract.js';

export interface BlockSizeInput {
  block: AnyBlock;
  params: ParamValues<ParamDefs>;
  inputShapes: Record<string, Shape>;
  outputShapes: Record<string, Shape>;
}

/** The last axis of a shape, 1 where unknown. */
const channels = (s: Shape | undefined): number => (s && s.length > 1 ? (s[s.length - 1] ?? 1) : 1);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

type Count = (n: BlockSizeInput) => number;

const EXACT: Record<string, Count> = {
  'core.dense': ({ params: p, inputShapes: i }) => channels(i.in) * num(p.units) + (p.useBias ? num(p.units) : 0),
  'core.conv2d': ({ params: p, inputShapes: i }) => num(p.kernel) ** 2 * channels(i.in) * num(p.filters) + (p.useBias ? num(p.filters) : 0),
  'core.depthwiseConv2d': ({ params: p, inputShapes: i }) => {
    const out = channels(i.in) * num(p.depthMultiplier);
    return num(p.kernel) ** 2 * out + (p.useBias ? out : 0);
  },
  'core.embedding': ({ params: p }) => num(p.vocabSize) * num(p.dim),
  // gamma, beta and the two moving statistics
  'core.batchNorm': ({ inputShapes: i }) => 4 * channels(i.in),
  'core.layerNorm': ({ inputShapes: i }) => 2 * channels(i.in),
  // A bidirectional cell is two cells of the same size.
  'core.lstm': ({ params: p, inputShapes: i }) => (p.bidirectional ? 2 : 1) * 4 * num(p.units) * (channels(i.in) + num(p.units) + 1),
  'core.gru': ({ params: p, inputShapes: i }) => (p.bidirectional ? 2 : 1) * 3 * num(p.units) * (channels(i.in) + num(p.units) + 1),
  // the word encoder (a GRU or LSTM, as above), then attention pooling: W [H, A], its bias and the context vector u_w
  'core.perSentence': ({ params: p, inputShapes: i }) => {
    const [units, d, a] = [num(p.units), channels(i.in), num(p.attentionUnits)];
    const h = (p.bidirectional ? 2 : 1) * units;
    return (h / units || 0) * (p.cell === 'lstm' ? 4 : 3) * units * (d + units + 1) + h * a + 2 * a;
  },
  'core.classificationHead': ({ params: p, inputShapes: i }) => (channels(i.in) + 1) * num(p.classes),
  'core.positionalEncoding': ({ params: p, inputShapes: i }) => (p.mode === 'learned' ? num(p.maxLength) * channels(i.in) : 0),
};

/** Attention blocks whose weights the generic estimate below would miss by far: close estimates of their own. */
const ESTIMATED: Record<string, Count> = {
  'attention.scaledDotProduct': () => 0,
  'attention.multiHead': ({ inputShapes: i }) => 4 * channels(i.query) * (channels(i.query) + 1),
  'attention.transformerEncoder': ({ params: p, inputShapes: i }) => transformerLayer(channels(i.in), num(p.ffDim), 1),
  'attention.transformerDecoder': ({ params: p, inputShapes: i }) => transformerLayer(channels(i.in), num(p.ffDim), 2),
  // exact: position embeddings, initial state, word embeddings, the additive scorer, a GRU fed [word; context], the output layer
  'attention.showAttendTell': ({ params: p, inputShapes: i }) => {
    const f = i.features ?? [];
    const [cells, c] = [num(f[1]) * num(f[2]), channels(i.features)];
    const [v, e, u, a] = [num(p.vocab), num(p.embedding), num(p.units), num(p.attentionUnits)];
    return cells * c + (c + 1) * u + v * e + (c + 1) * a + u * a + a + (e + c + u + 2) * 3 * u + (u + c + e + 1) * v;
  },
  // two map convolutions of kernel² · c · c (the transform and the gate)
  'attention.highwayGate': ({ params: p, inputShapes: i }) => 2 * (channels(i.in) ** 2 * (i.in?.length === 4 ? num(p.kernel) ** 2 : 1) + channels(i.in)),
  'attention.attendRectify': ({ params: p, inputShapes: i }) => num(p.kernel) ** 2 * channels(i.in) * num(p.heads) * (num(p.classes) + 2),
  // convLayers 3×3 convolutions with batch norm, then the class convolutions and the one-channel map convolution
  'attention.attentionBranch': ({ params: p, inputShapes: i }) => {
    const [c, k] = [channels(i.in), num(p.classes)];
    return num(p.convLayers) * (9 * c * c + 4 * c) + 4 * c + c * k + 4 * k + k * k + num(p.mapKernel) ** 2 * k + 4;
  },
  // bottleneck residual units (about 1.1 c² each with their batch norms): 2p around, t in the trunk, 2r per level in the mask branch, one per skip
  'attention.residualAttention': ({ params: p, inputShapes: i }) =>
    Math.ceil((2 * num(p.p) + num(p.t) + num(p.levels) * (2 * num(p.r) + 1)) * 1.1 * channels(i.in) ** 2) + 2 * channels(i.in) ** 2,
};

/** Self-attention (and cross-attention for a decoder), a feed-forward network, and a LayerNorm after each. */
const transformerLayer = (d: number, ff: number, attentions: number) => attentions * (4 * d * (d + 1) + 2 * d) + 2 * d * ff + d + ff + 2 * d;

/** Width-like parameters of attention blocks (hidden sizes); a block's weights grow with them. */
const WIDTH_PARAMS = ['ffDim', 'keyDim', 'valueDim', 'units', 'dim', 'channels', 'classes', 'dk', 'dv'];

/**
 * An estimate for the attention blocks, which have no exact count: one square
 * projection of their widest tensor, a projection to and from each width-like
 * parameter, and a convolution where they have filters. Within a small factor
 * of the real count (test/graph-limits), which is all a limit of 2.5e8 needs.
 */
const estimate: Count = ({ block, params: p, inputShapes, outputShapes }) => {
  const c = Math.max(1, ...Object.values(inputShapes).map(channels), ...Object.values(outputShapes).map(channels));
  let total = c * (c + 1);
  for (const k of WIDTH_PARAMS) if (Object.hasOwn(block.params, k)) total += 2 * c * (num(p[k]) + 1);
  if (Object.hasOwn(block.params, 'filters')) total += num(p.kernel) ** 2 * c * num(p.filters);
  return total;
};

const NO_WEIGHTS = new Set(['io.input', 'io.output', 'io.compositeInput', 'io.compositeOutput']);

/** Parameters (weights, trainable or not) the block builds. */
export function blockParams(n: BlockSizeInput): number {
  if (NO_WEIGHTS.has(n.block.type)) return 0;
  if (Object.hasOwn(EXACT, n.block.type)) return EXACT[n.block.type](n);
  if (Object.hasOwn(ESTIMATED, n.block.type)) return ESTIMATED[n.block.type](n);
  if (!n.block.type.startsWith('attention.')) return 0; // the other standard layers (activation, pooling, reshape...) have none
  return estimate(n);
}

/**
 * How many tfjs layers deep the block builds, at most: tfjs-layers walks the
 * layer graph recursively when it compiles a model, so this, summed along the
 * longest path, is what can overflow the stack. Blocks not listed build one
 * layer. Measured on the block examples (test/graph-limits checks them).
 */
const LAYER_DEPTH: Record<string, number | ((p: ParamValues<ParamDefs>) => number)> = {
  'io.compositeInput': 0,
  'io.compositeOutput': 0,
  'core.globalPool2d': 2,
  'core.padChannels': 2,
  'core.perSentence': 8,
  // Explicit (PyTorch) padding adds a padding layer before the valid op.
  'core.conv2d': (p) => (p.padding === 'explicit' ? 2 : 1),
  'core.depthwiseConv2d': (p) => (p.padding === 'explicit' ? 2 : 1),
  'attention.scaledDotProduct': 2,
  'attention.luong': 4,
  'attention.multiHead': 4,
  'attention.transformerEncoder': 12,
  'attention.transformerDecoder': 18,
  'attention.additive': 5,
  'attention.pooling': 5,
  'attention.memoryHop': 16,
  'attention.patchEmbedding': 5,
  'attention.squeezeExcitation': 7,
  'attention.cbam': 14,
  'attention.cbamChannel': 8,
  'attention.cbamSpatial': 6,
  'attention.nonLocal': 10,
  'attention.attentionBranch': 14,
  'attention.highwayGate': 3,
  'attention.gate': 5,
  'attention.attendRectify': 4,
  'attention.globalGate': 3,
  'attention.localSelfAttention2d': 4,
  'attention.augmentedConv': 6,
  // p pre- and post-units, then the longer of the trunk (t units) and the mask branch (levels down and up, r units each)
  'attention.residualAttention': (p) => 8 * (2 * num(p.p) + Math.max(num(p.t), 2 * num(p.levels) * (num(p.r) + 1))) + 12,
};

export function blockLayerDepth(block: AnyBlock, params: ParamValues<ParamDefs>): number {
  if (!Object.hasOwn(LAYER_DEPTH, block.type)) return 1;
  const d = LAYER_DEPTH[block.type];
  return typeof d === 'number' ? d : d(params);
}

/** Bytes of all the block's output tensors for one sample (float32; unknown sizes count 1). */
export function blockActivationBytes(outputShapes: Record<string, Shape>): number {
  let total = 0;
  for (const s of Object.values(outputShapes)) total += 4 * s.slice(1).reduce<number>((a, d) => a * (d ?? 1), 1);
  return total;
}
