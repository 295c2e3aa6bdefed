// Attention blocks: vision family, in palette order.
import type { AnyBlock } from '../contract.js';
import squeezeExcitation from './squeeze-excitation.js';
import { cbam, cbamChannel, cbamSpatial } from './cbam.js';
import nonLocal from './non-local.js';
import attentionBranch from './attention-branch.js';
import { highwayGate, gate } from './gates.js';

export const visionAttentionBlocks: AnyBlock[] = [squeezeExcitation, cbam, cbamChannel, cbamSpatial, nonLocal, attentionBranch, highwayGate, gate];
