// Graphs with composite blocks, for tests and benchmarks.
import { COMPOSITE_INPUT, COMPOSITE_OUTPUT, compositeType } from '../../engine/shapes/composite.js';
import { GRAPH_VERSION } from '../../engine/graph/schema.js';
import type { CompositeDef, GraphFile } from '../../engine/graph/types.js';
import { graph } from './graphs.js';

type NodeSpec = [id: string, type: string, params?: Record<string, unknown>];
type EdgeSpec = [from: string, to: string];

/** A composite from nodes and "node.port" edges, like graph(). */
export function composite(id: string, nodes: NodeSpec[], edges: EdgeSpec[], label?: string): CompositeDef {
  const g = graph(nodes, edges);
  return { id, ...(label ? { label } : {}), nodes: g.nodes, edges: g.edges };
}

/** A version-2 graph with composites. */
export function graphWith(composites: CompositeDef[], nodes: NodeSpec[], edges: EdgeSpec[], name = 'test'): GraphFile {
  return { ...graph(nodes, edges, name), version: GRAPH_VERSION, composites };
}

export const cin = (name = 'in'): [string, string, Record<string, unknown>] => [name, COMPOSITE_INPUT, { name }];
export const cout = (name = 'out'): [string, string, Record<string, unknown>] => [name, COMPOSITE_OUTPUT, { name }];
export const use = compositeType;

/**
 * A ResNet bottleneck (torchvision's v1.5: the stride on the 3×3 convolution),
 * convolutions without bias before BatchNorm, with a projection shortcut when
 * `project`.
 */
export function bottleneck(id: string, mid: number, out: number, stride: number, project: boolean): CompositeDef {
  const conv = (filters: number, kernel: number, s = 1) => ({ filters, kernel, stride: s, useBias: false });
  const nodes: NodeSpec[] = [
    cin('in'),
    ['conv1', 'core.conv2d', conv(mid, 1)],
    ['bn1', 'core.batchNorm'],
    ['relu1', 'core.activation', { fn: 'relu' }],
    ['conv2', 'core.conv2d', conv(mid, 3, stride)],
    ['bn2', 'core.batchNorm'],
    ['relu2', 'core.activation', { fn: 'relu' }],
    ['conv3', 'core.conv2d', conv(out, 1)],
    ['bn3', 'core.batchNorm'],
    ['add', 'core.add'],
    ['relu3', 'core.activation', { fn: 'relu' }],
    cout('out'),
  ];
  const edges: EdgeSpec[] = [
    ['in.out', 'conv1.in'],
    ['conv1.out', 'bn1.in'],
    ['bn1.out', 'relu1.in'],
    ['relu1.out', 'conv2.in'],
    ['conv2.out', 'bn2.in'],
    ['bn2.out', 'relu2.in'],
    ['relu2.out', 'conv3.in'],
    ['conv3.out', 'bn3.in'],
    ['bn3.out', 'add.in1'],
    ['add.out', 'relu3.in'],
    ['relu3.out', 'out.in'],
  ];
  if (project) {
    nodes.push(['proj', 'core.conv2d', conv(out, 1, stride)], ['projbn', 'core.batchNorm']);
    edges.push(['in.out', 'proj.in'], ['proj.out', 'projbn.in'], ['projbn.out', 'add.in2']);
  } else edges.push(['in.out', 'add.in2']);
  return composite(id, nodes, edges, `Bottleneck ${mid}→${out}${project ? ', projection' : ''}`);
}

/**
 * torchvision's ResNet-50 (224×224×3, 1000 classes) made of composites: a stage
 * composite per stage holds a projection bottleneck and a repeated identity
 * bottleneck, so composites nest and repeat.
 */
export function resnet50Composite(): GraphFile {
  const stages = [
    { mid: 64, out: 256, stride: 1, blocks: 3 },
    { mid: 128, out: 512, stride: 2, blocks: 4 },
    { mid: 256, out: 1024, stride: 2, blocks: 6 },
    { mid: 512, out: 2048, stride: 2, blocks: 3 },
  ];
  const defs: CompositeDef[] = [];
  stages.forEach((s, i) => {
    const k = i + 1;
    defs.push(bottleneck(`project${k}`, s.mid, s.out, s.stride, true), bottleneck(`identity${k}`, s.mid, s.out, 1, false));
    defs.push(
      composite(
        `stage${k}`,
        [cin('in'), ['first', use(`project${k}`)], ['rest', use(`identity${k}`), { repeat: s.blocks - 1 }], cout('out')],
        [
          ['in.out', 'first.in'],
          ['first.out', 'rest.in'],
          ['rest.out', 'out.in'],
        ],
        `Stage ${k}`,
      ),
    );
  });
  return graphWith(
    defs,
    [
      ['x', 'io.input', { kind: 'image', height: 224, width: 224, channels: 3 }],
      ['conv1', 'core.conv2d', { filters: 64, kernel: 7, stride: 2, useBias: false }],
      ['bn1', 'core.batchNorm'],
      ['relu', 'core.activation', { fn: 'relu' }],
      ['pool', 'core.pool2d', { mode: 'max', size: 3, stride: 2, padding: 'same' }],
      ['stage1', use('stage1')],
      ['stage2', use('stage2')],
      ['stage3', use('stage3')],
      ['stage4', use('stage4')],
      ['gap', 'core.globalPool2d', { mode: 'avg' }],
      ['fc', 'core.classificationHead', { classes: 1000 }],
      ['y', 'io.output'],
    ],
    [
      ['x.out', 'conv1.in'],
      ['conv1.out', 'bn1.in'],
      ['bn1.out', 'relu.in'],
      ['relu.out', 'pool.in'],
      ['pool.out', 'stage1.in'],
      ['stage1.out', 'stage2.in'],
      ['stage2.out', 'stage3.in'],
      ['stage3.out', 'stage4.in'],
      ['stage4.out', 'gap.in'],
      ['gap.out', 'fc.in'],
      ['fc.probs', 'y.in'],
    ],
    'ResNet-50 (composites)',
  );
}
