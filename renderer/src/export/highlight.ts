// A small syntax highlighter for the export preview: comments, strings, numbers,
// keywords and definitions of TypeScript and Python, as spans of classes.
export type TokenKind = 'comment' | 'string' | 'number' | 'keyword' | 'def' | 'text';
export interface Token {
  kind: TokenKind;
  text: string;
}

const KEYWORDS = {
  python:
    'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield self super',
  typescript:
    'as async await break case catch class const continue default delete do else enum export extends false finally for from function if import in instanceof let new null of readonly return static super switch this throw true try type typeof undefined var void while',
};

const PATTERNS: Record<'python' | 'typescript', RegExp> = {
  python: /(#[^\n]*)|("""[\s\S]*?"""|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')|(\b\d[\d_]*(?:\.\d+)?(?:e[+-]?\d+)?\b)|([A-Za-z_][A-Za-z0-9_]*)/g,
  typescript:
    /(\/\/[^\n]*|\/\*[\s\S]*?\*\/)|(`(?:\\.|[^`\\])*`|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')|(\b\d[\d_]*(?:\.\d+)?(?:e[+-]?\d+)?\b)|([A-Za-z_$][A-Za-z0-9_$]*)/g,
};

export function highlight(code: string, language: 'python' | 'typescript'): Token[] {
  const keywords = new Set(KEYWORDS[language].split(' '));
  const tokens: Token[] = [];
  let last = 0;
  let afterDef = false;
  const push = (kind: TokenKind, text: string) => {
    const prev = tokens[tokens.length - 1];
    if (prev && prev.kind === kind) prev.text += text;
    else tokens.push({ kind, text });
  };
  for (const m of code.matchAll(PATTERNS[language])) {
    if (m.index! > last) push('text', code.slice(last, m.index));
    const [text, comment, string, number, word] = m;
    if (comment) push('comment', text);
    else if (string) push('string', text);
    else if (number) push('number', text);
    else if (word && keywords.has(word)) push('keyword', text);
    else push(afterDef ? 'def' : 'text', text);
    afterDef = !!word && ['def', 'class', 'function'].includes(word);
    last = m.index! + text.length;
  }
  if (last < code.length) push('text', code.slice(last));
  return tokens;
}
