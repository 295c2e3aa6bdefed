// The Keras and TypeScript exports keep the graph's structure, as the PyTorch one
// does: a composite is a function named from its label that builds its layers
// under the name it is given, a repeat is a loop, and the model-building body
// reads like a model definition. The layer names stay the compiled model's (the
// TypeScript export's weights load by name in the tfjs export tests; the Keras
// export's names are checked here by running build_model() over stand-in layers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportKeras } from '../engine/export/keras.js';
import { exportTfjs } from '../engine/export/tfjs.js';
import { exportPytorch } from '../engine/export/pytorch.js';
import { planExport } from '../engine/export/plan.js';
import { rewritePython, rewriteTypescript } from '../engine/export/prefixed-names.js';
import { chain, graph, loadTemplate, templateFiles } from './helpers/graphs.js';
import { cin, composite, cout, graphWith, use } from './helpers/composites.js';
import { checkTfjsExport, writeExports } from './helpers/exports.js';
import { tfReady } from './helpers/tf.js';
import type { GraphFile } from '../engine/graph/types.js';
import { PYTHON } from './helpers/torch.js';
import { captionReportSource, pythonTopLevelNames } from '../engine/export/python-sources.js';
import { torchRuntimeSource, torchSourceBody } from '../engine/export/torch-sources.js';
import { kerasRuntimeSource } from '../engine/export/keras-sources.js';

const layerNames = fileURLToPath(new URL('../../test/helpers/keras_layer_names.py', import.meta.url));

/** The lines of the function that `header` opens, up to its end (a blank line in Python, "}" in TypeScript). */
function functionBody(code: string, header: RegExp): string[] {
  const lines = code.split('\n');
  const start = lines.findIndex((l) => header.test(l));
  assert.ok(start >= 0, `no function matching ${header}`);
  const end = lines.findIndex((l, i) => i > start && (l === '' || l === '}'));
  return lines.slice(start + 1, end);
}

const count = (code: string, re: RegExp) => [...code.matchAll(re)].length;

