// Attention blocks: structured family, in palette order.
import type { AnyBlock } from '../contract.js';
import residualAttention from './residual-attention.js';
import { attendRectify, globalGate } from './attend-rectify.js';
import localSelfAttention2d from './local-self-attention-2d.js';
import augmentedConv from './augmented-conv.js';

export const structuredAttentionBlocks: AnyBlock[] = [residualAttention, attendRectify, globalGate, localSelfAttention2d, augmentedConv];
