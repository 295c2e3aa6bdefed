// Statement builders shared by the sequence attention blocks' emitters: every block
// becomes one helper (nn.Module / Keras layer / tfjs class) instantiated by the node.
import { pyArgs, tsObject } from '../../emit/snippets.js';

/** Call arguments: positional variables, then keyword variables that are present (already code, not quoted). */
function callArgs(positional: string[], keywords: Record<string, string | undefined>, kwSep: string): string {
  return [
    ...positional,
    ...Object.entries(keywords)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}${kwSep}${v}`),
  ].join(', ');
}

/** `a, b = ` / `a = ` for Python. */
const pyTargets = (outs: string[]) => outs.join(', ');

/** A Python call: the class, its positional and keyword arguments, the output variables, and the input variables (positional, then keywords that are present). */
type PyCall = [
  cls: string,
  positional: unknown[],
  keywords: Record<string, unknown>,
  outs: string[],
  inputs: string[],
  inputKeywords?: Record<string, string | undefined>,
];

/** PyTorch: `self.name = Cls(args)` and `outs = self.name(inputs)`. */
export function torchModule(name: string, ...[cls, positional, keywords, outs, inputs, inputKeywords = {}]: PyCall): { init: string[]; body: string[] } {
  return {
    init: [`self.${name} = ${cls}(${pyArgs(positional, keywords)})`],
    body: [`${pyTargets(outs)} = self.${name}(${callArgs(inputs, inputKeywords, '=')})`],
  };
}

/** Keras: `outs = Cls(args, name="layer")(inputs)`. */
export function kerasCall(...[cls, positional, keywords, outs, inputs, inputKeywords = {}]: PyCall): string {
  return `${pyTargets(outs)} = ${cls}(${pyArgs(positional, keywords)})(${callArgs(inputs, inputKeywords, '=')})`;
}

/** tfjs: `const [a, b] = new Cls({...}).apply(args);` with `args` already code. */
export function tsNew(cls: string, config: Record<string, unknown>, outs: string[], args: string, cast = ''): string {
  const target = outs.length === 1 ? outs[0] : `[${outs.join(', ')}]`;
  return `const ${target} = new ${cls}(${tsObject(config)}).apply(${args})${cast};`;
}

/** tfjs: an object of the tensors that are present, `{ query: a, keys: b }` (values already code). */
export const tsTensors = (tensors: Record<string, string | undefined>) =>
  `{ ${Object.entries(tensors)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => (k === v ? k : `${k}: ${v}`))
    .join(', ')} }`;

/** A value that is only written when it differs from the default. */
export const unlessDefault = <T>(value: T, fallback: T): T | undefined => (value === fallback ? undefined : value);

/** The alignment blocks' emitters (a query over keys, averaging the values): ports query, keys, values, mask -> out, weights. */
type Ports = Record<string, string>;

/** tfjs: `const { context: out, weights } = fn(tf, { query, keys, values, mask }, options);`. */
export const alignmentTs = (fn: string, i: Ports, o: Ports, options: Record<string, unknown>) =>
  `const { context: ${o.out}, weights: ${o.weights} } = ${fn}(tf, ${tsTensors({ query: i.query, keys: i.keys, values: i.values, mask: i.mask })}, ${tsObject(options)});`;

/** Python: the outputs, inputs and input keywords of the call, the mask under the keyword `mask`. */
export const alignmentPy = (i: Ports, o: Ports, mask: 'mask' | 'padding_mask'): [string[], string[], Record<string, string | undefined>] => [
  [o.out, o.weights],
  [i.query, i.keys],
  { values: i.values, [mask]: i.mask },
];
