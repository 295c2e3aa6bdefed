// Keras 3 helpers of the sequence attention blocks: one documented keras.layers.Layer
// per block in engine/export/keras/sequence_attention.py, copied once per file. Their
// inner layers are named like the compiled tfjs model's (`{name}_query`, `{name}_norm1`,
// ...), so the two line up weight by weight.
import { kerasHelper } from '../../emit/torch-helper.js';

const FILE = 'sequence_attention.py';

export const KERAS_MASKED_SOFTMAX = kerasHelper('masked_softmax', FILE);

export const KERAS_SCALED_DOT_PRODUCT = kerasHelper('ScaledDotProductAttention', FILE);

export const KERAS_MULTI_HEAD = kerasHelper('MultiHeadAttention', FILE);

export const KERAS_ENCODER = kerasHelper('TransformerEncoderLayer', FILE);

export const KERAS_DECODER = kerasHelper('TransformerDecoderLayer', FILE);

export const KERAS_ADDITIVE = kerasHelper('AdditiveAttention', FILE);
export const KERAS_ATTENTION_POOLING = kerasHelper('AttentionPooling', FILE);

export const KERAS_LUONG = kerasHelper('LuongAttention', FILE);

export const KERAS_MEMORY = kerasHelper('MemoryNetwork', FILE);

export const KERAS_PATCH = kerasHelper('PatchEmbedding', FILE);
