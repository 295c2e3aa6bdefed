// LSTM and GRU over a sequence [B, T, F], returning every step or the last one.
import { torchHelper } from './emit/torch-helper.js';
import { defineBlock, type Initializers, type TF, type TorchWeight } from './contract.js';
import { expectRank } from './shape-rules.js';
import { DENSE_KERNEL_TO_TORCH, pyArgs, tsObject } from './emit/snippets.js';

export type Cell = 'lstm' | 'gru';

/** The tfjs layer of a recurrent block: sigmoid gates and Glorot-uniform weights, wrapped in Bidirectional(concat) when asked. */
export function recurrentLayer(
  tf: TF,
  cell: Cell,
  p: { units: number; returnSequences: boolean; bidirectional: boolean },
  name: string,
  init: Initializers,
): ReturnType<TF['layers']['gru']> | ReturnType<TF['layers']['bidirectional']> {
  const args = {
    units: p.units,
    returnSequences: p.returnSequences,
    // tfjs defaults to hard sigmoid gates; Keras 2+ and PyTorch use the sigmoid.
    recurrentActivation: 'sigmoid' as const,
    kernelInitializer: init.glorotUniform(),
    // tfjs's orthogonal initialiser runs a QR decomposition in JS (seconds for a 64-unit GRU);
    // Glorot-uniform trains as well on these sizes and keeps compiling instant.
    recurrentInitializer: init.glorotUniform(),
    name,
  };
  const layer = cell === 'lstm' ? tf.layers.lstm({ ...args, unitForgetBias: true }) : tf.layers.gru(args);
  // tfjs names the two cells forward_NAME and backward_NAME, under NAME.
  return p.bidirectional ? tf.layers.bidirectional({ layer, mergeMode: 'concat', name }) : layer;
}

/** The tfjs layer of a recurrent block in exported TypeScript, constructed (as recurrentLayer builds it). */
export function tsRecurrentLayer(cell: Cell, p: { units: number; returnSequences: boolean; bidirectional: boolean }, layer: string): string {
  const config = {
    units: p.units,
    returnSequences: p.returnSequences ? true : undefined,
    recurrentActivation: 'sigmoid',
    ...(cell === 'lstm' ? { unitForgetBias: true } : {}),
    recurrentInitializer: 'glorotUniform',
    name: layer,
  };
  const inner = `tf.layers.${cell}(${tsObject(config)})`;
  return p.bidirectional ? `tf.layers.bidirectional({ layer: ${inner}, mergeMode: 'concat', name: '${layer}' })` : inner;
}

/** The Keras layer of a recurrent block, constructed (Keras 3's defaults already match tfjs here, sigmoid gates and unit forget bias, except the GRU's reset_after). */
export function kerasRecurrentLayer(cell: Cell, p: { units: number; returnSequences: boolean; bidirectional: boolean }, layer: string): string {
  const keywords = { return_sequences: p.returnSequences ? true : undefined, reset_after: cell === 'gru' ? false : undefined };
  const cls = cell.toUpperCase();
  if (!p.bidirectional) return `layers.${cls}(${pyArgs([p.units], { ...keywords, name: layer })})`;
  return `layers.Bidirectional(layers.${cls}(${pyArgs([p.units], keywords)}), merge_mode="concat", name="${layer}")`;
}

/** The exported PyTorch module's helpers: the cell written out (see the GRU's doc), and Bidirectional. */
export const recurrentTorchHelpers = (cell: Cell, bidirectional: boolean) => [
  torchHelper(cell.toUpperCase(), 'layers.py'),
  ...(bidirectional ? [torchHelper('Bidirectional', 'layers.py')] : []),
];

/** Where the PyTorch module's weights come from in the tfjs layer (`{layer}` is its name). */
export function recurrentTorchWeights(bidirectional: boolean): TorchWeight[] {
  const cellWeights = (prefix: string, scope: string): TorchWeight[] => [
    { torch: `${prefix}weight_ih`, tfjs: `${scope}kernel`, permute: DENSE_KERNEL_TO_TORCH },
    { torch: `${prefix}weight_hh`, tfjs: `${scope}recurrent_kernel`, permute: DENSE_KERNEL_TO_TORCH },
    { torch: `${prefix}bias`, tfjs: `${scope}bias` },
  ];
  return bidirectional ? [...cellWeights('forward_cell.', 'forward_{layer}/'), ...cellWeights('backward_cell.', 'backward_{layer}/')] : cellWeights('', '');
}

