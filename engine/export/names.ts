// Identifiers from user labels: any label (quotes, newlines, unicode, leading
// digits, keywords, duplicates) yields a valid, unique, readable name.

const PYTHON_KEYWORDS = [
  'False',
  'None',
  'True',
  'and',
  'as',
  'assert',
  'async',
  'await',
  'break',
  'class',
  'continue',
  'def',
  'del',
  'elif',
  'else',
  'except',
  'finally',
  'for',
  'from',
  'global',
  'if',
  'import',
  'in',
  'is',
  'lambda',
  'nonlocal',
  'not',
  'or',
  'pass',
  'raise',
  'return',
  'try',
  'while',
  'with',
  'yield',
  'match',
  'case',
  'type',
];
const JS_KEYWORDS = [
  'break',
  'case',
  'catch',
  'class',
  'const',
  'continue',
  'debugger',
  'default',
  'delete',
  'do',
  'else',
  'enum',
  'export',
  'extends',
  'false',
  'finally',
  'for',
  'function',
  'if',
  'import',
  'in',
  'instanceof',
  'new',
  'null',
  'return',
  'super',
  'switch',
  'this',
  'throw',
  'true',
  'try',
  'typeof',
  'var',
  'void',
  'while',
  'with',
  'yield',
  'let',
  'static',
  'implements',
  'interface',
  'package',
  'private',
  'protected',
  'public',
  'await',
  'async',
  'of',
  'arguments',
  'eval',
  'undefined',
  'NaN',
  'Infinity',
];
/** Names the generated code itself uses, or that would shadow something a reader relies on. */
const RESERVED = [
  'self',
  'tf',
  'torch',
  'nn',
  'F',
  'math',
  'np',
  'keras',
  'layers',
  'ops',
  'Model',
  'model',
  'inputs',
  'outputs',
  'x',
  'input',
  'print',
  'len',
  'range',
  'sum',
  'max',
  'min',
  'abs',
  'list',
  'dict',
  'str',
  'int',
  'float',
  'object',
  'super',
  'forward',
  'buildModel',
  'build_model',
  'example_inputs',
  'Object',
  'Array',
  'Math',
  'String',
  'Number',
  'console',
  'require',
  'module',
];

/** Latin letters that have no decomposition but a usual ASCII spelling. */
const FOLD: Record<string, string> = { ß: 'ss', æ: 'ae', ø: 'o', œ: 'oe', ł: 'l', đ: 'd' };

export type Language = 'python' | 'typescript';

/** A snake_case (python) or camelCase (typescript) identifier for a label; not yet unique. */
export function identifier(label: string, lang: Language): string {
  const ascii = label
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[ßæøœłđ]/gi, (c) => FOLD[c.toLowerCase()] ?? c);
  const words = ascii
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
  let name = lang === 'python' ? words.join('_') : words.map((w, i) => (i === 0 ? w : w[0].toUpperCase() + w.slice(1))).join('');
  if (!name) name = 'node';
  if (/^[0-9]/.test(name)) name = `n${lang === 'python' ? '_' : ''}${name}`;
  const keywords = lang === 'python' ? PYTHON_KEYWORDS : JS_KEYWORDS;
  if (keywords.includes(name) || RESERVED.includes(name)) name = `${name}_`;
  return name;
}

/** Hands out unique identifiers within one generated file. */
export class NameTable {
  private readonly used = new Set<string>();
  constructor(
    readonly lang: Language,
    reserved: Iterable<string> = [],
  ) {
    for (const r of reserved) this.used.add(r);
  }

  /** Every name handed out (and the reserved ones). */
  get taken(): ReadonlySet<string> {
    return this.used;
  }

  take(label: string): string {
    const base = identifier(label, this.lang);
    let name = base;
    for (let k = 2; this.used.has(name); k++) name = `${base}_${k}`;
    this.used.add(name);
    return name;
  }
}

/** A string literal that is valid in both Python and TypeScript. */
export function stringLiteral(s: string): string {
  return JSON.stringify(s)
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Text safe inside a Python docstring or a JS block comment. */
export function commentText(s: string): string {
  return s
    .replace(/\\/g, '\\\\')
    .replace(/\*\//g, '* /')
    .replace(/"""/g, '"\\""')
    .replace(/[\r\n]+/g, ' ');
}

/** A Python docstring of `text`, wrapped at 88 columns, each line led by `pad`. */
export function docstring(text: string, pad = ''): string[] {
  const words = commentText(text).split(' ');
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if ((line + ' ' + w).trim().length > 88 - pad.length) {
      lines.push(line.trim());
      line = '';
    }
    line += ` ${w}`;
  }
  if (line.trim()) lines.push(line.trim());
  if (lines.length === 1) return [`${pad}"""${lines[0]}"""`];
  return [`${pad}"""${lines[0]}`, ...lines.slice(1).map((l) => pad + l), `${pad}"""`];
}
