// Add and Multiply: element-wise merges of 2–8 inputs with NumPy broadcasting.
import { defineBlock, type PortDef, type Shape } from './contract.js';
import { broadcast } from './shape-rules.js';
import { kerasLayer, tsLayer } from './emit/snippets.js';

const countParam = { type: 'int', default: 2, min: 2, max: 8, doc: 'Number of inputs.' } as const;

export const mergeInputs = (n: number): PortDef[] => Array.from({ length: n }, (_, i) => ({ name: `in${i + 1}`, doc: `Input ${i + 1}.` }));

/** What a merge of `n` inputs is given on its ports, in port order: tensors (build) or their names in exported code. */
export const merged = <T>(n: number, inputs: Record<string, T>): T[] => mergeInputs(n).map((port) => inputs[port.name]);

/** The names of a merge's inputs as a list in exported code: `[a, b]`. */
export const mergedList = (n: number, inputs: Record<string, string>) => `[${merged(n, inputs).join(', ')}]`;

function broadcastAll(inputs: Record<string, Shape>, n: number): Shape {
  let out = inputs.in1;
  for (let i = 2; i <= n; i++) out = broadcast(out, inputs[`in${i}`], `in${i}`);
  return out;
}

function elementwise(op: 'add' | 'multiply', label: string, doc: string) {
  return defineBlock({
    type: `core.${op}`,
    label,
    category: 'Merge',
    doc,
    params: { inputs: countParam },
    inputs: (p) => mergeInputs(p.inputs),
    outputs: [{ name: 'out', doc: 'The broadcast result.' }],
    inferShape({ params, inputs }) {
      return { out: broadcastAll(inputs, params.inputs) };
    },
    build(tf, { params, inputs, name }) {
      const xs = merged(params.inputs, inputs);
      const layer = op === 'add' ? tf.layers.add({ name }) : tf.layers.multiply({ name });
      return { out: layer.apply(xs) as never };
    },
    emit: {
      tfjs: ({ params, inputs, outputs, layer }) => ({
        body: [tsLayer(outputs.out, op, { name: layer }, mergedList(params.inputs, inputs))],
      }),
      keras: ({ params, inputs, outputs, layer }) => ({
        body: [kerasLayer(outputs.out, op === 'add' ? 'Add' : 'Multiply', [], { name: layer }, mergedList(params.inputs, inputs))],
      }),
      pytorch({ params, inputs, inputShapes, outputs }) {
        const ports = mergeInputs(params.inputs).map((q) => q.name);
        const ranks = new Set(ports.map((q) => inputShapes[q].length));
        if (ranks.size > 1 && ranks.has(4)) throw new Error(`${label} of an image with a tensor of another rank has no NCHW form; reshape first`);
        return { body: [`${outputs.out} = ${ports.map((q) => inputs[q]).join(op === 'add' ? ' + ' : ' * ')}`] };
      },
    },
    examples: [
      { inputs: { in1: [null, 8, 8, 4], in2: [null, 8, 8, 4] } },
      { inputs: { in1: [null, 8, 8, 4], in2: [null, 1, 1, 4] } },
      { params: { inputs: 3 }, inputs: { in1: [null, 5, 6], in2: [null, 5, 6], in3: [null, 5, 1] } },
    ],
  });
}

export const add = elementwise(
  'add',
  'Add',
  'Adds its inputs element-wise, broadcasting axes of size 1 (NumPy rules): the merge of a residual connection (He et al. 2016).',
);
export const multiply = elementwise(
  'multiply',
  'Multiply',
  'Multiplies its inputs element-wise, broadcasting axes of size 1 (NumPy rules), e.g. a feature map [B, H, W, C] by ' +
    'channel weights [B, 1, 1, C] or a spatial map [B, H, W, 1]: the gating step of most attention blocks.',
);
