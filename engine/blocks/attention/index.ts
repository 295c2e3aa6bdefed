// The attention blocks (issue 3), in palette order.
import type { AnyBlock } from '../contract.js';
import { sequenceAttentionBlocks } from './sequence.js';
import { visionAttentionBlocks } from './vision.js';
import { structuredAttentionBlocks } from './structured.js';

export const attentionBlocks: AnyBlock[] = [...sequenceAttentionBlocks, ...visionAttentionBlocks, ...structuredAttentionBlocks];
