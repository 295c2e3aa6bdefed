// Templates sized to train in minutes on a laptop CPU: 28×28×1 images (MNIST) and
// the synthetic sequence tasks (copy, reverse, sort, associative recall).
import { Builder, composite, compositeOf, template, type Out } from './builder.js';
import { classTokenComposite, vitEncoder } from './imagenet.js';
import { conv, RELU, type BranchAttention } from './resnet.js';
import { compositeType } from '../../engine/shapes/composite.js';
import type { CompositeDef } from '../../engine/graph/types.js';

const MNIST_INPUT = { kind: 'image', height: 28, width: 28, channels: 1 };
const MNIST = { name: 'mnist', limit: 4096 };
const ADAM = (learningRate: number, batchSize: number, epochs: number) => ({ optimizer: 'adam' as const, learningRate, batchSize, epochs });

/**
 * He et al.'s shortcuts where a stage widens: A (the paper's CIFAR networks) subsamples the input and
 * pads the new channels with zeros, no parameters; B projects it (conv 1×1 → BN).
 */
export type Shortcut = 'A' | 'B';

/** ResNet-20's basic block (He et al. 2016, CIFAR): conv 3×3 → BN → ReLU → conv 3×3 → BN (→ attention), added to the input or its widened shortcut, ReLU. */
function basicBlock(id: string, filters: number, stride: number, shortcutOption: Shortcut, attention?: BranchAttention, tag?: string): CompositeDef {
  const widen = stride > 1;
  const shortcutText = shortcutOption === 'A' ? 'the input subsampled by 2 with zero channels added (option A)' : 'a 1×1 projection (conv → BN) of the input (option B)';
  return composite(
    id,
    `Basic block ${filters}${widen ? `, stride 2, shortcut ${shortcutOption}` : ''}${tag ? ` + ${tag}` : ''}`,
    `conv 3×3 → BN → ReLU → conv 3×3 → BN${tag ? ` → ${tag}` : ''}, added to ${widen ? shortcutText : 'the input'}, then ReLU.`,
    (b, x) => {
      let y = b.chain(x, ['conv1', 'core.conv2d', conv(filters, 3, stride)], ['bn1', 'core.batchNorm'], ['relu1', 'core.activation', RELU]);
      y = b.chain(y, ['conv2', 'core.conv2d', conv(filters, 3)], ['bn2', 'core.batchNorm']);
      if (attention) y = attention(b, y);
      let shortcut = x;
      if (widen && shortcutOption === 'B') shortcut = b.then(b.then(x, 'proj', 'core.conv2d', conv(filters, 1, stride), { row: 1 }), 'projbn', 'core.batchNorm', {}, { row: 1 });
      if (widen && shortcutOption === 'A') {
        // x[:, ::2, ::2] and half the new channels on each side, as F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, C/4, C/4)).
        const sub = b.then(x, 'subsample', 'core.pool2d', { mode: 'max', size: 1, stride, padding: 'valid' }, { row: 1 });
        shortcut = b.then(sub, 'zeropad', 'core.padChannels', { before: filters / 4, after: filters / 4 }, { row: 1 });
      }
      b.node('add', 'core.add', {}, { in1: y, in2: shortcut });
      return b.then('add.out', 'relu2', 'core.activation', RELU);
    },
  );
}

/** ResNet-20 for 28×28×1: a 3×3 stem, three stages of three basic blocks (16, 32, 64 channels at 28², 14², 7²), GAP, 10 classes. */
function resnet20(attention: BranchAttention, tag: string, shortcut: Shortcut = 'A'): { composites: CompositeDef[]; build: (b: Builder) => void } {
  const widths = [16, 32, 64];
  const composites: CompositeDef[] = [];
  const stages = widths.map((w, i) => {
    const k = i + 1;
    const first = basicBlock(`first${k}`, w, k === 1 ? 1 : 2, shortcut, attention, tag);
    const rest = basicBlock(`block${k}`, w, 1, shortcut, attention, tag);
    const st = composite(`stage${k}`, `Stage ${k}: 3 blocks, ${w} channels`, `${k === 1 ? 'A' : 'A downsampling'} basic block, then 2 more.`, (b, x) =>
      b.use(b.use(x, 'first', first), 'rest', rest, 2),
    );
    composites.push(first, rest, st);
    return st;
  });
  return {
    composites,
    build(b) {
      let x = b.chain(`${b.node('image', 'io.input', MNIST_INPUT)}.out`, ['conv', 'core.conv2d', conv(16, 3)], ['bn', 'core.batchNorm'], ['relu', 'core.activation', RELU]);
      stages.forEach((st, i) => (x = b.use(x, `stage${i + 1}`, st)));
      const probs = `${b.node('head', 'core.classificationHead', { classes: 10 }, { in: b.then(x, 'gap', 'core.globalPool2d', { mode: 'avg' }) })}.probs`;
      b.node('y', 'io.output', {}, { in: probs });
    },
  };
}

