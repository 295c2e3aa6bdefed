// The tfjs code of the vision and structured attention blocks lives once, in real
// source files the engine builds with (engine/blocks/attention/*-ops/*-attention.ts,
// on engine/blocks/tfjs-kit.ts), and the TypeScript export copies their
// definitions: these check the copying, that those files stay importable on their
// own, and that no block keeps a second, string copy of its tfjs code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { BLOCKS_DIR, tfjsHelperSources, tsDefinitions } from '../engine/export/tfjs-sources.js';
import { exportTfjs } from '../engine/export/tfjs.js';
import { graph } from './helpers/graphs.js';

const SHARED = [
  'tfjs-kit.ts',
  'core-layers.ts',
  'batch-norm-layer.ts',
  'seeded-dropout.ts',
  'attention/ops/attend.ts',
  'attention/ops/tokens.ts',
  'attention/ops/sequence-attention.ts',
  'attention/vision-ops/vision-attention.ts',
  'attention/structured-ops/structured-attention.ts',
];
const scratch = fileURLToPath(new URL('../../exports-under-test/', import.meta.url));

test('a definition is copied with its doc comment, without `export`, up to its end', () => {
  const defs = tsDefinitions(
    [
      '// header',
      "import type * as tf from '@tensorflow/tfjs';",
      '',
      '/** Doubles. */',
      'export const twice = (n: number) =>',
      '  n * 2;',
      '',
      '/**',
      ' * Adds.',
      ' */',
      'export function add(a: number, b: number): number {',
      '  const s = a + b;',
      '',
      '  return s;',
      '}',
      'type Pair = [number, number];',
    ].join('\n'),
  );
  assert.deepEqual([...defs.keys()], ['twice', 'add', 'Pair']);
  assert.equal(defs.get('twice'), '/** Doubles. */\nconst twice = (n: number) =>\n  n * 2;');
  assert.equal(defs.get('add'), '/**\n * Adds.\n */\nfunction add(a: number, b: number): number {\n  const s = a + b;\n\n  return s;\n}');
  assert.equal(defs.get('Pair'), 'type Pair = [number, number];');
});

test('a helper comes with every definition it uses, each once, before it', () => {
  const code = tfjsHelperSources([
    { name: 'cbam', source: 'attention/vision-ops/vision-attention.ts' },
    { name: 'squeezeExcitation', source: 'attention/vision-ops/vision-attention.ts' },
  ]);
  const names = code.map((c) => /^(?:const|function|type|interface) (\w+)/m.exec(c)?.[1]);
  for (const needed of [
    'TF',
    'Init',
    'apply',
    'customLayer',
    'channelPoolLayer',
    'channelGate',
    'channelAttention',
    'spatialAttention',
    'cbam',
    'squeezeExcitation',
  ])
    assert.equal(names.filter((n) => n === needed).length, 1, needed);
  assert.ok(names.indexOf('channelGate') < names.indexOf('channelAttention'));
  assert.ok(!names.includes('nonLocalBlock'), 'nothing unused');
  assert.throws(
    () => tfjsHelperSources([{ name: 'noSuchBlock', source: 'attention/vision-ops/vision-attention.ts' }]),
    /vision-attention\.ts defines no noSuchBlock/,
  );
});

test('the shared tfjs files import nothing of the engine, only tfjs types and each other', () => {
  for (const file of SHARED) {
    const text = readFileSync(join(BLOCKS_DIR, file), 'utf8');
    const imports = [...text.matchAll(/^import .* from '([^']+)';/gm)].map((m) => m[1]);
    for (const spec of imports) {
      const ok = spec === '@tensorflow/tfjs' || SHARED.some((s) => join(BLOCKS_DIR, file, '..', spec.replace(/\.js$/, '.ts')) === join(BLOCKS_DIR, s));
      assert.ok(ok, `${file} imports ${spec}`);
    }
    assert.doesNotMatch(text, /^import \* as tf from/m, `${file} imports tfjs's code (the engine passes tf in)`);
  }
});

/** The string and template literals of a TypeScript file, as text. */
function stringsOf(path: string): string[] {
  const sf = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest);
  const strings: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node))
      strings.push(node.text);
    node.forEachChild(visit);
  };
  visit(sf);
  return strings;
}

