// The ImageNet-size templates (224×224×3 inputs, 1000 classes). Their trainable
// parameter counts equal the reference PyTorch implementations named in
// `reference` (checked by test/templates.test.ts).
import { Builder, composite, template, type Out } from './builder.js';
import { conv, IMAGENET, IMAGENET_INPUT, IMAGENET_SGD, imagenetHead, RELU, resnet50Stages, stage, stem, type BranchAttention, bottleneck } from './resnet.js';
import type { CompositeDef } from '../../engine/graph/types.js';

const HE = 'He, Zhang, Ren & Sun (2016). Deep Residual Learning for Image Recognition. CVPR.';

/** A ResNet-50 with `attention` on the residual branch of every bottleneck. */
function attentionResNet50(attention?: BranchAttention, tag?: string): { composites: CompositeDef[]; build: (b: Builder) => void } {
  const composites = resnet50Stages().flatMap((s, i) => stage(i + 1, s, attention, tag));
  const stages = composites.filter((c) => c.id.startsWith('stage'));
  return {
    composites,
    build(b) {
      let x = stem(b, `${b.node('image', 'io.input', IMAGENET_INPUT)}.out`);
      stages.forEach((st, i) => (x = b.use(x, `stage${i + 1}`, st)));
      imagenetHead(b, x);
    },
  };
}

const resnet50 = template({
  file: 'resnet50',
  name: 'ResNet-50',
  description:
    'The plain ResNet-50 baseline exactly as torchvision builds it (reference: torchvision.models.resnet50(); v1.5: the ' +
    'stride sits on the 3×3 convolution of each downsampling bottleneck; padding as PyTorch\'s, so torchvision\'s ' +
    'weights import and compute the same outputs): a 7×7 stem and max-pool, four stages of 3, 4, 6 and 3 bottleneck units (each ' +
    'stage a composite: one projection bottleneck, then the identity bottleneck repeated), global average pooling and ' +
    'a 1000-way classifier. Convolutions followed by BatchNorm have no bias. 25,557,032 trainable parameters, like ' +
    'torchvision.models.resnet50(). The attention templates below start from this network.',
  paper: HE,
  dataset: IMAGENET,
  training: IMAGENET_SGD,
  reference: { trainableParams: 25_557_032, implementation: 'torchvision.models.resnet50()' },
  ...attentionResNet50(),
});

const seResnet50 = template({
  file: 'se-resnet50',
  name: 'SE-ResNet-50',
  description:
    'ResNet-50 with a Squeeze-and-Excitation unit (reduction r = 16) on the residual branch of every bottleneck, ' +
    'after the last BatchNorm and before the addition, as in Hu et al. (their Fig. 3): each channel of the branch is ' +
    'rescaled by a weight computed from the global average of all channels (FC C→C/16, ReLU, FC →C, sigmoid; with ' +
    'biases). Reference: timm\'s seresnet50 (torchvision\'s ResNet-50 bottleneck, the stride on the 3×3 convolution, ' +
    'with timm\'s SEModule after bn3; its state_dict imports as it is); the SE units add 2,530,992 parameters: ' +
    '28,088,024 trainable. (Cadene\'s ' +
    'pretrainedmodels se_resnet50 has the same count but strides the 1×1 convolution, Caffe style.) The channel ' +
    'weights of all 16 units are attention outputs.',
  paper: 'Hu, Shen, Albanie, Sun & Wu (2018). Squeeze-and-Excitation Networks. CVPR.',
  dataset: IMAGENET,
  training: IMAGENET_SGD,
  reference: { trainableParams: 28_088_024, implementation: 'timm seresnet50: torchvision resnet50 layout with an SEModule (1×1 convolutions with biases, r = 16) after bn3 of every Bottleneck' },
  ...attentionResNet50((b, x) => b.then(x, 'se', 'attention.squeezeExcitation', { reduction: 16 }), 'SE'),
});