const RESNET20 = 'He, Zhang, Ren & Sun (2016). Deep Residual Learning for Image Recognition (the CIFAR ResNet-20).';

const seResnet20 = template({
  file: 'se-resnet20-mnist',
  name: 'SE-ResNet-20 (MNIST)',
  description:
    'ResNet-20 (three stages of three basic blocks with 16, 32 and 64 channels, the CIFAR network of He et al., with ' +
    'their parameter-free option A shortcuts and PyTorch padding: the reference is the paper\'s §4.2 network) for ' +
    '28×28×1 images, with a Squeeze-and-Excitation unit on the residual branch of every block before the addition ' +
    '(Hu et al.). The reduction is 4 rather than 16, since these blocks have only 16 to 64 channels. About 0.28 M ' +
    'parameters; trains on MNIST in minutes on a laptop CPU, and the nine units\' channel weights show which ' +
    'feature maps each block turns up for each digit.',
  paper: `Hu, Shen, Albanie, Sun & Wu (2018). Squeeze-and-Excitation Networks. CVPR. On ${RESNET20}`,
  dataset: MNIST,
  training: ADAM(0.002, 64, 2),
  ...resnet20((b, x) => b.then(x, 'se', 'attention.squeezeExcitation', { reduction: 4 }), 'SE'),
});

const cbamResnet20 = template({
  file: 'cbam-resnet20-mnist',
  name: 'CBAM-ResNet-20 (MNIST)',
  description:
    'ResNet-20 (He et al.\'s CIFAR network, option A shortcuts, as in the paper\'s §4.2) for 28×28×1 images with a ' +
    'CBAM module on the residual branch of every basic block, before the addition (Woo et al.), as the authors\' ' +
    'CBAM (Jongchan/attention-module): channel attention (reduction 4, for the 16 to 64 channels here) and then a ' +
    '7×7 spatial attention map with BatchNorm (momentum 0.01). About 0.28 M parameters; trains on MNIST in minutes ' +
    'on a laptop CPU, and the ' +
    'spatial maps of the nine modules show where on the digit each block looks, at 28², 14² and 7².',
  paper: `Woo, Park, Lee & Kweon (2018). CBAM: Convolutional Block Attention Module. ECCV. On ${RESNET20}`,
  dataset: MNIST,
  training: ADAM(0.002, 64, 2),
  ...resnet20((b, x) => b.then(x, 'cbam', 'attention.cbam', { reduction: 4, kernel: 7, batchNorm: true, bnMomentum: 0.01 }), 'CBAM'),
});

const vitMnist = (() => {
  const encoder = vitEncoder(2, 64);
  const cls = classTokenComposite(32);
  return template({
  file: 'vit-tiny-mnist',
  name: 'Tiny ViT (MNIST)',
  description:
    'A Vision Transformer small enough for a laptop CPU: the 28×28 digit is cut into 16 patches of 7×7, each ' +
    'projected to 32 features, with a learned class token and learned positions (17 tokens); two pre-norm encoder ' +
    'layers (2 heads, MLP 64, GELU), a final LayerNorm, the class token\'s state and a 10-way classifier. About ' +
    '20 K parameters. The attention matrices show which patches the class token reads.',
  paper: 'Dosovitskiy et al. (2021). An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale. ICLR.',
  dataset: MNIST,
  training: ADAM(0.003, 64, 5),
  composites: [encoder, cls],
  build(b) {
    let x = b.then(`${b.node('image', 'io.input', MNIST_INPUT)}.out`, 'patches', 'attention.patchEmbedding', { patch: 7, dim: 32, classToken: true, positions: true });
    x = b.then(b.use(x, 'encoders', encoder, 2, { label: 'Encoder ×2' }), 'norm', 'core.layerNorm', { epsilon: 1e-6 });
    b.node('head', 'core.classificationHead', { classes: 10 }, { in: b.use(x, 'cls', cls) });
    b.node('y', 'io.output', {}, { in: 'head.probs' });
  },
  });
})();

