// Templates that read words: document classification on the built-in "spam"
// corpus (SpamAssassin message bodies), with attention over the words.
import { template, type Out, type Builder } from './builder.js';

/** Words kept per message and the vocabulary size (PAD and UNK included): a message's first 64 words say whether it is spam. */
const LENGTH = 64;
const VOCAB = 8000;
const SPAM = { name: 'spam', length: LENGTH, vocab: VOCAB, minCount: 2 };
const VASWANI = 'Vaswani, A. et al. (2017). Attention Is All You Need. NeurIPS.';
const YANG = 'Yang, Z., Yang, D., Dyer, C., He, X., Smola, A. & Hovy, E. (2016). Hierarchical Attention Networks for Document Classification. NAACL-HLT.';

const words = (b: Builder): Out => `${b.node('words', 'io.input', { kind: 'tokens', length: LENGTH, vocabSize: VOCAB })}.out`;

const bigruAttentionSpam = template({
  file: 'bigru-attention-spam',
  name: 'BiGRU with word attention (spam)',
  description:
    'A document classifier that shows which words decided: word ids are embedded (64), read both ways by a ' +
    'bidirectional GRU (2 × 32 units), and pooled by additive attention against a learned context vector (Yang et ' +
    'al. 2016\'s word attention); a dense softmax says ham or spam. The attention mask is the word ids themselves, ' +
    'so padding gets no weight. Trained on the built-in SpamAssassin corpus (message bodies only, the first 64 ' +
    'words, a vocabulary of the 8,000 commonest training words); its attention weights shade each message\'s words. ' +
    'About 0.54 M parameters, most of them the embedding.',
  paper: YANG,
  dataset: SPAM,
  training: { optimizer: 'adam', learningRate: 0.003, batchSize: 32, epochs: 3 },
  build(b) {
    const ids = words(b);
    const states = b.chain(ids, ['embed', 'core.embedding', { vocabSize: VOCAB, dim: 64 }], ['bigru', 'core.gru', { units: 32, returnSequences: true, bidirectional: true }]);
    b.node('attention', 'attention.pooling', { units: 64 }, { in: states, mask: ids });
    const probs = b.then('attention.out', 'classify', 'core.dense', { units: 2, activation: 'softmax' });
    b.node('y', 'io.output', { loss: 'sparseCategoricalCrossentropy' }, { in: probs });
  },
});

const transformerSpam = template({
  file: 'transformer-spam',
  name: 'Transformer encoder classifier (spam)',
  description:
    'A small Transformer text classifier: word ids are embedded (32) with learned positions, read by two ' +
    'post-norm encoder layers (4 heads, feed-forward 64) whose self-attention skips padding (the word ids are ' +
    'the mask), and pooled by additive attention over the words before a dense softmax says ham or spam. The ' +
    "Attention tab shows each head's word-to-word weights, labelled with the message's words, and the words " +
    'shaded by the pooling. Trained on the built-in SpamAssassin corpus (first 64 words, 8,000-word vocabulary). ' +
    'About 0.29 M parameters, most of them the embedding.',
  paper: VASWANI,
  dataset: SPAM,
  training: { optimizer: 'adam', learningRate: 0.002, batchSize: 32, epochs: 3 },
  build(b) {
    const ids = words(b);
    let x = b.chain(ids, ['embed', 'core.embedding', { vocabSize: VOCAB, dim: 32 }], ['positions', 'core.positionalEncoding', { mode: 'learned', maxLength: LENGTH }]);
    for (const layer of ['encoder1', 'encoder2']) {
      b.node(layer, 'attention.transformerEncoder', { heads: 4, ffDim: 64, dropout: 0.1 }, { in: x, mask: ids });
      x = `${layer}.out`;
    }
    b.node('attention', 'attention.pooling', { units: 32 }, { in: x, mask: ids });
    const probs = b.then('attention.out', 'classify', 'core.dense', { units: 2, activation: 'softmax' });
    b.node('y', 'io.output', { loss: 'sparseCategoricalCrossentropy' }, { in: probs });
  },
});

/** HAN reads the first SENTENCES sentences of a message, each cut to WORDS words. */
const SENTENCES = 8;
const WORDS = 16;

const hanSpam = template({
  file: 'han-spam',
  name: 'Hierarchical Attention Network (spam)',
  description:
    "Yang et al. (2016)'s Hierarchical Attention Network: a message is split into sentences (the first 8, each cut " +
    'to 16 words), its word ids are embedded (64), and every sentence is read by the same word encoder, a ' +
    'bidirectional GRU (2 × 32) with additive attention against a learned word context vector. The sentence vectors ' +
    'are read by a second bidirectional GRU (2 × 32) and pooled by sentence attention (empty sentences masked out); a ' +
    'dense softmax says ham or spam. The Attention tab and Inspect show the message with every word shaded by its ' +
    'word attention and every sentence by its sentence attention. Trained on the built-in SpamAssassin corpus ' +
    '(message bodies only, 8,000-word vocabulary). About 0.54 M parameters, most of them the embedding.',
  paper: YANG,
  dataset: { ...SPAM, length: WORDS, sentences: SENTENCES },
  training: { optimizer: 'adam', learningRate: 0.003, batchSize: 32, epochs: 3 },
  build(b) {
    const ids = `${b.node('words', 'io.input', { kind: 'tokens', sentences: SENTENCES, length: WORDS, vocabSize: VOCAB })}.out`;
    const embedded = b.then(ids, 'embed', 'core.embedding', { vocabSize: VOCAB, dim: 64 });
    b.node('wordAttention', 'core.perSentence', { cell: 'gru', units: 32, bidirectional: true, attentionUnits: 64 }, { in: embedded, mask: ids });
    const states = b.then('wordAttention.out', 'sentenceGru', 'core.gru', { units: 32, returnSequences: true, bidirectional: true });
    b.node('sentenceAttention', 'attention.pooling', { units: 64 }, { in: states, mask: 'wordAttention.sentences' });
    const probs = b.then('sentenceAttention.out', 'classify', 'core.dense', { units: 2, activation: 'softmax' });
    b.node('y', 'io.output', { loss: 'sparseCategoricalCrossentropy' }, { in: probs });
  },
});

export const textTemplates = [bigruAttentionSpam, transformerSpam, hanSpam];
