import { defineBlock, type Shape } from './contract.js';

interface InputParams {
  kind: 'image' | 'sequence' | 'tokens' | 'vector';
  height: number;
  width: number;
  channels: number;
  length: number;
  features: number;
  sentences: number;
}

/** The input's shape without the batch axis. */
function shapeOf(p: InputParams): number[] {
  switch (p.kind) {
    case 'image':
      return [p.height, p.width, p.channels];
    case 'sequence':
      return [p.length, p.features];
    case 'tokens':
      return p.sentences > 0 ? [p.sentences, p.length] : [p.length];
    case 'vector':
      return [p.features];
  }
}

export default defineBlock({
  type: 'io.input',
  label: 'Input',
  category: 'Inputs & outputs',
  doc:
    'A model input. Choose what it carries: an image (height × width × channels, NHWC), a sequence of feature ' +
    'vectors (time × features), a sequence of integer token ids (time, with the vocabulary size that an Embedding ' +
    'after it needs), or a flat vector. The batch axis is added for you.',
  params: {
    kind: { type: 'enum', options: ['image', 'sequence', 'tokens', 'vector'], default: 'image', doc: 'What the input carries.' },
    height: { type: 'int', default: 28, min: 1, max: 4096, doc: 'Image height (image).', shownWhen: { kind: ['image'] } },
    width: { type: 'int', default: 28, min: 1, max: 4096, doc: 'Image width (image).', shownWhen: { kind: ['image'] } },
    channels: { type: 'int', default: 1, min: 1, max: 4096, doc: 'Image channels (image).', shownWhen: { kind: ['image'] } },
    length: { type: 'int', default: 16, min: 1, max: 100000, doc: 'Sequence length T (sequence, tokens).', shownWhen: { kind: ['sequence', 'tokens'] } },
    features: {
      type: 'int',
      default: 8,
      min: 1,
      max: 100000,
      doc: 'Features per step (sequence) or vector size (vector).',
      shownWhen: { kind: ['sequence', 'vector'] },
    },
    vocabSize: { type: 'int', default: 32, min: 2, max: 10000000, doc: 'Number of distinct token ids (tokens).', shownWhen: { kind: ['tokens'] } },
    sentences: {
      type: 'int',
      default: 0,
      min: 0,
      max: 4096,
      doc: 'Sentences S per text for hierarchical models (tokens): the ids come as [S, T], one row of T words per sentence. 0: one flat sequence [T].',
      shownWhen: { kind: ['tokens'] },
    },
  },
  inputs: [],
  outputs: (p) => [
    {
      name: 'out',
      doc: 'The input tensor.',
      dtype: p.kind === 'tokens' ? 'int32' : 'float32',
    },
  ],
  inferShape({ params: p }) {
    const out: Shape = [null, ...shapeOf(p)];
    return { out };
  },
  build(tf, { params: p, name }) {
    return { out: tf.input({ shape: shapeOf(p), name, dtype: p.kind === 'tokens' ? 'int32' : 'float32' }) };
  },
  emit: {
    tfjs: ({ params: p, outputs, layer }) => ({
      body: [
        `const ${outputs.out} = tf.input({ shape: [${shapeOf(p).join(', ')}], dtype: '${p.kind === 'tokens' ? 'int32' : 'float32'}', name: '${layer}' });`,
      ],
    }),
    keras: ({ params: p, outputs, layer }) => ({
      body: [`${outputs.out} = keras.Input(shape=(${shapeOf(p).join(', ')},), dtype="${p.kind === 'tokens' ? 'int32' : 'float32'}", name="${layer}")`],
    }),
    pytorch: () => ({ body: [] }),
  },
  examples: [
    { params: { kind: 'image', height: 28, width: 28, channels: 1 }, inputs: {} },
    { params: { kind: 'sequence', length: 10, features: 4 }, inputs: {} },
    { params: { kind: 'tokens', length: 12 }, inputs: {} },
    { params: { kind: 'tokens', length: 6, sentences: 4 }, inputs: {} },
    { params: { kind: 'vector', features: 20 }, inputs: {} },
  ],
});