const T = 10;
const V = 10;
const tokens = (b: Builder, length = T, vocab = V): Out => `${b.node('tokens', 'io.input', { kind: 'tokens', length, vocabSize: vocab })}.out`;
/** Position-wise softmax over the vocabulary into an Output with sparse cross-entropy. */
function tokenHead(b: Builder, x: Out, vocab = V): void {
  b.node('y', 'io.output', { loss: 'sparseCategoricalCrossentropy' }, { in: b.then(x, 'predict', 'core.dense', { units: vocab, activation: 'softmax' }) });
}
const SEQ = (task: string) => ({ name: task, length: T, vocab: V, size: 4096 });
const VASWANI = 'Vaswani et al. (2017). Attention Is All You Need. NeurIPS.';

const postNormEncoder = composite('encoder', 'Transformer encoder layer', 'Multi-head self-attention → add & LayerNorm → feed-forward → add & LayerNorm (post-norm).', (b, x) =>
  b.then(x, 'layer', 'attention.transformerEncoder', { heads: 2, ffDim: 64, dropout: 0, activation: 'relu', norm: 'post' }),
);

const transformerEncoderSeq = template({
  file: 'transformer-encoder-seq',
  name: 'Transformer encoder (sequence tasks)',
  description:
    'A two-layer Transformer encoder that maps a token sequence to one token per position: embeddings (32) and ' +
    'learned positions, two post-norm encoder layers (2 heads, feed-forward 64, no dropout), a position-wise ' +
    'softmax over the 10 tokens. It learns the synthetic copy, reverse and sort tasks of length 10 in a few epochs; ' +
    'its attention matrices can be compared with the known answer (the diagonal for copy, the anti-diagonal for ' +
    'reverse, the sorting permutation for sort). About 18 K parameters.',
  paper: VASWANI,
  dataset: SEQ('reverse'),
  training: ADAM(0.005, 64, 10),
  composites: [postNormEncoder],
  build(b) {
    let x = b.chain(tokens(b), ['embed', 'core.embedding', { vocabSize: V, dim: 32 }], ['positions', 'core.positionalEncoding', { mode: 'learned', maxLength: T }]);
    x = b.use(x, 'encoders', postNormEncoder, 2, { label: 'Encoder ×2' });
    tokenHead(b, x);
  },
});

const transformerSeq2seq = template({
  file: 'transformer-seq2seq',
  name: 'Transformer encoder-decoder (reverse, sort)',
  description:
    'A Transformer encoder-decoder for the reverse and sort tasks: the source tokens (embeddings 32 and learned ' +
    'positions) go through an encoder layer; a decoder layer (2 heads, feed-forward 64) reads the same embedded ' +
    'positions as its queries, with non-causal self-attention since the whole output is predicted at once (the ' +
    'datasets give no shifted target sequence for teacher forcing), and cross-attends to the encoder output; a ' +
    'position-wise softmax gives the output tokens. The cross-attention matrix is the alignment: the anti-diagonal ' +
    'for reverse, the sorting permutation for sort. About 22 K parameters.',
  paper: VASWANI,
  dataset: SEQ('reverse'),
  training: ADAM(0.005, 64, 10),
  build(b) {
    const src = b.chain(tokens(b), ['embed', 'core.embedding', { vocabSize: V, dim: 32 }], ['positions', 'core.positionalEncoding', { mode: 'learned', maxLength: T }]);
    const memory = b.then(src, 'encoder', 'attention.transformerEncoder', { heads: 2, ffDim: 64, dropout: 0 }, { row: 1 });
    b.node('decoder', 'attention.transformerDecoder', { heads: 2, ffDim: 64, dropout: 0, causal: false }, { in: src, memory });
    tokenHead(b, 'decoder.out');
  },
});

/** Embedded tokens read by an encoder GRU (its states are the keys and values) and a decoder GRU over them (its states are the queries). */
function gruEncoderDecoder(b: Builder): { keys: Out; queries: Out } {
  const keys = b.chain(tokens(b), ['embed', 'core.embedding', { vocabSize: V, dim: 32 }], ['encoder', 'core.gru', { units: 64, returnSequences: true }]);
  const queries = b.then(keys, 'decoder', 'core.gru', { units: 64, returnSequences: true }, { row: 1 });
  return { keys, queries };
}

