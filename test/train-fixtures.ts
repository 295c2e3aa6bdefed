// Tiny graphs and data for the training, worker and data tests.
import { GRAPH_FORMAT } from '../engine/graph/schema.js';
import type { GraphFile } from '../engine/graph/types.js';

type NodeSpec = [id: string, type: string, params?: Record<string, unknown>];

/** A graph from nodes and "node.port -> node.port" edges. */
export function graphOf(name: string, nodes: NodeSpec[], edges: [string, string][]): GraphFile {
  const end = (s: string) => {
    const [node, port] = s.split('.');
    return { node, port };
  };
  return {
    format: GRAPH_FORMAT,
    version: 1,
    name,
    nodes: nodes.map(([id, type, params = {}], i) => ({ id, type, params, position: { x: i * 200, y: 0 } })),
    edges: edges.map(([a, b]) => ({ from: end(a), to: end(b) })),
  };
}

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
    [
      ['in.out', 'conv.in'],
      ['conv.out', 'flat.in'],
      ['flat.out', 'head.in'],
      ['head.probs', 'out.in'],
    ],
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
    [
      ['in.out', 'flat.in'],
      ['flat.out', 'hidden.in'],
      ['hidden.out', 'head.in'],
      ['head.probs', 'out.in'],
    ],
  );
}

/** conv → BatchNorm → ReLU → flatten → dense → head: a backbone with statistics to keep, and a head. */
export function bnCnn(classes = 10): GraphFile {
  return graphOf(
    'bn-cnn',
    [
      ['in', 'io.input', { kind: 'image', height: 28, width: 28, channels: 1 }],
      ['conv', 'core.conv2d', { filters: 4, kernel: 3, stride: 2 }],
      ['bn', 'core.batchNorm'],
      ['relu', 'core.activation', { fn: 'relu' }],
      ['flat', 'core.flatten'],
      ['hidden', 'core.dense', { units: 16, activation: 'relu' }],
      ['head', 'core.classificationHead', { classes }],
      ['out', 'io.output'],
    ],
    [
      ['in.out', 'conv.in'],
      ['conv.out', 'bn.in'],
      ['bn.out', 'relu.in'],
      ['relu.out', 'flat.in'],
      ['flat.out', 'hidden.in'],
      ['hidden.out', 'head.in'],
      ['head.probs', 'out.in'],
    ],
  );
}
