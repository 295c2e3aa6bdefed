// Export: every block and every template, to TypeScript (run under Node: same
// parameter count and outputs), PyTorch (run under python3-torch: same trainable
// parameter count, and the same outputs with exported weights) and Keras (compiles).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { identifier, NameTable } from '../engine/export/names.js';
import { exportPytorch } from '../engine/export/pytorch.js';
import { ExportError } from '../engine/export/plan.js';
import type { GraphFile } from '../engine/graph/types.js';
import { tfReady } from './helpers/tf.js';
import { blockExamples, chain, graph, isInnerBlock, isLargeTemplate, loadTemplate, templateFiles } from './helpers/graphs.js';
import { exportTfjs } from '../engine/export/tfjs.js';
import { compileGraph } from '../engine/compile/compile.js';
import { assertTfjsExportMatches, buildExportedTfjs, checkTfjsExport, pyCompile, pyCompileEach, pyCompileSubtests } from './helpers/exports.js';
import { skipWithoutTorch, torchExportSubtests, torchTrainableCounts } from './helpers/torch.js';

const cases: { name: string; graph: GraphFile }[] = [];
for (const e of blockExamples()) if (isInnerBlock(e.block)) cases.push({ name: e.name, graph: e.graph });
for (const file of templateFiles()) cases.push({ name: `template ${file}`, graph: loadTemplate(file) });

test('names that break code still give valid, unique identifiers', () => {
  const py = new NameTable('python');
  const labels = ['conv "1"', 'line\nbreak', 'Größe ü', '3x3 conv', 'class', 'lambda', 'self', 'conv "1"', '', '💥', 'forward', 'import'];
  const names = labels.map((l) => py.take(l));
  assert.deepEqual(names, [
    'conv_1',
    'line_break',
    'grosse_u',
    'n_3x3_conv',
    'class_',
    'lambda_',
    'self_',
    'conv_1_2',
    'node',
    'node_2',
    'forward_',
    'import_',
  ]);
  for (const n of names) assert.match(n, /^[A-Za-z_][A-Za-z0-9_]*$/);
  const js = new NameTable('typescript');
  assert.deepEqual(
    ['new', 'my layer', 'My Layer', 'delete', '2nd'].map((l) => js.take(l)),
    ['new_', 'myLayer', 'myLayer_2', 'delete_', 'n2nd'],
  );
  assert.equal(identifier('SqueezeExcitation block', 'python'), 'squeeze_excitation_block');
});

test('labels that break code export to code that compiles and runs', async () => {
  const tf = await tfReady;
  const g = graph(
    [
      ['x', 'io.input', { kind: 'vector', features: 4 }],
      ['a', 'core.dense', { units: 3 }],
      ['b', 'core.dense', { units: 3 }],
      ['y', 'io.output'],
    ],
    chain('x', 'a', 'b', 'y'),
  );
  const labels = ['in"put\n', 'class', 'class', 'return'];
  g.nodes.forEach((n, i) => (n.label = labels[i]));
  g.name = 'Model "quoted" \\ */ """ name';
  const t = await checkTfjsExport(tf, g);
  assert.equal(t.exportedParams, t.compiledParams);
  pyCompile(g);
});

test('a graph with errors is refused, naming the node', () => {
  const g = graph(
    [
      ['x', 'io.input', { kind: 'vector' }],
      ['d', 'core.dense', { units: 0 }],
      ['y', 'io.output'],
    ],
    chain('x', 'd', 'y'),
  );
  assert.throws(
    () => exportPytorch(g),
    (e: unknown) => e instanceof ExportError && e.nodeId === 'd' && /units/.test(e.message),
  );
});

for (const c of cases) {
  test(`tfjs export: ${c.name} has the compiled parameter count and outputs`, async () => {
    await assertTfjsExportMatches(await tfReady, c.graph);
  });
}

test('Keras and PyTorch exports compile with python3 -m py_compile', async (t) => {
  await pyCompileSubtests(t, cases);
});

test('PyTorch export: same trainable parameters, and the same outputs with exported weights', async (t) => {
  if (skipWithoutTorch(t, 'the PyTorch export checks')) return;
  await torchExportSubtests(t, await tfReady, cases);
});

test('ImageNet-size templates export to every target with the compiled trainable parameter count', async (t) => {
  // Their forward passes are too slow on the cpu backend for a test: the exported TypeScript is built and
  // counted, the Python compiled, and the PyTorch model's trainable parameters counted.
  const tf = await tfReady;
  const large = templateFiles({ large: true }).filter((f) => isLargeTemplate(loadTemplate(f)));
  assert.ok(large.length >= 8, `the ImageNet-size templates (${large.length})`);
  const counts: number[] = [];
  for (const f of large) {
    const g = loadTemplate(f);
    const c = compileGraph(tf, g);
    counts.push(c.trainableParams);
    const exported = await buildExportedTfjs(exportTfjs(g));
    assert.equal(exported.countParams(), c.params, `${f}: the exported TypeScript builds the compiled model's parameter count`);
    c.model.dispose();
    exported.dispose();
  }
  pyCompileEach(large.map((f) => loadTemplate(f))).forEach((problem, i) => assert.equal(problem, null, `${large[i]}: ${problem?.message}`));
  if (skipWithoutTorch(t, 'the PyTorch parameter counts of the ImageNet-size templates')) return;
  const torch = torchTrainableCounts(large.map((f) => exportPytorch(loadTemplate(f)).code));
  large.forEach((f, i) => assert.equal(torch[i], counts[i], f));
});