const gruBahdanau = template({
  file: 'gru-seq2seq-bahdanau',
  name: 'GRU seq2seq with Bahdanau attention',
  description:
    'A recurrent encoder-decoder with additive attention (Bahdanau et al.): a GRU (64 units) encodes the embedded ' +
    'tokens; a decoder GRU runs over the encoder states, and at every step its state scores all encoder states with ' +
    'vᵀ tanh(W₁ s + W₂ h) (32 units); the attention-weighted context and the decoder state, concatenated, predict ' +
    'the output token. The decoder is not fed its own previous outputs (the tasks give one input sequence), so this ' +
    'is a non-autoregressive seq2seq. On reverse the attention matrix should become the anti-diagonal. About 49 K ' +
    'parameters.',
  paper: 'Bahdanau, Cho & Bengio (2015). Neural Machine Translation by Jointly Learning to Align and Translate. ICLR.',
  dataset: SEQ('reverse'),
  training: ADAM(0.005, 64, 10),
  build(b) {
    const { keys, queries } = gruEncoderDecoder(b);
    b.node('attention', 'attention.additive', { units: 32 }, { query: queries, keys, values: keys });
    b.node('combine', 'core.concatenate', {}, { in1: queries, in2: 'attention.out' });
    tokenHead(b, 'combine.out');
  },
});

const gruLuong = template({
  file: 'gru-seq2seq-luong',
  name: 'GRU seq2seq with Luong attention',
  description:
    'A recurrent encoder-decoder with multiplicative attention (Luong et al.): a GRU (64 units) encodes the embedded ' +
    'tokens; a decoder GRU runs over the encoder states; each decoder state s scores the encoder states with the ' +
    '"general" score sᵀ W h, the context c is their weighted sum, and the attentional state h̃ = tanh(W_c [c; s]) ' +
    'predicts the output token. Non-autoregressive, since the tasks give one input sequence. On reverse the ' +
    'attention matrix should become the anti-diagonal. About 57 K parameters.',
  paper: 'Luong, Pham & Manning (2015). Effective Approaches to Attention-based Neural Machine Translation. EMNLP.',
  dataset: SEQ('reverse'),
  training: ADAM(0.005, 64, 10),
  build(b) {
    const { keys, queries } = gruEncoderDecoder(b);
    b.node('attention', 'attention.luong', { score: 'general' }, { query: queries, keys, values: keys });
    b.node('combine', 'core.concatenate', {}, { in1: 'attention.out', in2: queries });
    tokenHead(b, b.then('combine.out', 'attentional', 'core.dense', { units: 64, activation: 'tanh' }));
  },
});

const RECALL_T = 12;
const RECALL_V = 16;
const memoryHop = compositeOf(
  'hop',
  'Memory hop',
  'One hop of an end-to-end memory network: the memory is embedded twice (input memory A, output memory C, no biases), ' +
    'the controller state u reads p = softmax(u·A x) (scaled by 1/√d) and o = Σ p C x, and the next state is u + o.',
  { inputs: ['u', 'memory'], outputs: ['out'] },
  (b, i) => {
    const keys = b.then(i.memory, 'A', 'core.dense', { units: 32, useBias: false }, { row: 1, label: 'input memory A' });
    const values = b.then(i.memory, 'C', 'core.dense', { units: 32, useBias: false }, { row: 2, label: 'output memory C' });
    b.node('read', 'attention.scaledDotProduct', {}, { query: i.u, key: keys, value: values });
    return { out: `${b.node('next', 'core.add', {}, { in1: i.u, in2: 'read.out' })}.out` };
  },
);

const memoryNetwork = template({
  file: 'memory-network-recall',
  name: 'Memory network, 3 hops (associative recall)',
  description:
    'An end-to-end memory network with three hops for associative recall: a sequence holds 4 key-value pairs ' +
    'followed by 4 queries (keys), and each query must answer the value stored under its key. Every token, ' +
    'embedded with its sinusoidal position, is a memory item, and every position asks its own question: the ' +
    'controller state starts as u = B x and each hop reads the memory with dot-product attention and adds what it ' +
    'read. One hop can find the key; the next can step to the value beside it (a shift of a sinusoidal position is ' +
    'linear), so the three read matrices show the reasoning hop by hop. Training typically sits near 40% accuracy ' +
    'for a while and then jumps to 100% once the hops line up. Built from dot-product attention blocks, since the ' +
    'Memory network hops block answers one question per sample and this task asks one per position; the hops are ' +
    'untied. About 8 K parameters.',
  paper: 'Sukhbaatar, Szlam, Weston & Fergus (2015). End-To-End Memory Networks. NeurIPS.',
  dataset: { name: 'recall', length: RECALL_T, vocab: RECALL_V, size: 8192 },
  training: ADAM(0.01, 64, 30),
  composites: [memoryHop],
  build(b) {
    const memory = b.chain(
      tokens(b, RECALL_T, RECALL_V),
      ['embed', 'core.embedding', { vocabSize: RECALL_V, dim: 32 }],
      ['positions', 'core.positionalEncoding', { mode: 'sinusoidal', maxLength: RECALL_T }],
    );
    let u = b.then(memory, 'question', 'core.dense', { units: 32, useBias: false }, { label: 'question embedding B' });
    for (const k of [1, 2, 3]) u = `${b.node(`hop${k}`, compositeType(memoryHop.id), {}, { u, memory }, { label: `hop ${k}` })}.out`;
    tokenHead(b, u, RECALL_V);
  },
});