const cbamResnet50 = template({
  file: 'cbam-resnet50',
  name: 'CBAM-ResNet-50',
  description:
    'ResNet-50 with a Convolutional Block Attention Module in every bottleneck, on the residual branch before the ' +
    'addition (Woo et al., Fig. 3): channel attention (average- and max-pooled descriptors through a shared MLP with ' +
    'reduction r = 16), then spatial attention (channel mean and max, a 7×7 convolution without bias followed by ' +
    'BatchNorm with momentum 0.01, sigmoid). Reference: the authors\' ResidualNet("ImageNet", 50, 1000, "CBAM") of ' +
    'Jongchan/attention-module (torchvision\'s v1.5 bottleneck with CBAM after bn3); their checkpoints import as they ' +
    'are saved (the spatial gate stacks [max; mean] there, [mean; max] here: the import swaps the two input channels ' +
    'of its convolution). 28,089,624 trainable parameters. Each unit\'s channel weights and spatial map are attention ' +
    'outputs.',
  paper: 'Woo, Park, Lee & Kweon (2018). CBAM: Convolutional Block Attention Module. ECCV.',
  dataset: IMAGENET,
  training: IMAGENET_SGD,
  reference: { trainableParams: 28_089_624, implementation: 'Jongchan/attention-module ResidualNet("ImageNet", 50, 1000, "CBAM"): torchvision resnet50 with CBAM (Linear MLP with bias, r = 16; 7×7 conv without bias + BatchNorm, momentum 0.01) after bn3 of every Bottleneck' },
  ...attentionResNet50((b, x) => b.then(x, 'cbam', 'attention.cbam', { reduction: 16, kernel: 7, batchNorm: true, bnMomentum: 0.01 }), 'CBAM'),
});

const nonlocalResnet50 = (() => {
  // Non-local blocks after every other bottleneck of stages 3 and 4 (res3: 2, res4: 3), as in the paper's 5-block model.
  const stages = resnet50Stages();
  const composites: CompositeDef[] = [];
  const stageIds: CompositeDef[] = [];
  stages.forEach((s, i) => {
    const k = i + 1;
    if (k === 1 || k === 4) {
      const defs = stage(k, s);
      composites.push(...defs);
      stageIds.push(defs[2]);
      return;
    }
    const first = bottleneck({ id: `project${k}`, mid: s.mid, out: s.out, stride: s.stride, project: true });
    const identity = bottleneck({ id: `identity${k}`, mid: s.mid, out: s.out });
    const pair = composite(`pair${k}`, `2 bottlenecks + non-local (${s.out} channels)`, 'Two identity bottlenecks, then a non-local block.', (b, x) =>
      b.then(b.use(x, 'b1', identity, 2), 'nonlocal', 'attention.nonLocal', { pairwise: 'embeddedGaussian', subsample: true }),
    );
    const st = composite(
      `stage${k}`,
      `Stage ${k}: ${s.blocks} bottlenecks, ${s.blocks / 2} non-local blocks`,
      'A projection bottleneck and an identity bottleneck, a non-local block, then (two identity bottlenecks and a non-local block) repeated.',
      (b, x) => b.use(b.then(b.use(b.use(x, 'first', first), 'second', identity), 'nonlocal', 'attention.nonLocal', { pairwise: 'embeddedGaussian', subsample: true }), 'rest', pair, s.blocks / 2 - 1),
    );
    composites.push(first, identity, pair, st);
    stageIds.push(st);
  });
  return template({
    file: 'nonlocal-resnet',
    name: 'Non-local ResNet-50',
    description:
      'ResNet-50 with non-local blocks in the later stages, after every other residual block: 2 in stage 3 (res3, ' +
      '28×28) and 3 in stage 4 (res4, 14×14), the 5-block arrangement of Wang et al. Each block is self-attention over ' +
      'all positions of the feature map (embedded Gaussian: θ, φ, g 1×1 convolutions to C/2 channels, φ and g max-pooled ' +
      '2×2), followed by a 1×1 convolution and a BatchNorm that starts at zero, so the block starts as the identity. ' +
      '32,915,496 trainable parameters: torchvision\'s ResNet-50 plus the reference NONLocalBlock2D modules (1×1 ' +
      'convolutions with bias, BatchNorm after W). The affinity matrices are attention outputs.',
    paper: 'Wang, Girshick, Gupta & He (2018). Non-local Neural Networks. CVPR.',
    dataset: IMAGENET,
    training: IMAGENET_SGD,
    reference: { trainableParams: 32_915_496, implementation: 'torchvision resnet50 + 2 NONLocalBlock2D(512) in layer2 and 3 NONLocalBlock2D(1024) in layer3 (embedded Gaussian, inter_channels = C/2, bias on θ/φ/g/W, BatchNorm after W)' },
    composites,
    build(b) {
      let x = stem(b, `${b.node('image', 'io.input', IMAGENET_INPUT)}.out`);
      stageIds.forEach((st, i) => (x = b.use(x, `stage${i + 1}`, st)));
      imagenetHead(b, x);
    },
  });
})();

