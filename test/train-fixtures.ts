// Tiny graphs and data for the training, worker and data tests.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { idealAttention } from '../engine/data/synthetic.js';
import type { GraphFile } from '../engine/graph/types.js';
import type { TrainEventOf } from '../engine/schemas/train-events.js';
import { chain, graph, type EdgeSpec, type NodeSpec } from './helpers/graphs.js';

/** A graph from nodes and "node.port -> node.port" edges. */
export const graphOf = (name: string, nodes: NodeSpec[], edges: EdgeSpec[]): GraphFile => graph(nodes, edges, name);

/** 28×28×1 → conv 3×3×4 stride 2 + ReLU → flatten → 10-way softmax: 7,900 parameters. */
export function tinyCnn(): GraphFile {
  return graphOf(
    'tiny-cnn',
    [
      ['in', 'io.input', { kind: 'image', height: 28, width: 28, channels: 1 }],
      ['conv', 'core.conv2d', { filters: 4, kernel: 3, stride: 2, activation: 'relu' }],
      ['flat', 'core.flatten'],
      ['head', 'core.classificationHead', { classes: 10 }],
      ['out', 'io.output'],
    ],
    chain('in', 'conv', 'flat', 'head.probs', 'out'),
  );
}

/** 28×28×1 → flatten → dense 16 ReLU → 10-way softmax: fast on the cpu backend. */
export function tinyMlp(): GraphFile {
  return graphOf(
    'tiny-mlp',
    [
      ['in', 'io.input', { kind: 'image', height: 28, width: 28, channels: 1 }],
      ['flat', 'core.flatten'],
      ['hidden', 'core.dense', { units: 16, activation: 'relu' }],
      ['head', 'core.classificationHead', { classes: 10 }],
      ['out', 'io.output'],
    ],
    chain('in', 'flat', 'hidden', 'head.probs', 'out'),
  );
}

/**
 * conv → BatchNorm → ReLU → flatten → dense → head: a backbone with statistics to keep, and a head;
 * with `dropout`, a dropout node of that rate before the head.
 */
export function bnCnn(classes = 10, dropout?: number): GraphFile {
  const drop: NodeSpec[] = dropout === undefined ? [] : [['drop', 'core.dropout', { rate: dropout }]];
  return graphOf(
    dropout === undefined ? 'bn-cnn' : 'bn-dropout-cnn',
    [
      ['in', 'io.input', { kind: 'image', height: 28, width: 28, channels: 1 }],
      ['conv', 'core.conv2d', { filters: 4, kernel: 3, stride: 2 }],
      ['bn', 'core.batchNorm'],
      ['relu', 'core.activation', { fn: 'relu' }],
      ['flat', 'core.flatten'],
      ['hidden', 'core.dense', { units: 16, activation: 'relu' }],
      ...drop,
      ['head', 'core.classificationHead', { classes }],
      ['out', 'io.output'],
    ],
    chain('in', 'conv', 'bn', 'relu', 'flat', 'hidden', ...drop.map(([id]) => id), 'head.probs', 'out'),
  );
}

/** Tokens → embedding → learned positions → one Transformer encoder layer → a softmax per position: learns the reverse task. */
export function reverseTransformer(T: number, V: number): GraphFile {
  return graphOf(
    'reverse-transformer',
    [
      ['in', 'io.input', { kind: 'tokens', length: T, vocabSize: V }],
      ['emb', 'core.embedding', { vocabSize: V, dim: 16 }],
      ['pos', 'core.positionalEncoding', { mode: 'learned', maxLength: T }],
      ['enc', 'attention.transformerEncoder', { heads: 1, ffDim: 32, dropout: 0 }],
      ['proj', 'core.dense', { units: V, activation: 'softmax' }],
      ['out', 'io.output', { loss: 'sparseCategoricalCrossentropy' }],
    ],
    chain('in', 'emb', 'pos', 'enc', 'proj', 'out'),
  );
}

/**
 * A reverse-task run (reverseTransformer, probes of 4 samples) learned the task: validation accuracy above 0.9,
 * and in the encoder's last attention snapshot on disk each query puts most of its weight on its ideal key.
 */
export function assertLearnedReverse(dir: string, valAccuracy: number, last: TrainEventOf<'attention'> | undefined, T: number): void {
  assert.ok(valAccuracy > 0.9, `val_accuracy ${valAccuracy}`);
  assert.ok(last);
  assert.deepEqual(last.maps.find((x) => x.nodeId === 'enc')!.shape, [4, 1, T, T]);
  const file = path.join(dir, 'attention', `step-${String(last.step).padStart(6, '0')}`, 'enc.attention.f32');
  const a = new Float32Array(new Uint8Array(readFileSync(file)).buffer);
  const ideal = idealAttention('reverse', new Int32Array(T));
  let mass = 0;
  for (let s = 0; s < 4; s++) for (let q = 0; q < T; q++) mass += a[s * T * T + q * T + ideal[q]];
  mass /= 4 * T;
  assert.ok(mass > 0.5, `mean attention on the anti-diagonal: ${mass.toFixed(3)} (uniform would be ${(1 / T).toFixed(3)})`);
}
