// The standard (non-attention) blocks, in palette order.
import type { AnyBlock } from './contract.js';
import input from './input.js';
import output from './output.js';
import dense from './dense.js';
import activation from './activation.js';
import dropout from './dropout.js';
import conv2d from './conv2d.js';
import depthwiseConv2d from './depthwise-conv2d.js';
import { pool2d, globalPool2d, globalPool1d } from './pooling.js';
import batchNorm from './batch-norm.js';
import layerNorm from './layer-norm.js';
import flatten from './flatten.js';
import reshape from './reshape.js';
import permute from './permute.js';
import upsample2d from './upsample2d.js';
import padChannels from './pad-channels.js';
import { add, multiply } from './elementwise.js';
import concatenate from './concatenate.js';
import embedding from './embedding.js';
import positionalEncoding from './positional-encoding.js';
import { lstm, gru } from './recurrent.js';
import perSentence from './per-sentence.js';
import classificationHead from './classification-head.js';

export const standardBlocks: AnyBlock[] = [
  // Inputs & outputs
  input,
  output,
  // Core
  dense,
  activation,
  dropout,
  // Convolution
  conv2d,
  depthwiseConv2d,
  // Pooling
  pool2d,
  globalPool2d,
  globalPool1d,
  // Normalisation
  batchNorm,
  layerNorm,
  // Reshaping
  flatten,
  reshape,
  permute,
  upsample2d,
  padChannels,
  // Merge
  add,
  multiply,
  concatenate,
  // Sequence
  embedding,
  positionalEncoding,
  // Recurrent
  lstm,
  gru,
  perSentence,
  // Heads
  classificationHead,
];
