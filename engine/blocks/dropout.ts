import { defineBlock } from './contract.js';
import { kerasLayer, tsLayer } from './emit/snippets.js';
import { applyDropout } from './seeded-dropout.js';

export default defineBlock({
  type: 'core.dropout',
  label: 'Dropout',
  category: 'Core',
  doc:
    'Dropout (Srivastava et al. 2014): while training, each value is set to zero with probability `rate` and the ' +
    'survivors are scaled by 1 / (1 − rate), so the expected value is unchanged; at inference it passes its input ' +
    'through untouched. A regulariser against overfitting: 0.5 after large dense layers, about 0.1 in Transformers. ' +
    'Masks follow the graph seed and the training step: a run with the same seed repeats exactly, and a resumed run continues it.',
  paper: 'Srivastava et al. (2014). Dropout: A Simple Way to Prevent Neural Networks from Overfitting.',
  params: {
    rate: { type: 'float', default: 0.5, min: 0, max: 0.95, doc: 'Probability of dropping each value while training.' },
  },
  inputs: [{ name: 'in', doc: 'Any tensor.' }],
  outputs: [{ name: 'out', doc: 'Same shape as the input.' }],
  inferShape({ inputs }) {
    return { out: [...inputs.in] };
  },
  build(tf, { params: p, inputs, name, init }) {
    return { out: applyDropout(tf, inputs.in, { rate: p.rate, name, site: init.dropoutSeed(name) }) };
  },
  emit: {
    tfjs: ({ params: p, inputs, outputs, layer }) => ({ body: [tsLayer(outputs.out, 'dropout', { rate: p.rate, name: layer }, inputs.in)] }),
    keras: ({ params: p, inputs, outputs, layer }) => ({ body: [kerasLayer(outputs.out, 'Dropout', [p.rate], { name: layer }, inputs.in)] }),
    pytorch: ({ params: p, inputs, outputs, name }) => ({
      init: [`self.${name} = nn.Dropout(${p.rate})`],
      body: [`${outputs.out} = self.${name}(${inputs.in})`],
    }),
  },
  examples: [
    { inputs: { in: [null, 32] } },
    { params: { rate: 0.1 }, inputs: { in: [null, 6, 8] } },
    { params: { rate: 0.95 }, inputs: { in: [null, 4, 4, 2] } },
  ],
});