/** A bottleneck whose 3×3 convolution is local self-attention (Ramachandran et al.), with a projection shortcut. */
function attentionBottleneck(id: string, mid: number, out: number, kernel: number): CompositeDef {
  return composite(
    id,
    `Attention bottleneck ${mid}→${out}`,
    `conv 1×1 → BN → ReLU → local self-attention (${kernel}×${kernel} windows, 2 heads) → BN → ReLU → conv 1×1 → BN, added to a 1×1 projection of the input, ReLU.`,
    (b, x) => {
      let y = b.chain(x, ['reduce', 'core.conv2d', conv(mid, 1)], ['bn1', 'core.batchNorm'], ['relu1', 'core.activation', RELU]);
      y = b.chain(y, ['attention', 'attention.localSelfAttention2d', { channels: mid, heads: 2, kernel }], ['bn2', 'core.batchNorm'], ['relu2', 'core.activation', RELU]);
      y = b.chain(y, ['expand', 'core.conv2d', conv(out, 1)], ['bn3', 'core.batchNorm']);
      const shortcut = b.then(b.then(x, 'proj', 'core.conv2d', conv(out, 1), { row: 1 }), 'projbn', 'core.batchNorm', {}, { row: 1 });
      b.node('add', 'core.add', {}, { in1: y, in2: shortcut });
      return b.then('add.out', 'relu3', 'core.activation', RELU);
    },
  );
}

const sasaResnet = (() => {
  const block1 = attentionBottleneck('attn1', 16, 32, 5);
  const block2 = attentionBottleneck('attn2', 32, 64, 3);
  return template({
    file: 'sasa-resnet-mnist',
    name: 'Stand-alone self-attention ResNet (MNIST)',
    description:
      'A small ResNet in which the spatial convolutions of the bottlenecks are replaced by local self-attention ' +
      '(Ramachandran et al.): every position attends, with 2 heads and relative row/column embeddings, to its k×k ' +
      'neighbourhood. A convolutional stem (as in the paper), 2×2 average pooling to 14², an attention bottleneck ' +
      '(5×5 windows, 32 channels), pooling to 7², a second one (3×3 windows, 64 channels), global pooling and a ' +
      '10-way classifier. About 12 K parameters; the attention over each window is an attention output.',
    paper: 'Ramachandran, Parmar, Vaswani, Bello, Levskaya & Shlens (2019). Stand-Alone Self-Attention in Vision Models. NeurIPS.',
    dataset: MNIST,
    training: ADAM(0.003, 64, 3),
    composites: [block1, block2],
    build(b) {
      let x = b.chain(`${b.node('image', 'io.input', MNIST_INPUT)}.out`, ['stem', 'core.conv2d', conv(16, 3)], ['bn', 'core.batchNorm'], ['relu', 'core.activation', RELU]);
      x = b.use(b.then(x, 'pool1', 'core.pool2d', { mode: 'avg', size: 2, stride: 2 }), 'block1', block1);
      x = b.use(b.then(x, 'pool2', 'core.pool2d', { mode: 'avg', size: 2, stride: 2 }), 'block2', block2);
      const probs = `${b.node('head', 'core.classificationHead', { classes: 10 }, { in: b.then(x, 'gap', 'core.globalPool2d', { mode: 'avg' }) })}.probs`;
      b.node('y', 'io.output', {}, { in: probs });
    },
  });
})();

export const smallTemplates = [seResnet20, cbamResnet20, vitMnist, transformerEncoderSeq, transformerSeq2seq, gruBahdanau, gruLuong, memoryNetwork, sasaResnet];
