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

/** PyTorch: `self.name = Cls(args)` and `outs = self.name(inputs)`. */
export function torchModule(
  name: string,
  cls: string,
  positional: unknown[],
  keywords: Record<string, unknown>,
  outs: string[],
  inputs: string[],
  inputKeywords: Record<string, string | undefined> = {},
): { init: string[]; body: string[] } {
  return {
    init: [`self.${name} = ${cls}(${pyArgs(positional, keywords)})`],
    body: [`${pyTargets(outs)} = self.${name}(${callArgs(inputs, inputKeywords, '=')})`],
  };
}

/** Keras: `outs = Cls(args, name="layer")(inputs)`. */
export function kerasCall(
  cls: string,
  positional: unknown[],
  keywords: Record<string, unknown>,
  outs: string[],
  inputs: string[],
  inputKeywords: Record<string, string | undefined> = {},
): string {
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
