// The tfjs code of the blocks lives once, in real source files the engine builds
// with (on engine/blocks/tfjs-kit.ts: the vision, structured and sequence attention
// ops, the Transformer layers, core layers such as positional encoding, padded
// pooling and dilated depthwise convolution), and the TypeScript export copies
// their definitions (as the tfjs text entry point copies the app's tokenizer): these
// check the copying, that those files stay importable on their own, and that no
// engine file keeps a second, string copy of tfjs code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { BLOCKS_DIR, TFJS_SHARED_FILES as SHARED, tfjsHelperSources, tsDefinitions } from '../engine/export/tfjs-sources.js';
import { exportTfjs } from '../engine/export/tfjs.js';
import { tfjsTextEntry } from '../engine/export/text-entry.js';
import { scratchDir, typeCheck, writeExports } from './helpers/exports.js';
import { blockExamples, graph } from './helpers/graphs.js';

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
  const dir = scratchDir('names-');
  assert.deepEqual(typeCheck(writeExports(dir, 'ts', [{ name: 'model', code: exportTfjs(g) }]), dir), []);
});

test('the sequence attention layers, multi-head, additive, pooling and patch embedding are not strings any more', () => {
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

const ENGINE_DIR = join(BLOCKS_DIR, '..');

/** Every TypeScript file below a folder. */
const tsFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => {
    const path = join(dir, f);
    return statSync(path).isDirectory() ? tsFiles(path) : path.endsWith('.ts') ? [path] : [];
  });

/**
 * TypeScript code of a kind that only tfjs helpers write: a class (Python writes `class X(...):`), a custom layer's
 * registration, or a function that takes the tfjs module. The generated module's own skeleton (buildModel, train)
 * and the text entry point take none of these.
 */
const TFJS_CODE = /\bclass \w+ (extends [\w.]+ )?\{|registerClass\(|\bfunction \w+\s*\(\s*tf\b|\(tf: TF\) =>/;

test('no file under engine/ holds tfjs code in a string: every helper is the source the engine runs', () => {
  const found: string[] = [];
  for (const path of tsFiles(ENGINE_DIR)) {
    const file = relative(ENGINE_DIR, path).split('\\').join('/');
    for (const text of stringsOf(path)) if (TFJS_CODE.test(text)) found.push(`${file}: ${text.slice(0, 80)}`);
  }
  assert.deepEqual(found, []);
  // The pattern finds such a string, the way the helpers used to be written.
  assert.match('/** Adds. */\nclass PositionalEncoding extends tf.layers.Layer {\n}', TFJS_CODE);
  assert.match('function luong(tf: TF, x: tf.SymbolicTensor) {}', TFJS_CODE);
  assert.doesNotMatch('class LuongAttention(nn.Module):', TFJS_CODE);
});

test('the Transformer layers, Luong, memory hops, positional encoding, padded pooling and dilated depthwise convolution export the engine code', () => {
  const moved: Record<string, [string, string]> = {
    'attention.transformerEncoder': ['transformerEncoderLayer', 'attention/ops/transformer-layers.ts'],
    'attention.transformerDecoder': ['transformerDecoderLayer', 'attention/ops/transformer-layers.ts'],
    'attention.luong': ['luongAttention', 'attention/ops/sequence-attention.ts'],
    'attention.memoryHop': ['memoryNetwork', 'attention/ops/sequence-attention.ts'],
    'core.positionalEncoding': ['positionalEncodingLayer', 'core-layers.ts'],
    'core.depthwiseConv2d': ['dilatedDepthwiseConv2dLayer', 'dilated-depthwise.ts'],
  };
  const cases = blockExamples()
    .filter((e) => moved[e.block.type] && (e.block.type !== 'core.depthwiseConv2d' || e.values.dilation !== 1))
    .map((e) => ({ name: e.name, graph: e.graph, helper: moved[e.block.type] }));
  cases.push({
    name: 'explicit-padding max pool',
    graph: graph(
      [
        ['x', 'io.input', { kind: 'image', height: 7, width: 7, channels: 2 }],
        ['p', 'core.pool2d', { mode: 'max', size: 3, stride: 2, padding: 'explicit', pads: [1], ceilMode: true }],
        ['y', 'io.output', { loss: 'none' }],
      ],
      [
        ['x.out', 'p.in'],
        ['p.out', 'y.in'],
      ],
      'padded pool',
    ),
    helper: ['paddedPool2dLayer', 'padded-pool.ts'],
  });
  assert.equal(new Set(cases.map((c) => c.helper[0])).size, 7, 'every moved helper is exported by some case');
  for (const { name, graph: g, helper } of cases) {
    const [def, file] = helper;
    const exported = tsDefinitions(exportTfjs(g));
    const source = tsDefinitions(readFileSync(join(BLOCKS_DIR, file), 'utf8'));
    assert.ok(exported.get(def), `${name}: the export defines ${def}`);
    assert.equal(exported.get(def), source.get(def), `${name}: ${def} is the engine's own code`);
  }
});

test("the tfjs text entry point's tokenizer is the app's own code", () => {
  const entry = tsDefinitions(tfjsTextEntry({ model: 'model.ts', modelDir: 'model-tfjs-model', vocabulary: 'model.vocabulary.json' }, 'model_text.ts'));
  const app = tsDefinitions(readFileSync(join(ENGINE_DIR, 'data', 'tokenize.ts'), 'utf8'));
  for (const name of ['TOKEN', 'words', 'sentences', 'tokenIds', 'encodeTexts', 'Vocabulary']) {
    assert.ok(entry.get(name), `the entry defines ${name}`);
    assert.equal(entry.get(name), app.get(name), `${name} is engine/data/tokenize.ts's`);
  }
});
