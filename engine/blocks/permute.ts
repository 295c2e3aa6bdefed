import { defineBlock, ShapeError } from './contract.js';
import { fmtShape } from './shape-rules.js';
import { kerasLayer, tsLayer } from './emit/snippets.js';

export default defineBlock({
  type: 'core.permute',
  label: 'Permute',
  category: 'Reshaping',
  doc:
    "Reorders the non-batch axes, as Keras's Permute: `dims` lists, for each output axis, which input axis it takes, " +
    'counting from 1 (the batch axis stays first). [2, 1] swaps time and features of a sequence [B, T, F] into ' +
    "[B, F, T]; [3, 1, 2] moves an image's channels first. In PyTorch it is x.permute(0, *dims).",
  params: {
    dims: { type: 'ints', default: [2, 1], minLength: 1, maxLength: 6, min: 1, max: 7, doc: 'A permutation of 1..rank−1 (1-based, batch axis excluded).' },
  },
  inputs: [{ name: 'in', doc: 'Any tensor of rank 2 or more.' }],
  outputs: [{ name: 'out', doc: 'The input with its axes reordered.' }],
  inferShape({ params: p, inputs }) {
    const x = inputs.in;
    const n = x.length - 1;
    const sorted = [...p.dims].sort((a, b) => a - b);
    if (p.dims.length !== n || sorted.some((d, i) => d !== i + 1))
      throw new ShapeError(
        `dims [${p.dims.join(', ')}] is not a permutation of 1..${n}: a rank-${x.length} input ${fmtShape(x)} has ${n} non-batch ` +
          `axes, and each must appear once`,
        'in',
      );
    return { out: [x[0], ...p.dims.map((d) => x[d])] };
  },
  build(tf, { params: p, inputs, name }) {
    return { out: tf.layers.permute({ dims: p.dims, name }).apply(inputs.in) as never };
  },
  emit: {
    tfjs: ({ params: p, inputs, outputs, layer }) => ({ body: [tsLayer(outputs.out, 'permute', { dims: p.dims, name: layer }, inputs.in)] }),
    keras: ({ params: p, inputs, outputs, layer }) => ({ body: [kerasLayer(outputs.out, 'Permute', [p.dims], { name: layer }, inputs.in)] }),
    pytorch({ params: p, inputs, inputShapes, outputs }) {
      const graphOrder = [0, ...p.dims];
      if (inputShapes.in.length !== 4) return { body: [`${outputs.out} = ${inputs.in}.permute(${graphOrder.join(', ')})`] };
      // Both ends are NCHW here: PyTorch axis j is the graph's axis NHWC[j], and graph axis a is PyTorch's NCHW_OF[a].
      const NHWC = [0, 3, 1, 2];
      const NCHW_OF = [0, 2, 3, 1];
      const order = NHWC.map((a) => NCHW_OF[graphOrder[a]]);
      const dims = `(${p.dims.join(', ')})`;
      return { body: [`${outputs.out} = ${inputs.in}.permute(${order.join(', ')})  # the graph's NHWC permute${dims}, on NCHW tensors`] };
    },
  },
  examples: [
    { inputs: { in: [null, 5, 3] } },
    { params: { dims: [3, 1, 2] }, inputs: { in: [null, 4, 6, 2] } },
    { params: { dims: [1, 3, 2] }, inputs: { in: [null, 2, 3, 5] } },
  ],
});
