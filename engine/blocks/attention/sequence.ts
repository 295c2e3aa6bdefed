// Attention blocks: sequence family, in palette order.
import type { AnyBlock } from '../contract.js';
import scaledDotProduct from './scaled-dot-product.js';
import multiHead from './multi-head.js';
import { transformerDecoder, transformerEncoder } from './transformer.js';
import additive from './additive.js';
import attentionPooling from './attention-pooling.js';
import luong from './luong.js';
import memoryHop from './memory-hop.js';
import patchEmbedding from './patch-embedding.js';
import showAttendTell from './show-attend-tell.js';

export const sequenceAttentionBlocks: AnyBlock[] = [
  scaledDotProduct,
  multiHead,
  transformerEncoder,
  transformerDecoder,
  additive,
  attentionPooling,
  luong,
  memoryHop,
  patchEmbedding,
  showAttendTell,
];