const abnResnet50 = (() => {
  const [s1, s2, s3, s4] = resnet50Stages();
  const composites = [...stage(1, s1), ...stage(2, s2), ...stage(3, s3), ...stage(4, s4)];
  const byId = (id: string) => composites.find((c) => c.id === id)!;
  // The attention branch's own copy of layer 4, at stride 1 (14×14).
  const attFirst = bottleneck({ id: 'attProject', mid: 512, out: 2048, project: true });
  const attLayer = composite('attLayer4', 'Attention branch: layer 4 at stride 1', 'The attention branch\'s residual units: layer 4 of ResNet-50 without its stride (a projection bottleneck and 2 identity bottlenecks), keeping the 14×14 resolution.', (b, x) =>
    b.use(b.use(x, 'first', attFirst), 'rest', byId('identity4'), 2),
  );
  composites.push(attFirst, attLayer);
  return template({
    file: 'abn-resnet',
    name: 'Attention Branch Network (ResNet-50)',
    description:
      'An Attention Branch Network on ResNet-50 (Fukui et al.), as in the authors\' ImageNet code: after stage 3 the ' +
      'attention branch runs its own copy of layer 4 at stride 1, then BatchNorm, a 1×1 convolution to 1000 class ' +
      'maps, BN and ReLU; a 1×1 convolution, global average pooling and softmax give the branch\'s own class scores, ' +
      'and a 3×3 convolution, BN and sigmoid give the 14×14 attention map M. The perception branch (stage 4 and the ' +
      'classifier) reads the stage-3 features weighted by the map, g′(x) = (1 + M)·g(x). Both outputs carry a ' +
      'cross-entropy loss (L = L_att + L_per). 43,584,866 trainable parameters, like the authors\' ResNet-50 ABN.',
    paper: 'Fukui, Hirakawa, Yamashita & Fujiyoshi (2019). Attention Branch Network: Learning of Attention Mechanism for Visual Explanation. CVPR.',
    dataset: IMAGENET,
    training: IMAGENET_SGD,
    reference: { trainableParams: 43_584_866, implementation: 'machine-perception-robotics-group/attention_branch_network, imagenet ResNet-50 (att_layer4 at stride 1, att_conv3 3×3)' },
    composites,
    build(b) {
      let x = stem(b, `${b.node('image', 'io.input', IMAGENET_INPUT)}.out`);
      for (const k of [1, 2, 3]) x = b.use(x, `stage${k}`, byId(`stage${k}`));
      const att = b.use(x, 'attLayer4', attLayer, 1, { row: 1 });
      b.node('branch', 'attention.attentionBranch', { classes: 1000, convLayers: 0, mapKernel: 3 }, { in: att }, { row: 1 });
      b.node('attOutput', 'io.output', {}, { in: 'branch.scores' }, { row: 2, label: 'attention branch (L_att)' });
      const m = b.then('branch.map', 'map', 'core.reshape', { shape: [14, 14, 1] }, { row: 1, label: 'map as [14, 14, 1]' });
      b.node('attend', 'core.multiply', {}, { in1: x, in2: m });
      b.node('residual', 'core.add', {}, { in1: x, in2: 'attend.out' }, { label: '(1 + M)·g(x)' });
      x = b.use('residual.out', 'stage4', byId('stage4'));
      imagenetHead(b, x, 'fc', 'y');
    },
  });
})();

const attendRectifyWrn = (() => {
  const stages = resnet50Stages(2);
  const composites = stages.flatMap((s, i) => stage(i + 1, s));
  const stageOf = (k: number) => composites.find((c) => c.id === `stage${k}`)!;
  return template({
    file: 'attend-rectify-wrn',
    name: 'Attend and Rectify on Wide ResNet-50-2',
    description:
      'A Wide ResNet-50-2 (torchvision\'s wide_resnet50_2: bottlenecks twice as wide) with Attend-and-Rectify attention ' +
      'modules at three depths, on the outputs of stages 2, 3 and 4 (28², 14² and 7²). Each module has K = 4 attention ' +
      'heads (1×1 convolutions, a softmax over positions) whose maps pool 4 class hypotheses from 1×1 output heads, ' +
      'weighed by confidence gates; the global gate mixes the network\'s own prediction with the three modules\' ' +
      'hypotheses, using gates computed from the pooled final features, and that mixture is trained with ' +
      'cross-entropy. 83,256,104 trainable parameters: wide_resnet50_2 (68,883,240) plus the modules\' bias-free ' +
      'convolutions and the gate\'s 2048×4 weights. The paper\'s inter-head regularisation loss is not included.',
    paper: 'Rodríguez, Gonfaus, Cucurull, Roca & Gonzàlez (2018). Attend and Rectify: a Gated Attention Mechanism for Fine-Grained Recovery. ECCV.',
    dataset: IMAGENET,
    training: { ...IMAGENET_SGD, learningRate: 0.1 },
    reference: { trainableParams: 83_256_104, implementation: 'torchvision.models.wide_resnet50_2() + 3 modules (Conv2d C→4, C→4·1000, C→4, 1×1, no bias) after layer2/3/4 + Linear(2048, 4, bias=False) gate' },
    composites,
    build(b) {
      let x = stem(b, `${b.node('image', 'io.input', IMAGENET_INPUT)}.out`);
      const taps: Out[] = [];
      for (const k of [1, 2, 3, 4]) {
        x = b.use(x, `stage${k}`, stageOf(k));
        if (k > 1) taps.push(`${b.node(`attend${k}`, 'attention.attendRectify', { heads: 4, classes: 1000, kernel: 1 }, { in: x }, { row: 1, label: `attention module (stage ${k})` })}.out`);
      }
      const probs = `${b.node('fc', 'core.classificationHead', { classes: 1000 }, { in: b.then(x, 'gap', 'core.globalPool2d', { mode: 'avg' }) })}.probs`;
      b.node('gate', 'attention.globalGate', { hypotheses: 3, net: 'probabilities' }, { net: probs, hyp1: taps[0], hyp2: taps[1], hyp3: taps[2], features: x });
      b.node('y', 'io.output', {}, { in: 'gate.out' });
    },
  });
})();

