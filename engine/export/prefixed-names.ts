// Layer names in the Keras (Python) and TypeScript exports' composite functions:
// a literal that starts with a copy's prefix becomes an expression of the
// function's `name` argument that gives the same string when `name` is that
// prefix ("stage1_r2_conv1" -> f"{name}_conv1" / `${name}_conv1`), and a loop's
// layer name interpolates the loop variable. Literals are rewritten only where
// they are exactly the prefix or continue with "_", so nothing else changes value.
import { stringLiteral } from './names.js';

/** Python string literals (f-strings included) outside a word. */
const PYTHON_STRING = /(?<![\w])(f?)"((?:[^"\\]|\\.)*)"/g;
/** TypeScript string and template literals outside a word. */
const TS_STRING = /(?<![\w$])(['"`])((?:(?!\1)[^\\]|\\.)*)\1/g;

const startsWithPrefix = (content: string, prefix: string) => content.startsWith(`${prefix}_`);

/** A layer name as a Python expression; `index` (a loop variable) replaces `marker` where given. */
export function pythonLayerName(layer: string, marker?: string, index?: string): string {
  if (marker === undefined || !layer.includes(marker)) return stringLiteral(layer);
  const inner = (s: string) => stringLiteral(s).slice(1, -1).replace(/[{}]/g, '$&$&');
  const [before, after] = layer.split(marker).map(inner);
  return `f"${before}{${index}}${after}"`;
}

/** A layer name as a TypeScript expression; `index` (a loop variable) replaces `marker` where given. */
export function typescriptLayerName(layer: string, marker?: string, index?: string): string {
  if (marker === undefined || !layer.includes(marker)) return `'${layer.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const [before, after] = layer.split(marker).map(templateText);
  return `\`${before}\${${index}}${after}\``;
}

/** Text as the inside of a template literal. */
const templateText = (s: string) => s.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${');

/** A Python line with the literals that name layers under `prefix` written in terms of `name`. */
export function rewritePython(line: string, prefix: string, name: string): string {
  return line.replace(PYTHON_STRING, (whole, f: string, content: string) => {
    if (content === prefix) return name;
    if (!startsWithPrefix(content, prefix)) return whole;
    const rest = content.slice(prefix.length);
    return `f"{${name}}${f ? rest : rest.replace(/[{}]/g, '$&$&')}"`;
  });
}

/** A TypeScript line with the literals that name layers under `prefix` written in terms of `name`. */
export function rewriteTypescript(line: string, prefix: string, name: string): string {
  return line.replace(TS_STRING, (whole, quote: string, content: string) => {
    if (content === prefix) return name;
    if (!startsWithPrefix(content, prefix)) return whole;
    const rest = content.slice(prefix.length);
    // A quoted literal's escapes mean the same in a template literal; only ` and ${ need escaping there.
    return `\`\${${name}}${quote === '`' ? rest : rest.replace(/`/g, '\\`').replace(/\$\{/g, '\\${')}\``;
  });
}
