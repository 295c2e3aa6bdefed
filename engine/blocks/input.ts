import { defineBlock, type Shape } from './contract.js';

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
    let out: Shape;
    switch (p.kind) {
      case 'image':
        out = [null, p.height, p.width, p.channels];
        break;
      case 'sequence':
        out = [null, p.length, p.features];
        break;
      case 'tokens':
        out = [null, p.length];
        break;
      case 'vector':
        out = [null, p.features];
        break;
    }
    return { out };
  },
  build(tf, { params: p, name }) {
    const shape =
      p.kind === 'image' ? [p.height, p.width, p.channels] : p.kind === 'sequence' ? [p.length, p.features] : p.kind === 'tokens' ? [p.length] : [p.features];
    return { out: tf.input({ shape, name, dtype: p.kind === 'tokens' ? 'int32' : 'float32' }) };
  },
  emit: {
    tfjs: ({ params: p, outputs, layer }) => {
      const shape =
        p.kind === 'image' ? [p.height, p.width, p.channels] : p.kind === 'sequence' ? [p.length, p.features] : p.kind === 'tokens' ? [p.length] : [p.features];
      return {
        body: [`const ${outputs.out} = tf.input({ shape: [${shape.join(', ')}], dtype: '${p.kind === 'tokens' ? 'int32' : 'float32'}', name: '${layer}' });`],
      };
    },
    keras: ({ params: p, outputs, layer }) => {
      const shape =
        p.kind === 'image' ? [p.height, p.width, p.channels] : p.kind === 'sequence' ? [p.length, p.features] : p.kind === 'tokens' ? [p.length] : [p.features];
      return { body: [`${outputs.out} = keras.Input(shape=(${shape.join(', ')},), dtype="${p.kind === 'tokens' ? 'int32' : 'float32'}", name="${layer}")`] };
    },
    pytorch: () => ({ body: [] }),
  },
  examples: [
    { params: { kind: 'image', height: 28, width: 28, channels: 1 }, inputs: {} },
    { params: { kind: 'sequence', length: 10, features: 4 }, inputs: {} },
    { params: { kind: 'tokens', length: 12 }, inputs: {} },
    { params: { kind: 'vector', features: 20 }, inputs: {} },
  ],
});
