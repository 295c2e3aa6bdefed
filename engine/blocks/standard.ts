// The standard (non-attention) blocks, in palette order.
import type { AnyBlock } from './contract.js';
import input from './input.js';
import output from './output.js';
import dense from './dense.js';
import conv2d from './conv2d.js';
import activation from './activation.js';
import flatten from './flatten.js';
import concatenate from './concatenate.js';
import classificationHead from './classification-head.js';
import { add, multiply } from './elementwise.js';

export const standardBlocks: AnyBlock[] = [input, output, dense, conv2d, activation, flatten, add, multiply, concatenate, classificationHead];
