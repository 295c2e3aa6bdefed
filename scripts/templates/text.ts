// Templates that read words: document classification on the built-in "spam"
// corpus (SpamAssassin message bodies), with attention over the words.
import { template, type Out, type Builder } from './builder.js';

/** Words kept per message and the vocabulary size (PAD and UNK included): a message's first 64 words say whether it is spam. */
const LENGTH = 64;
const VOCAB = 8000;
const SPAM = { name: 'spam', length: LENGTH, vocab: VOCAB, minCount: 2 };
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

export const textTemplates = [bigruAttentionSpam];