test('no attention block keeps its tfjs code as a string beside the shared files', () => {
  for (const dir of ['vision-ops', 'structured-ops']) {
    for (const f of readdirSync(join(BLOCKS_DIR, 'attention', dir))) {
      const code = stringsOf(join(BLOCKS_DIR, 'attention', dir, f)).filter((t) => /\b(class|function) \w+|tf\.layers\.\w+\(/.test(t));
      assert.deepEqual(code, [], `${dir}/${f} holds tfjs code in strings`);
    }
  }
  // The export's text is the engine's: each definition appears verbatim in its source file.
  const code = exportTfjs(
    graph(
      [
        ['x', 'io.input', { kind: 'image', height: 8, width: 8, channels: 8 }],
        ['a', 'attention.residualAttention', { levels: 1 }],
        ['b', 'attention.augmentedConv', { filters: 8, dk: 4, dv: 4, heads: 2 }],
        ['y', 'io.output', { loss: 'none' }],
      ],
      [
        ['x.out', 'a.in'],
        ['a.out', 'b.in'],
        ['b.out', 'y.in'],
      ],
      'two structured blocks',
    ),
  );
  const source = SHARED.map((f) => readFileSync(join(BLOCKS_DIR, f), 'utf8').replace(/^export /gm, '')).join('\n');
  for (const name of ['residualAttention', 'preActBottleneck', 'resize2dLayer', 'augmentedConv2d', 'augmentedAttentionLayer', 'relativeLogits']) {
    const def = new RegExp(`^(?:const|function) ${name}\\b[\\s\\S]*?\\n(?:}|  \\}\\);)\\n`, 'm').exec(code)?.[0];
    assert.ok(def, `the export defines ${name}`);
    assert.ok(source.includes(def), `${name} is the engine's own code`);
  }
});

test('a node named after a helper does not shadow it: the export still type-checks', () => {
  // An output node's variable carries its name; unrenamed, `const squeezeExcitation` would shadow the helper above it.
  const g = graph(
    [
      ['x', 'io.input', { kind: 'image', height: 6, width: 6, channels: 4 }],
      ['se', 'attention.squeezeExcitation', { reduction: 2 }],
      ['squeezeExcitation', 'io.output', { loss: 'none' }],
    ],
    [
      ['x.out', 'se.in'],
      ['se.out', 'squeezeExcitation.in'],
    ],
    'helper names',
  );
  mkdirSync(scratch, { recursive: true });
  const file = join(mkdtempSync(join(scratch, 'names-')), 'model.ts');
  writeFileSync(file, exportTfjs(g));
  const program = ts.createProgram([file], {
    strict: true,
    noImplicitOverride: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
  });
  const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  assert.deepEqual(problems, []);
});

test('the sequence attention layers, multi-head, additive, pooling and patch embedding are not strings any more', () => {
  // The wrappers still written as strings (Transformer layers, Luong, memory)
  // call the shared definitions; the layers themselves and multi-head attention exist only as source.
  const moved =
    /\b(class (DotProductAttention|ScoredAttention|PairwiseTanh|ClassToken|LearnedPositions|MultiHeadAttention|PatchEmbedding|AttentionPooling|AdditiveAttention)|function maskedSoftmax)\b/;
  for (const f of readdirSync(join(BLOCKS_DIR, 'attention', 'ops'))) {
    const code = stringsOf(join(BLOCKS_DIR, 'attention', 'ops', f)).filter((t) => moved.test(t));
    assert.deepEqual(code, [], `ops/${f} holds a twin of a shared layer in a string`);
  }
  const code = exportTfjs(
    graph(
      [
        ['x', 'io.input', { kind: 'sequence', length: 4, features: 8 }],
        ['a', 'attention.multiHead', { heads: 2, dropout: 0.1 }],
        ['y', 'io.output', { loss: 'none' }],
      ],
      [
        ['x.out', 'a.query'],
        ['a.out', 'y.in'],
      ],
      'multi-head',
    ),
  );
  const source = SHARED.map((f) => readFileSync(join(BLOCKS_DIR, f), 'utf8').replace(/^export /gm, '')).join('\n');
  for (const name of ['multiHeadAttention', 'dotProductAttentionLayer', 'maskedSoftmax', 'dropout']) {
    const def = new RegExp(`^(?:const|function) ${name}\\b[\\s\\S]*?\\n(?:}|  \\}\\);)\\n`, 'm').exec(code)?.[0];
    assert.ok(def, `the export defines ${name}`);
    assert.ok(source.includes(def), `${name} is the engine's own code`);
  }
});