function recurrent(cell: Cell, label: string, doc: string, paper: string) {
  return defineBlock({
    type: `core.${cell}`,
    label,
    category: 'Recurrent',
    doc,
    paper,
    params: {
      units: { type: 'int', default: 32, min: 1, max: 100000, doc: 'Size H of the hidden state (and of the output features).' },
      returnSequences: { type: 'bool', default: false, doc: 'Output the hidden state of every step [B, T, H] instead of the last one [B, H].' },
      bidirectional: {
        type: 'bool',
        default: false,
        doc: "Read the sequence both ways (Schuster & Paliwal 1997): a second cell reads it backwards, and each step's two states are concatenated, so H doubles; the last state is the forward cell's last and the backward cell's first.",
      },
    },
    inputs: [{ name: 'in', doc: 'Sequence [B, T, F].', rank: 3 }],
    outputs: (p) => [
      {
        name: 'out',
        doc: `${p.returnSequences ? 'Every hidden state [B, T, H]' : 'The last hidden state [B, H]'}${p.bidirectional ? ', with H = 2 × units' : ''}.`,
      },
    ],
    inferShape({ params: p, inputs }) {
      const [b, t] = expectRank(inputs.in, 'in', 3, 'a sequence [B, T, F]');
      const h = p.bidirectional ? 2 * p.units : p.units;
      return { out: p.returnSequences ? [b, t, h] : [b, h] };
    },
    build(tf, { params: p, inputs, name, init }) {
      return { out: recurrentLayer(tf, cell, p, name, init).apply(inputs.in) as never };
    },
    emit: {
      tfjs: ({ params: p, inputs, outputs, layer }) => ({
        body: [`const ${outputs.out} = ${tsRecurrentLayer(cell, p, layer)}.apply(${inputs.in}) as tf.SymbolicTensor;`],
      }),
      keras: ({ params: p, inputs, outputs, layer }) => ({ body: [`${outputs.out} = ${kerasRecurrentLayer(cell, p, layer)}(${inputs.in})`] }),
      pytorch: ({ params: p, inputs, inputShapes, outputs, name }) => {
        const args = pyArgs([inputShapes.in[2], p.units], { return_sequences: p.returnSequences ? true : undefined });
        const cls = cell.toUpperCase();
        return {
          init: [`self.${name} = ${p.bidirectional ? `Bidirectional(${cls}(${args}), ${cls}(${args}))` : `${cls}(${args})`}`],
          body: [`${outputs.out} = self.${name}(${inputs.in})`],
          helpers: recurrentTorchHelpers(cell, p.bidirectional),
          torchWeights: recurrentTorchWeights(p.bidirectional),
        };
      },
    },
    examples: [
      { params: { units: 8 }, inputs: { in: [null, 6, 4] } },
      { params: { units: 5, returnSequences: true }, inputs: { in: [null, 7, 3] } },
      { params: { units: 4, returnSequences: true, bidirectional: true }, inputs: { in: [null, 6, 3] } },
      { params: { units: 3, bidirectional: true }, inputs: { in: [null, 5, 4] } },
    ],
  });
}

export const lstm = recurrent(
  'lstm',
  'LSTM',
  'A long short-term memory layer (Hochreiter & Schmidhuber 1997) reads the sequence step by step, keeping a cell ' +
    'state behind input, forget and output gates (sigmoid) and a tanh candidate. It has 4·(H·(F + H) + H) parameters: ' +
    "one bias per gate, where PyTorch's nn.LSTM has two (4·(H·(F + H) + 2H)). The forget-gate bias starts at 1 " +
    '(Jozefowicz et al. 2015), input and recurrent weights Glorot-uniform.',
  'Hochreiter & Schmidhuber (1997). Long Short-Term Memory.',
);

export const gru = recurrent(
  'gru',
  'GRU',
  'A gated recurrent unit (Cho et al. 2014): update and reset gates (sigmoid) decide how much of the hidden state to ' +
    'keep and how much of it feeds the tanh candidate. tfjs implements only the original form, with the reset gate ' +
    "applied before the recurrent matrix (Keras's reset_after=False) and one bias per gate: 3·(H·(F + H) + H) " +
    "parameters. PyTorch's nn.GRU (and cuDNN, and Keras 2's default) applies the reset gate after the matrix and " +
    'has two biases, 3·(H·(F + H) + 2H), so the PyTorch export writes this cell out as a small module of its own ' +
    '(same parameters, same outputs).',
  'Cho et al. (2014). Learning Phrase Representations using RNN Encoder-Decoder for Statistical Machine Translation.',
);
