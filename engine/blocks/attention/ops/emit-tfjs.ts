// TypeScript (tfjs) helpers of the sequence attention blocks: each names the
// engine's own definition (attend.ts, sequence-attention.ts, transformer-layers.ts),
// which the export copies with what it uses. Every layer is named as in the
// compiled model, so trained weights (model.json) load by name.
import { tfjsHelper } from '../../emit/torch-helper.js';

const sequence = (name: string) => tfjsHelper(name, 'attention/ops/sequence-attention.ts');

/** The DotProductAttention layer (and the masked softmax and dropout it uses). */
export const TS_DOT_PRODUCT = tfjsHelper('dotProductAttentionLayer', 'attention/ops/attend.ts');

/** multiHeadAttention(tf, { query, key, value, mask }, options). */
export const TS_MULTI_HEAD = sequence('multiHeadAttention');

/** transformerEncoderLayer(tf, { in, mask }, options). */
export const TS_ENCODER = tfjsHelper('transformerEncoderLayer', 'attention/ops/transformer-layers.ts');

/** transformerDecoderLayer(tf, { in, memory, mask, memoryMask }, options). */
export const TS_DECODER = tfjsHelper('transformerDecoderLayer', 'attention/ops/transformer-layers.ts');

/** additiveAttention(tf, { query, keys, values, mask }, options). */
export const TS_ADDITIVE = sequence('additiveAttention');

/** luongAttention(tf, { query, keys, values, mask }, options). */
export const TS_LUONG = sequence('luongAttention');

/** attentionPooling(tf, { states, mask }, options). */
export const TS_ATTENTION_POOLING = sequence('attentionPooling');

/** memoryNetwork(tf, { memory, query, mask }, options). */
export const TS_MEMORY = sequence('memoryNetwork');

/** patchEmbedding(tf, image, options). */
export const TS_PATCH = sequence('patchEmbedding');
