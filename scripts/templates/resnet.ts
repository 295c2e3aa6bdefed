// ResNet building blocks shared by the ImageNet templates: torchvision's
// bottleneck (v1.5: the stride on the 3×3 convolution; convolutions before
// BatchNorm without bias), stages of them, the stem and the head.
import { Builder, composite, type Out, type Params } from './builder.js';
import type { CompositeDef } from '../../engine/graph/types.js';

export const IMAGENET_INPUT = { kind: 'image', height: 224, width: 224, channels: 3 };
export const IMAGENET = { name: 'imagenet', note: 'ILSVRC-2012 (1000 classes) at 224×224: import it as a folder with one sub-folder per class.' };
/** torchvision's ImageNet recipe for ResNets. */
export const IMAGENET_SGD = { optimizer: 'sgd', learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4, batchSize: 256, epochs: 90, schedule: 'step', stepEpochs: 30, gamma: 0.1 } as const;

/** A convolution without bias, padded as PyTorch models pad it: (k - 1) / 2 pixels on every side. */
export const conv = (filters: number, kernel: number, stride = 1): Params =>
  kernel === 1 ? { filters, kernel, stride, padding: 'valid', useBias: false } : { filters, kernel, stride, padding: 'explicit', pads: [(kernel - 1) / 2], useBias: false };
export const RELU = { fn: 'relu' };

/** An attention unit on the residual branch, before the addition: gets the branch's output, returns the refined one. */
export type BranchAttention = (b: Builder, x: Out) => Out;

export interface BottleneckSpec {
  id: string;
  mid: number;
  out: number;
  stride?: number;
  project?: boolean;
  attention?: BranchAttention;
  /** Extra words for the label, e.g. "SE". */
  tag?: string;
}

export function bottleneck({ id, mid, out, stride = 1, project = false, attention, tag }: BottleneckSpec): CompositeDef {
  const label = `Bottleneck ${mid}→${out}${stride > 1 ? `, stride ${stride}` : ''}${project ? ', projection' : ''}${tag ? ` + ${tag}` : ''}`;
  const doc =
    'conv 1×1 → BN → ReLU → conv 3×3 (the stride) → BN → ReLU → conv 1×1 → BN' +
    (tag ? ` → ${tag}` : '') +
    (project ? ', added to a projection shortcut (conv 1×1 → BN)' : ', added to the input') +
    ', then ReLU.';
  return composite(id, label, doc, (b, x) => {
    let y = b.chain(x, ['conv1', 'core.conv2d', conv(mid, 1)], ['bn1', 'core.batchNorm'], ['relu1', 'core.activation', RELU]);
    y = b.chain(y, ['conv2', 'core.conv2d', conv(mid, 3, stride)], ['bn2', 'core.batchNorm'], ['relu2', 'core.activation', RELU]);
    y = b.chain(y, ['conv3', 'core.conv2d', conv(out, 1)], ['bn3', 'core.batchNorm']);
    if (attention) y = attention(b, y);
    const shortcut = project ? b.then(b.then(x, 'proj', 'core.conv2d', conv(out, 1, stride), { row: 1 }), 'projbn', 'core.batchNorm', {}, { row: 1 }) : x;
    b.node('add', 'core.add', {}, { in1: y, in2: shortcut });
    return b.then('add.out', 'relu3', 'core.activation', RELU);
  });
}

export interface StageSpec {
  mid: number;
  out: number;
  stride: number;
  blocks: number;
}

/** torchvision's ResNet-50 stages; `widen` multiplies the bottleneck width (2 for Wide ResNet-50-2). */
export const resnet50Stages = (widen = 1): StageSpec[] =>
  [
    { mid: 64, out: 256, stride: 1, blocks: 3 },
    { mid: 128, out: 512, stride: 2, blocks: 4 },
    { mid: 256, out: 1024, stride: 2, blocks: 6 },
    { mid: 512, out: 2048, stride: 2, blocks: 3 },
  ].map((s) => ({ ...s, mid: s.mid * widen }));

/**
 * One stage: a projection bottleneck, then the identity bottlenecks as one repeated
 * composite. Returns the stage composite and the two bottleneck composites it uses.
 */
export function stage(k: number, s: StageSpec, attention?: BranchAttention, tag?: string): CompositeDef[] {
  const first = bottleneck({ id: `project${k}`, mid: s.mid, out: s.out, stride: s.stride, project: true, attention, tag });
  const rest = bottleneck({ id: `identity${k}`, mid: s.mid, out: s.out, attention, tag });
  const st = composite(`stage${k}`, `Stage ${k}: ${s.blocks} bottlenecks, ${s.out} channels`, `A projection bottleneck${s.stride > 1 ? ' (stride 2)' : ''}, then ${s.blocks - 1} identity bottlenecks.`, (b, x) =>
    b.use(b.use(x, 'first', first), 'rest', rest, s.blocks - 1),
  );
  return [first, rest, st];
}

/** conv 7×7/2 (padding 3) → BN → ReLU → max-pool 3×3/2 (padding 1): 224² → 56², as torchvision. */
export function stem(b: Builder, x: Out): Out {
  return b.chain(
    x,
    ['conv1', 'core.conv2d', conv(64, 7, 2)],
    ['bn1', 'core.batchNorm'],
    ['relu', 'core.activation', RELU],
    ['pool', 'core.pool2d', { mode: 'max', size: 3, stride: 2, padding: 'explicit', pads: [1] }],
  );
}

/** Global average pooling and a 1000-way fully connected layer with softmax, into an Output. */
export function imagenetHead(b: Builder, x: Out, id = 'fc', output = 'y'): Out {
  const probs = `${b.node(id, 'core.classificationHead', { classes: 1000 }, { in: b.then(x, 'gap', 'core.globalPool2d', { mode: 'avg' }) })}.probs`;
  b.node(output, 'io.output', {}, { in: probs });
  return probs;
}
