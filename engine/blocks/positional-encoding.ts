import { kerasHelper, tfjsHelper, torchHelper } from './emit/torch-helper.js';
import { defineBlock, ShapeError } from './contract.js';
import { expectRank } from './shape-rules.js';
import { positionalEncodingLayer } from './core-layers.js';
import { pyArgs, tsObject } from './emit/snippets.js';

export default defineBlock({
  type: 'core.positionalEncoding',
  label: 'Positional encoding',
  category: 'Sequence',
  doc:
    'Adds position information to a sequence [B, T, D], which attention alone cannot see (it treats its input as a ' +
    'set). "sinusoidal" adds the fixed code of Vaswani et al. (2017), sin(pos / 10000^(2i/D)) on even features and ' +
    'cos on odd ones, with no weights; "learned" adds a trained row per position from a maxLength × D table ' +
    '(BERT, GPT-2, ViT), initialised from a normal with σ = 0.02. Sequences longer than maxLength are refused. The ' +
    'original Transformer also multiplies its embeddings by √D before adding the code; this block only adds.',
  paper: 'Vaswani et al. (2017). Attention Is All You Need.',
  params: {
    mode: { type: 'enum', options: ['sinusoidal', 'learned'], default: 'sinusoidal', doc: 'Fixed sinusoids or a learned table.' },
    maxLength: { type: 'int', default: 512, min: 1, max: 100000, doc: 'Longest sequence accepted (rows of the learned table).' },
  },
  inputs: [{ name: 'in', doc: 'Sequence [B, T, D].', rank: 3 }],
  outputs: [{ name: 'out', doc: 'Same shape, positions added.' }],
  inferShape({ params: p, inputs }) {
    const x = expectRank(inputs.in, 'in', 3, 'a sequence [B, T, D]');
    const t = x[1];
    if (t === null) throw new ShapeError('the sequence length must be known to add positions', 'in');
    if (t > p.maxLength) throw new ShapeError(`sequence length ${t} is longer than maxLength ${p.maxLength}: raise maxLength to at least ${t}`, 'in');
    if (x[2] === null) throw new ShapeError('the feature size must be known to add positions', 'in');
    return { out: [...x] };
  },
  build(tf, { params: p, inputs, name, init }) {
    const layer = new (positionalEncodingLayer(tf))({ mode: p.mode, maxLength: p.maxLength, initializer: init.normal(0.02), name });
    return { out: layer.apply(inputs.in) as never };
  },
  emit: {
    tfjs: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        `const ${outputs.out} = new (positionalEncodingLayer(tf))(${tsObject({ mode: p.mode, maxLength: p.maxLength, name: layer })}).apply(${inputs.in}) as tf.SymbolicTensor;`,
      ],
      helpers: [tfjsHelper('positionalEncodingLayer', 'core-layers.ts')],
    }),
    keras: ({ params: p, inputs, outputs, layer }) => ({
      body: [`${outputs.out} = PositionalEncoding(${pyArgs([], { mode: p.mode, max_length: p.maxLength, name: layer })})(${inputs.in})`],
      helpers: [kerasHelper('PositionalEncoding', 'layers.py')],
    }),
    pytorch: ({ params: p, inputs, inputShapes, outputs, name }) => ({
      init: [
        `self.${name} = PositionalEncoding(${pyArgs([inputShapes.in[2]], { max_length: p.maxLength, learned: p.mode === 'learned' ? true : undefined })})`,
      ],
      body: [`${outputs.out} = self.${name}(${inputs.in})`],
      helpers: [torchHelper('PositionalEncoding', 'layers.py')],
      torchWeights: p.mode === 'learned' ? [{ torch: 'table', tfjs: 'embeddings' }] : [],
    }),
  },
  examples: [
    { params: { mode: 'sinusoidal' }, inputs: { in: [null, 10, 8] } },
    { params: { mode: 'learned', maxLength: 16 }, inputs: { in: [null, 12, 6] } },
    { params: { mode: 'sinusoidal', maxLength: 5 }, inputs: { in: [null, 5, 7] } },
  ],
});
