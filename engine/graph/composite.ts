// Composite blocks: a subgraph defined once in a graph file (`composites`) and
// used as a node of type `composite:<id>`. Its inside is an ordinary graph whose
// ports are its Composite input and Composite output nodes. These two blocks
// exist only inside composites, so they are not in the block registry: the
// analysis resolves them there, and the compiler and exporters inline them away.
import { defineBlock, ShapeError, type IntParam } from '../blocks/contract.js';

export const COMPOSITE_TYPE_PREFIX = 'composite:';

/** The node type that uses a composite. */
export const compositeType = (id: string): string => `${COMPOSITE_TYPE_PREFIX}${id}`;

/** The composite id a node type refers to, if it refers to one. */
export function compositeIdOf(type: string): string | undefined {
  return type.startsWith(COMPOSITE_TYPE_PREFIX) ? type.slice(COMPOSITE_TYPE_PREFIX.length) : undefined;
}

export const COMPOSITE_INPUT = 'io.compositeInput';
export const COMPOSITE_OUTPUT = 'io.compositeOutput';

const portName = (fallback: string) => ({
  type: 'string' as const,
  default: fallback,
  maxLength: 100,
  doc: 'The name of the port on the composite block; unique among its inputs (outputs).',
});

export const compositeInputBlock = defineBlock({
  type: COMPOSITE_INPUT,
  label: 'Composite input',
  category: 'Composites',
  doc:
    'An input port of the composite block it sits in: inside, it carries whatever is wired into that port of the ' +
    'composite node, so its shape is the shape at each use.',
  params: { name: portName('in') },
  inputs: [],
  outputs: [{ name: 'out', doc: 'The tensor wired into this port of the composite node.' }],
  inferShape() {
    throw new ShapeError('a Composite input takes its shape from the composite node that uses it');
  },
  build() {
    throw new Error('a Composite input is inlined by the compiler; it builds nothing');
  },
  examples: [],
});

export const compositeOutputBlock = defineBlock({
  type: COMPOSITE_OUTPUT,
  label: 'Composite output',
  category: 'Composites',
  doc: 'An output port of the composite block it sits in: what is wired into it comes out of that port of the composite node.',
  params: { name: portName('out') },
  inputs: [{ name: 'in', doc: 'The tensor this port of the composite node gives.' }],
  outputs: [],
  inferShape() {
    return {};
  },
  build() {
    throw new Error('a Composite output is inlined by the compiler; it builds nothing');
  },
  examples: [],
});

export const REPEAT_PARAM: IntParam = {
  type: 'int',
  default: 1,
  min: 1,
  max: 1000,
  doc: 'Copies in a chain, each one\'s output feeding the next one\'s input (a composite with one input and one output of the same shape).',
};
