// Attention blocks: sequence family, in palette order.
import type { AnyBlock } from '../contract.js';

export const sequenceAttentionBlocks: AnyBlock[] = [];
