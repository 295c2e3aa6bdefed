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
  doc: "Copies in a chain, each one's output feeding the next one's input (a composite with one input and one output of the same shape).",
};

/** Composites inside composites, at most this deep: the analysis recurses once per level, and no real network nests more than a few. */
export const MAX_COMPOSITE_NESTING = 50;

/**
 * The longest chain of composites, each used inside the one before (from the
 * definitions alone, in one pass). Uses that close a loop are left out: a
 * composite that contains itself is its own error.
 */
export function deepestNesting(defs: readonly { id: string; nodes: readonly { type: string }[] }[]): string[] {
  const ids = new Set(defs.map((d) => d.id));
  const uses = new Map<string, string[]>();
  for (const d of defs)
    if (!uses.has(d.id)) uses.set(d.id, [...new Set(d.nodes.map((n) => compositeIdOf(n.type)).filter((t): t is string => t !== undefined && ids.has(t)))]);
  // Depth-first, iteratively, so that a chain of thousands cannot overflow the stack; memoised, so each composite once.
  const depth = new Map<string, number>();
  const via = new Map<string, string>();
  const open = new Set<string>();
  for (const root of uses.keys()) {
    if (depth.has(root)) continue;
    const stack: { id: string; next: number }[] = [{ id: root, next: 0 }];
    open.add(root);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const children = uses.get(top.id)!;
      if (top.next < children.length) {
        const child = children[top.next++];
        if (!depth.has(child) && !open.has(child)) {
          open.add(child);
          stack.push({ id: child, next: 0 });
        }
        continue;
      }
      let best = 0;
      for (const c of children) {
        const d = depth.get(c) ?? 0; // an open child closes a loop
        if (d > best) {
          best = d;
          via.set(top.id, c);
        }
      }
      depth.set(top.id, best + 1);
      open.delete(top.id);
      stack.pop();
    }
  }
  let start: string | undefined;
  for (const [id, d] of depth) if (start === undefined || d > depth.get(start)!) start = id;
  const chain: string[] = [];
  for (let at = start; at !== undefined; at = via.get(at)) chain.push(at);
  return chain;
}
