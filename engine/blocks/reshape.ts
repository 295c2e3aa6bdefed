import { defineBlock, ShapeError, type Shape } from './contract.js';
import { fmtShape, product } from './shape-rules.js';
import { channelsFirst, channelsLast, kerasLayer, tsLayer } from './emit/snippets.js';

/** The output shape without the batch axis, -1 resolved; null where the input's size is unknown. */
function resolveTarget(x: Shape, target: readonly number[]): Shape {
  const text = `[${target.join(', ')}]`;
  if (target.includes(0)) throw new ShapeError(`target shape ${text} has a 0: sizes must be positive or -1`, 'in');
  const free = target.filter((d) => d === -1).length;
  if (free > 1) throw new ShapeError(`target shape ${text} has ${free} entries of -1; at most one size can be inferred`, 'in');
  const have = product(x.slice(1));
  const known = target.reduce((a, d) => (d === -1 ? a : a * d), 1);
  if (have === null) return target.map((d) => (d === -1 ? null : d));
  if (free === 0 && known !== have) throw new ShapeError(`cannot reshape ${fmtShape(x)} (${have} elements per sample) into ${text} (${known} elements)`, 'in');
  if (free === 1 && have % known !== 0)
    throw new ShapeError(`cannot reshape ${fmtShape(x)} (${have} elements per sample) into ${text}: ${have} is not a multiple of ${known}`, 'in');
  return target.map((d) => (d === -1 ? have / known : d));
}

export default defineBlock({
  type: 'core.reshape',
  label: 'Reshape',
  category: 'Reshaping',
  doc:
    'Gives each sample a new shape with the same number of elements, read and written in row-major order (the last ' +
    'axis varies fastest), as NumPy, Keras and PyTorch do. The target shape leaves out the batch axis; one entry may ' +
    'be -1, which takes whatever size makes the element count match: [-1, 64] turns a [B, 7, 7, 64] feature map into ' +
    'a sequence of 49 tokens.',
  params: {
    shape: { type: 'ints', default: [-1], minLength: 1, maxLength: 6, min: -1, max: 1000000, doc: 'Target shape without the batch axis; one entry may be -1.' },
  },
  inputs: [{ name: 'in', doc: 'Any tensor.' }],
  outputs: [{ name: 'out', doc: '[B, ...shape].' }],
  inferShape({ params: p, inputs }) {
    return { out: [inputs.in[0], ...resolveTarget(inputs.in, p.shape)] };
  },
  build(tf, { params: p, inputs, name }) {
    // tfjs's Reshape leaves a -1 unresolved in its symbolic shape (it counts the batch axis as unknown),
    // which later layers such as Dense cannot build on, so it gets the resolved shape where that is known.
    const targetShape = resolveTarget(inputs.in.shape, p.shape).map((d) => d ?? -1);
    return { out: tf.layers.reshape({ targetShape, name }).apply(inputs.in) as never };
  },
  emit: {
    tfjs: ({ params: p, inputs, inputShapes, outputs, layer }) => ({
      body: [tsLayer(outputs.out, 'reshape', { targetShape: resolveTarget(inputShapes.in, p.shape).map((d) => d ?? -1), name: layer }, inputs.in)],
    }),
    keras: ({ params: p, inputs, inputShapes, outputs, layer }) => ({
      body: [kerasLayer(outputs.out, 'Reshape', [resolveTarget(inputShapes.in, p.shape).map((d) => d ?? -1)], { name: layer }, inputs.in)],
    }),
    pytorch({ params: p, inputs, inputShapes, outputs }) {
      const target = resolveTarget(inputShapes.in, p.shape);
      const known = target.every((d) => d !== null);
      const dims = known ? ['-1', ...target.map(String)] : [`${inputs.in}.shape[0]`, ...target.map((d) => String(d ?? -1))];
      // Row-major order is the graph's: an image is read, and written, channels last.
      const source = inputShapes.in.length === 4 ? channelsLast(inputs.in) : inputs.in;
      const reshaped = `${source}.reshape(${dims.join(', ')})`;
      const image = target.length === 3;
      const note = inputShapes.in.length === 4 || image ? '  # in NHWC order, as in the graph' : '';
      return { body: [`${outputs.out} = ${image ? channelsFirst(reshaped) : reshaped}${note}`] };
    },
  },
  examples: [
    { params: { shape: [-1, 8] }, inputs: { in: [null, 4, 4, 8] } },
    { params: { shape: [2, 3, 4] }, inputs: { in: [null, 24] } },
    { params: { shape: [6, -1, 1] }, inputs: { in: [null, 3, 4] } },
  ],
});