test('vit-ti16: one encoder function, called in a loop of 12; the model body is under 30 lines (Keras and TypeScript)', () => {
  const g = loadTemplate('vit-ti16.attn.json');
  const keras = exportKeras(g);
  assert.equal(count(keras, /^def transformer_encoder_layer\(x, name\):$/gm), 1);
  assert.equal(count(keras, /TransformerEncoderLayer\(d_model=/g), 1, 'the encoder layer is built in one place');
  assert.match(keras, /\n {4}for i in range\(1, 13\):\n {8}(\w+) = transformer_encoder_layer\(\1, f"encoders_r\{i\}"\)\n/);
  const build = functionBody(keras, /^def build_model\(\):$/);
  assert.ok(build.length < 30, `build_model() has ${build.length} lines`);

  const ts = exportTfjs(g);
  // The composite's function takes a suffix where its label's name is the shared tfjs helper's own.
  assert.equal(count(ts, /^function transformerEncoderLayerBlock\(x: tf\.SymbolicTensor, name: string\): tf\.SymbolicTensor \{$/gm), 1);
  assert.equal(count(ts, /= transformerEncoderLayer\(tf, /g), 1, 'the encoder layer is built in one place');
  assert.match(ts, /\n {2}for \(let i = 1; i <= 12; i\+\+\) (\w+) = transformerEncoderLayerBlock\(\1, `encoders_r\$\{i\}`\);\n/);
  const buildTs = functionBody(ts, /^export function buildModel\(\): tf\.LayersModel \{$/);
  assert.ok(buildTs.length < 30, `buildModel() has ${buildTs.length} lines`);
});

test('se-resnet20-mnist: a function per stage with its repeated blocks in a loop, called from a short model body (Keras and TypeScript)', () => {
  const g = loadTemplate('se-resnet20-mnist.attn.json');
  const keras = exportKeras(g);
  assert.deepEqual(functionBody(keras, /^def stage_1\(x, name\):$/).slice(-5), [
    '    first = basic_block_16_se(x, f"{name}_first")',
    '    rest = first',
    '    for i in range(1, 3):',
    '        rest = basic_block_16_se(rest, f"{name}_rest_r{i}")',
    '    return rest',
  ]);
  assert.equal(count(keras, /^def basic_block_16_se\(x, name\):$/gm), 1, "the stage's first block and its repeats share one function");
  assert.ok(functionBody(keras, /^def build_model\(\):$/).length < 20);

  const ts = exportTfjs(g);
  assert.deepEqual(functionBody(ts, /^function stage1\w*\(x: tf\.SymbolicTensor, name: string\)/), [
    '  const first = basicBlock16Se(x, `${name}_first`);',
    '  let rest = first;',
    '  for (let i = 1; i <= 2; i++) rest = basicBlock16Se(rest, `${name}_rest_r${i}`);',
    '  return rest;',
  ]);
  assert.ok(functionBody(ts, /^export function buildModel\(\)/).length < 20);
});

/** For each graph, the layer names its Keras build_model() gives (run over stand-in layers) and those of the unrolled code, sorted. */
function kerasLayerNames(graphs: { name: string; graph: GraphFile }[]): { name: string; given: string[]; unrolled: string[] }[] {
  const dir = mkdtempSync(join(tmpdir(), 'attn-keras-names-'));
  const paths = writeExports(
    dir,
    'py',
    graphs.map((g) => ({ name: g.name, code: exportKeras(g.graph) })),
  );
  const given = JSON.parse(execFileSync(PYTHON, [layerNames, ...paths], { encoding: 'utf8', maxBuffer: 1 << 26 })) as Record<string, string[]>;
  return graphs.map((g, i) => ({
    name: g.name,
    given: [...given[paths[i]]].sort(),
    // The names each node's Keras code gives, node by node with its layer name written out.
    unrolled: planExport(g.graph, 'keras')
      .nodes.flatMap((n) => n.code.body.flatMap((l) => [...l.matchAll(/\bname="([^"]*)"/g)].map((m) => m[1])))
      .sort(),
  }));
}

test("Keras: build_model() gives every layer the compiled model's name, for every template", () => {
  const results = kerasLayerNames(templateFiles({ large: true }).map((f) => ({ name: f, graph: loadTemplate(f) })));
  assert.ok(results.length >= 22);
  for (const r of results) assert.deepEqual(r.given, r.unrolled, r.name);
});

test('copies whose layer names do not follow the prefix (one taken by another node) get one call each, with the right names', async () => {
  const unit = composite(
    'unit',
    [cin('in'), ['c1', 'core.dense', { units: 4 }], cout('out')],
    [
      ['in.out', 'c1.in'],
      ['c1.out', 'out.in'],
    ],
    'Unit',
  );
  const g = graphWith(
    [unit],
    [
      ['x', 'io.input', { kind: 'vector', features: 4 }],
      ['st_r2_c1', 'core.dense', { units: 4 }],
      ['st', use('unit'), { repeat: 2 }],
      ['y', 'io.output'],
    ],
    [
      ['x.out', 'st_r2_c1.in'],
      ['st_r2_c1.out', 'st.in'],
      ['st.out', 'y.in'],
    ],
  );
  // The inliner names the second copy's layer st_r2_c1_2, so the copies' code differs.
  const ts = exportTfjs(g);
  assert.ok(!functionBody(ts, /^export function buildModel\(\)/).some((l) => l.includes('for (')), 'no loop');
  assert.match(ts, /= unit\(\w+, 'st_r1'\);\n {2}const \w+ = unitBlock\(\w+, 'st_r2'\);/);
  assert.match(ts, /name: `\$\{name\}_c1_2`/);
  const r = await checkTfjsExport(await tfReady, g);
  assert.equal(r.exportedWeights, r.compiledWeights);
  assert.ok(r.maxAbsDiff <= 1e-5, `max |Δ| ${r.maxAbsDiff}`);
  const [keras] = kerasLayerNames([{ name: 'collision', graph: g }]);
  assert.deepEqual(keras.given, keras.unrolled);
  assert.deepEqual(keras.given, ['st_r1_c1', 'st_r2_c1', 'st_r2_c1_2', 'x', 'y']);
});

test('layer-name literals under a prefix become expressions of name, and nothing else changes', () => {
  assert.equal(
    rewritePython('y = layers.Dense(4, name="st_r2_fc")(st_r2)  # "st_r2x" "st_r2"', 'st_r2', 'name'),
    'y = layers.Dense(4, name=f"{name}_fc")(st_r2)  # "st_r2x" name',
  );
  assert.equal(rewritePython('y = f(x, f"st_r2_rest_r{i}")', 'st_r2', 'name'), 'y = f(x, f"{name}_rest_r{i}")');
  assert.equal(rewritePython('y = Helper(name="st_r2_{x}")(x)', 'st_r2', 'name'), 'y = Helper(name=f"{name}_{{x}}")(x)');
  assert.equal(
    rewriteTypescript("const y = tf.layers.dense({ units: 4, name: 'st_r2_fc' }).apply(x); g(`st_r2_a${i}`, 'it\\'s', \"st_r2\");", 'st_r2', 'name'),
    "const y = tf.layers.dense({ units: 4, name: `${name}_fc` }).apply(x); g(`${name}_a${i}`, 'it\\'s', name);",
  );
});

test('a bypassed node is left out of the PyTorch, Keras and TypeScript exports', () => {
  const g = graph(
    [
      ['x', 'io.input', { kind: 'vector', features: 4 }],
      ['hidden', 'core.dense', { units: 4 }],
      ['y', 'io.output'],
    ],
    chain('x', 'hidden', 'y'),
  );
  g.nodes[1].bypass = true;
  assert.doesNotMatch(exportPytorch(g).code, /self\.hidden|nn\.Linear/);
  assert.doesNotMatch(exportKeras(g), /name="hidden"/);
  assert.doesNotMatch(exportTfjs(g), /name: 'hidden'/);
});

test("composites labelled after the copied Python's module-level names (runtime, explain, caption report) do not redefine them", () => {
  const names = [...new Set([torchRuntimeSource(), torchSourceBody('explain.py'), kerasRuntimeSource(), captionReportSource()].flatMap(pythonTopLevelNames))];
  assert.ok(names.includes('load_arrays') && names.includes('read_safetensors') && names.includes('report_captions'), names.join(', '));
  const composites = names.map((label, i) =>
    composite(
      `c${i}`,
      // Widths differ, so that no two composites share one function or class.
      [cin('in'), ['d', 'core.dense', { units: i + 2 }], cout('out')],
      [
        ['in.out', 'd.in'],
        ['d.out', 'out.in'],
      ],
      label,
    ),
  );
  const ids = names.map((_, i) => `n${i}`);
  const g = graphWith(
    composites,
    [['x', 'io.input', { kind: 'vector', features: 4 }], ...ids.map((id, i): [string, string] => [id, use(`c${i}`)]), ['y', 'io.output']],
    chain('x', ...ids, 'y'),
  );
  for (const [target, code] of [
    ['PyTorch', exportPytorch(g).code],
    ['Keras', exportKeras(g)],
  ]) {
    const defined = code.split('\n').flatMap((l) => /^(?:class|def)\s+(\w+)|^(\w+)\s*=(?!=)/.exec(l)?.slice(1).filter(Boolean) ?? []);
    const twice = defined.filter((n, i) => defined.indexOf(n) !== i);
    assert.deepEqual(twice, [], `${target}: defined twice at module level`);
  }
});
