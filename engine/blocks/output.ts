import { defineBlock } from './contract.js';
import { kerasLayer, tsLayer } from './emit/snippets.js';

export const LOSSES = [
  'auto',
  'categoricalCrossentropy',
  'sparseCategoricalCrossentropy',
  'binaryCrossentropy',
  'meanSquaredError',
  'meanAbsoluteError',
  'none',
] as const;

export default defineBlock({
  type: 'io.output',
  label: 'Output',
  category: 'Inputs & outputs',
  doc:
    "A model output. Whatever is wired into it becomes one of the compiled model's outputs, trained with the chosen " +
    'loss and weight ("auto" takes the loss the block before it suggests, e.g. cross-entropy after a classification ' +
    'head; "none" makes an output that is computed and shown but not trained). A graph needs at least one.',
  params: {
    loss: { type: 'enum', options: LOSSES, default: 'auto', doc: 'Loss for this output.' },
    weight: { type: 'float', default: 1, min: 0, max: 1000, doc: 'Weight of this loss in the total loss.' },
  },
  inputs: [{ name: 'in', doc: 'The tensor to output.' }],
  outputs: [],
  inferShape() {
    return {};
  },
  build() {
    return {};
  },
  emit: {
    tfjs: ({ inputs, name, layer }) => ({ body: [tsLayer(name, 'activation', { activation: 'linear', name: layer }, inputs.in)] }),
    keras: ({ inputs, name, layer }) => ({ body: [kerasLayer(name, 'Identity', [], { name: layer }, inputs.in)] }),
    pytorch: () => ({ body: [] }),
  },
  examples: [{ inputs: { in: [null, 10] } }],
});