const residualAttention56 = (() => {
  /** The authors' pre-activation residual unit: BN-ReLU-conv1×1-BN-ReLU-conv3×3-BN-ReLU-conv1×1, width out/4, no biases. */
  const unit = (id: string, out: number, stride: number, project: boolean) =>
    composite(
      id,
      `Residual unit →${out}${stride > 1 ? ', stride 2' : ''}${project ? ', projection' : ''}`,
      'Pre-activation bottleneck: BN → ReLU → conv 1×1 → BN → ReLU → conv 3×3 → BN → ReLU → conv 1×1 (width out/4, no biases), ' +
        (project ? 'added to a 1×1 projection of the pre-activated input.' : 'added to the input.'),
      (b, x) => {
        const pre = b.chain(x, ['bn1', 'core.batchNorm'], ['relu1', 'core.activation', RELU]);
        let y = b.chain(pre, ['conv1', 'core.conv2d', conv(out / 4, 1)], ['bn2', 'core.batchNorm'], ['relu2', 'core.activation', RELU]);
        y = b.chain(y, ['conv2', 'core.conv2d', conv(out / 4, 3, stride)], ['bn3', 'core.batchNorm'], ['relu3', 'core.activation', RELU]);
        y = b.then(y, 'conv3', 'core.conv2d', conv(out, 1));
        const shortcut = project ? b.then(pre, 'proj', 'core.conv2d', conv(out, 1, stride), { row: 1 }) : x;
        return `${b.node('add', 'core.add', {}, { in1: y, in2: shortcut })}.out`;
      },
    );
  const u1 = unit('unit256', 256, 1, true);
  const u2 = unit('unit512', 512, 2, true);
  const u3 = unit('unit1024', 1024, 2, true);
  const u4 = unit('unit2048', 2048, 2, true);
  const u4id = unit('unit2048id', 2048, 1, false);
  return template({
    file: 'residual-attention-56',
    name: 'Residual Attention Network (Attention-56)',
    description:
      'Attention-56 of the Residual Attention Network (Wang et al.): a 7×7 stem and max-pool, then three stages of a ' +
      'residual unit followed by an attention module (p = 1, t = 2, r = 1) whose soft-mask branch is an hourglass ' +
      'with 3, 2 and 1 down-sampling levels at 56², 28² and 14², and three final residual units at 7², BN, ReLU, ' +
      'global average pooling and the classifier. Each module multiplies its trunk features by (1 + mask), attention ' +
      'residual learning. Residual units are pre-activation bottlenecks without biases. 31,810,728 trainable ' +
      'parameters, like ResidualAttentionModel_56 of the reference PyTorch implementation (the paper reports 31.9 M ' +
      'for its Caffe model). Each module\'s mask (and its mean over channels) is an attention output.',
    paper: 'Wang, Jiang, Qian, Yang, Li, Zhang, Wang & Tang (2017). Residual Attention Network for Image Classification. CVPR.',
    dataset: IMAGENET,
    training: { optimizer: 'sgd', learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4, batchSize: 256, epochs: 60, schedule: 'step', stepEpochs: 20, gamma: 0.1 },
    reference: { trainableParams: 31_810_728, implementation: 'tengshaofeng/ResidualAttentionNetwork-pytorch, ResidualAttentionModel_56' },
    composites: [u1, u2, u3, u4, u4id],
    build(b) {
      let x = stem(b, `${b.node('image', 'io.input', IMAGENET_INPUT)}.out`);
      ([
        [u1, 3],
        [u2, 2],
        [u3, 1],
      ] as const).forEach(([u, levels], i) => {
        x = b.use(x, `unit${i + 1}`, u);
        x = b.then(x, `attention${i + 1}`, 'attention.residualAttention', { p: 1, t: 2, r: 1, levels, upsample: 'bilinear' });
      });
      x = b.use(b.use(x, 'unit4', u4), 'unit5', u4id, 2);
      x = b.chain(x, ['bnFinal', 'core.batchNorm'], ['reluFinal', 'core.activation', RELU]);
      imagenetHead(b, x);
    },
  });
})();

