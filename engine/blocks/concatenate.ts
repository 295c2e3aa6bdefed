import { defineBlock, ShapeError, type Shape } from './contract.js';
import { fmtShape } from './shape-rules.js';
import { merged, mergedList, mergeInputs } from './elementwise.js';
import { kerasLayer, tsLayer } from './emit/snippets.js';
import { torchDim } from './emit/format.js';

export default defineBlock({
  type: 'core.concatenate',
  label: 'Concatenate',
  category: 'Merge',
  doc: 'Joins its inputs along one axis (default: the last, i.e. channels or features); every other axis must agree.',
  params: {
    inputs: { type: 'int', default: 2, min: 2, max: 8, doc: 'Number of inputs.' },
    axis: { type: 'int', default: -1, min: -8, max: 8, doc: 'Axis to join along; negative counts from the end; not the batch axis.' },
  },
  inputs: (p) => mergeInputs(p.inputs),
  outputs: [{ name: 'out', doc: 'The joined tensor.' }],
  inferShape({ params: p, inputs }) {
    const first = inputs.in1;
    const axis = p.axis < 0 ? first.length + p.axis : p.axis;
    if (axis < 1 || axis >= first.length) throw new ShapeError(`axis ${p.axis} is outside the non-batch axes of rank ${first.length}`, 'in1');
    const out: Shape = [...first];
    for (let i = 2; i <= p.inputs; i++) {
      const port = `in${i}`;
      const s = inputs[port];
      if (s.length !== first.length) throw new ShapeError(`rank ${s.length} ${fmtShape(s)} differs from in1's rank ${first.length} ${fmtShape(first)}`, port);
      for (let a = 1; a < s.length; a++) {
        if (a === axis) continue;
        if (s[a] !== null && first[a] !== null && s[a] !== first[a])
          throw new ShapeError(`axis ${a} is ${s[a]} but in1 has ${first[a]} (${fmtShape(s)} vs ${fmtShape(first)})`, port);
      }
      out[axis] = out[axis] === null || s[axis] === null ? null : (out[axis] as number) + (s[axis] as number);
    }
    return { out };
  },
  build(tf, { params: p, inputs, name }) {
    const xs = merged(p.inputs, inputs);
    return { out: tf.layers.concatenate({ axis: p.axis, name }).apply(xs) as never };
  },
  emit: {
    tfjs: ({ params: p, inputs, outputs, layer }) => ({
      body: [tsLayer(outputs.out, 'concatenate', { axis: p.axis, name: layer }, mergedList(p.inputs, inputs))],
    }),
    keras: ({ params: p, inputs, outputs, layer }) => ({
      body: [kerasLayer(outputs.out, 'Concatenate', [], { axis: p.axis, name: layer }, mergedList(p.inputs, inputs))],
    }),
    pytorch: ({ params: p, inputs, inputShapes, outputs }) => ({
      body: [`${outputs.out} = torch.cat(${mergedList(p.inputs, inputs)}, dim=${torchDim(p.axis, inputShapes.in1.length)})`],
    }),
  },
  examples: [
    { inputs: { in1: [null, 8, 8, 4], in2: [null, 8, 8, 6] } },
    { params: { inputs: 3, axis: 1 }, inputs: { in1: [null, 2, 5], in2: [null, 3, 5], in3: [null, 1, 5] } },
  ],
});