/** Token 0 of a sequence [B, T, D] as [B, D], with no parameters: a 1×1 pooling window with stride 64, twice, keeps only the first row. */
export function classTokenComposite(dim: number): CompositeDef {
  return composite(
    'classToken',
    'Class token (token 0)',
    'Takes the first token of [B, T, D]: the sequence is viewed as a T×1 image with D channels, and two 1×1 poolings with stride 64 keep only row 0 (for T up to 4096).',
    (b, x) =>
      b.chain(
        x,
        ['asImage', 'core.reshape', { shape: [-1, 1, dim] }],
        ['first64', 'core.pool2d', { mode: 'max', size: 1, stride: 64, padding: 'valid' }],
        ['first', 'core.pool2d', { mode: 'max', size: 1, stride: 64, padding: 'valid' }],
        ['vector', 'core.flatten'],
      ),
  );
}

/** A pre-norm ViT encoder layer (GELU MLP), as torchvision's EncoderBlock. */
export const vitEncoder = (heads: number, ffDim: number, dropout = 0) =>
  composite('encoder', 'Transformer encoder layer (pre-norm)', 'LayerNorm (ε 1e-6) → multi-head self-attention → add; LayerNorm → MLP (GELU) → add.', (b, x) =>
    b.then(x, 'layer', 'attention.transformerEncoder', { heads, ffDim, dropout, activation: 'gelu', norm: 'pre', normEpsilon: 1e-6 }),
  );

const vitTi16 = (() => {
  const encoder = vitEncoder(3, 768);
  const cls = classTokenComposite(192);
  return template({
    file: 'vit-ti16',
    name: 'ViT-Ti/16',
    description:
      'The tiny Vision Transformer: the 224×224 image is cut into 16×16 patches, each projected to 192 features (a ' +
      'strided convolution), a learned class token is put in front and learned position embeddings are added (197 ' +
      'tokens); 12 pre-norm Transformer encoder layers (3 heads, MLP 768, GELU) follow, as one composite repeated 12 ' +
      'times; a final LayerNorm, the class token\'s state and a 1000-way classifier. 5,717,416 trainable parameters, ' +
      'like torchvision\'s VisionTransformer(image_size=224, patch_size=16, num_layers=12, num_heads=3, ' +
      'hidden_dim=192, mlp_dim=768). Every layer\'s attention matrix is an attention output.',
    paper: 'Dosovitskiy et al. (2021). An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale. ICLR. (ViT-Ti: Touvron et al. 2021, DeiT.)',
    dataset: IMAGENET,
    training: { optimizer: 'adamw', learningRate: 0.001, weightDecay: 0.05, batchSize: 1024, epochs: 300, schedule: 'cosine', warmupSteps: 6250 },
    reference: { trainableParams: 5_717_416, implementation: 'torchvision.models.VisionTransformer(224, 16, 12, 3, 192, 768)' },
    composites: [encoder, cls],
    build(b) {
      let x = b.then(`${b.node('image', 'io.input', IMAGENET_INPUT)}.out`, 'patches', 'attention.patchEmbedding', { patch: 16, dim: 192, classToken: true, positions: true });
      x = b.use(x, 'encoders', encoder, 12, { label: 'Encoder ×12' });
      x = b.then(x, 'norm', 'core.layerNorm', { epsilon: 1e-6 });
      x = b.use(x, 'cls', cls);
      b.node('head', 'core.classificationHead', { classes: 1000 }, { in: x });
      b.node('y', 'io.output', {}, { in: 'head.probs' });
    },
  });
})();

export const imagenetTemplates = [resnet50, seResnet50, cbamResnet50, vitTi16, residualAttention56, abnResnet50, attendRectifyWrn, nonlocalResnet50];
