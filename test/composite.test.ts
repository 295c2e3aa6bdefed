// Composite blocks: shapes and diagnostics through them (repeats, nesting,
// recursion), the v1 -> v2 migration, compiling (equal to the same graph drawn
// flat), attention outputs inside, export, and `attn summary`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { portsOf } from '../engine/blocks/contract.js';
import { analyzeGraph } from '../engine/shapes/analyze.js';
import { loadGraphFile } from '../engine/shapes/load.js';
import { checkGraphSchema, graphSchema, parseGraphText, serializeGraph } from '../engine/graph/schema.js';
import { inlineGraph } from '../engine/shapes/inline.js';
import type { Diagnostic, GraphFile } from '../engine/graph/types.js';
import { compileGraph } from '../engine/compile/compile.js';
import { nodeInitializers } from '../engine/blocks/initializers.js';
import { countBlockParams } from '../renderer/src/params/count.js';
import { exportTfjs } from '../engine/export/tfjs.js';
import { ExportError } from '../engine/export/plan.js';
import { main } from '../engine/cli.js';
import { tfReady } from './helpers/tf.js';
import { graph } from './helpers/graphs.js';
import { checkTfjsExport, pyCompile } from './helpers/exports.js';
import { prepareTorchCase, runTorchCases, skipWithoutTorch } from './helpers/torch.js';
import { cin, composite, cout, graphWith, resnet50Composite, use } from './helpers/composites.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/composites/', import.meta.url));
const loadFixture = (name: string): GraphFile => {
  const r = parseGraphText(readFileSync(`${fixtures}${name}`, 'utf8'));
  assert.ok(r.graph, JSON.stringify(r.diagnostics));
  return r.graph;
};

/** conv 3×3 → ReLU → conv 3×3, added to the input; keeps the shape. */
const res = (filters = 4) =>
  composite(
    'res',
    [cin('in'), ['c1', 'core.conv2d', { filters }], ['relu', 'core.activation'], ['c2', 'core.conv2d', { filters }], ['add', 'core.add'], cout('out')],
    [
      ['in.out', 'c1.in'],
      ['c1.out', 'relu.in'],
      ['relu.out', 'c2.in'],
      ['c2.out', 'add.in1'],
      ['in.out', 'add.in2'],
      ['add.out', 'out.in'],
    ],
  );
/** A strided convolution: halves height and width, 8 channels. */
const down = () =>
  composite(
    'down',
    [cin('in'), ['conv', 'core.conv2d', { filters: 8, stride: 2 }], cout('out')],
    [
      ['in.out', 'conv.in'],
      ['conv.out', 'out.in'],
    ],
  );
const image = (h: number, c: number): [string, string, Record<string, unknown>] => ['x', 'io.input', { kind: 'image', height: h, width: h, channels: c }];

/** The fields a test states exactly. */
const brief = (ds: Diagnostic[]) =>
  ds.map(({ nodeId, port, param, path, copy, composite, message }) =>
    Object.fromEntries(Object.entries({ nodeId, port, param, path, copy, composite, message }).filter(([, v]) => v !== undefined)),
  );

const pair = () =>
  composite(
    'pair',
    [cin('in'), ['a', use('res'), { repeat: 2 }], ['b', use('down')], cout('out')],
    [
      ['in.out', 'a.in'],
      ['a.out', 'b.in'],
      ['b.out', 'out.in'],
    ],
  );

test('shapes flow through composites, repeats and nested composites; each use gets its own inner shapes', () => {
  const g = graphWith(
    [res(), down(), pair()],
    [image(16, 4), ['r', use('res'), { repeat: 3 }], ['p', use('pair')], ['d1', use('down')], ['d2', use('down')], ['y', 'io.output']],
    [
      ['x.out', 'r.in'],
      ['r.out', 'p.in'],
      ['p.out', 'd1.in'],
      ['d1.out', 'd2.in'],
      ['d2.out', 'y.in'],
    ],
  );
  const a = analyzeGraph(g);
  assert.deepEqual(a.diagnostics, []);
  const node = (id: string) => a.nodes.get(id)!;
  assert.deepEqual(node('r').outputShapes, { out: [null, 16, 16, 4] });
  assert.equal(node('r').copies!.length, 3);
  assert.deepEqual(node('r').copies![2].nodes.get('c2')!.outputShapes, { out: [null, 16, 16, 4] });
  assert.deepEqual(node('r').copies![0].edgeShapes, [
    [null, 16, 16, 4],
    [null, 16, 16, 4],
    [null, 16, 16, 4],
    [null, 16, 16, 4],
    [null, 16, 16, 4],
    [null, 16, 16, 4],
  ]);
  // Nested: pair = res ×2 then down.
  const inner = node('p').copies![0];
  assert.equal(inner.nodes.get('a')!.copies!.length, 2);
  assert.deepEqual(inner.nodes.get('a')!.copies![1].nodes.get('add')!.outputShapes, { out: [null, 16, 16, 4] });
  assert.deepEqual(inner.nodes.get('b')!.copies![0].nodes.get('conv')!.outputShapes, { out: [null, 8, 8, 8] });
  assert.deepEqual(node('p').outputShapes, { out: [null, 8, 8, 8] });
  // The same composite used twice sees two input shapes.
  assert.deepEqual(node('d1').copies![0].nodes.get('conv')!.inputShapes, { in: [null, 8, 8, 8] });
  assert.deepEqual(node('d2').copies![0].nodes.get('conv')!.inputShapes, { in: [null, 4, 4, 8] });
  assert.deepEqual(node('d2').outputShapes, { out: [null, 2, 2, 8] });
  assert.deepEqual(a.edgeShapes, [
    [null, 16, 16, 4],
    [null, 16, 16, 4],
    [null, 8, 8, 8],
    [null, 4, 4, 8],
    [null, 2, 2, 8],
  ]);
  // The composite's block: ports from its port nodes, the label, the repeat parameter.
  const block = a.composites.get('pair')!.block;
  assert.equal(block.type, 'composite:pair');
  assert.deepEqual(
    (['inputs', 'outputs'] as const).map((side) => portsOf(block, { repeat: 1 }, side).map((p) => p.name)),
    [['in'], ['out']],
  );
  assert.deepEqual(block.inferShape({ params: { repeat: 1 }, inputs: { in: [null, 10, 10, 4] } }), { out: [null, 5, 5, 8] });
});

test('a problem inside a composite is on the composite node, naming the composite, the copy and the inner node', () => {
  const g = graphWith(
    [res(), down(), pair()],
    [
      ['v', 'io.input', { kind: 'vector', features: 5 }],
      ['d', use('down')],
      image(6, 3),
      ['r', use('res'), { repeat: 2 }],
      ['p', use('pair')],
      ['y1', 'io.output'],
      ['y2', 'io.output'],
      ['y3', 'io.output'],
    ],
    [
      ['v.out', 'd.in'],
      ['d.out', 'y1.in'],
      ['x.out', 'r.in'],
      ['r.out', 'y2.in'],
      ['x.out', 'p.in'],
      ['p.out', 'y3.in'],
    ],
  );
  const a = analyzeGraph(g);
  assert.deepEqual(brief(a.diagnostics), [
    {
      nodeId: 'd',
      path: ['d', 'conv'],
      copy: [1],
      composite: 'down',
      message: 'in composite "down", node "conv" port "in": input "in" needs rank 4 (batch included), but the incoming tensor is [?, 5] (rank 2)',
    },
    {
      nodeId: 'r',
      path: ['r', 'add'],
      copy: [1],
      composite: 'res',
      message: 'in composite "res" (copy 1 of 2), node "add" port "in2": cannot broadcast [?, 6, 6, 4] with [?, 6, 6, 3]: axis 3 is 4 vs 3',
    },
    {
      nodeId: 'p',
      path: ['p', 'a', 'add'],
      copy: [1, 1],
      composite: 'res',
      message:
        'in composite "pair", node "a": in composite "res" (copy 1 of 2), node "add" port "in2": cannot broadcast [?, 6, 6, 4] with [?, 6, 6, 3]: axis 3 is 4 vs 3',
    },
  ]);
  assert.equal(a.nodes.get('r')!.outputShapes, undefined);
});

test("a composite's own mistakes are reported once, on the first node that uses it; unused ones without a node", () => {
  const broken = composite(
    'broken',
    [cin('in'), ['c', 'core.conv2', { filters: 2 }], ['k', 'core.conv2d', { kernel: 0 }], cout('out'), ['o2', 'io.compositeOutput', { name: 'out' }]],
    [
      ['in.out', 'c.in'],
      ['c.out', 'k.in'],
      ['k.out', 'out.in'],
    ],
  );
  const stray = composite(
    'stray',
    [['i', 'io.input'], ['d', 'core.dense'], cout('out')],
    [
      ['i.out', 'd.in'],
      ['d.out', 'out.in'],
    ],
  );
  const g = graphWith(
    [broken, stray, res(), res()],
    [image(6, 4), ['b1', use('broken')], ['b2', use('broken')], ['m', use('missing')], ['ci', 'io.compositeInput'], ['y', 'io.output'], ['y2', 'io.output']],
    [
      ['x.out', 'b1.in'],
      ['b1.out', 'b2.in'],
      ['b2.out', 'y.in'],
      ['x.out', 'y2.in'],
    ],
  );
  assert.deepEqual(brief(analyzeGraph(g).diagnostics), [
    { composite: 'res', message: 'duplicate composite id "res": every composite needs its own id' },
    { nodeId: 'm', message: 'unknown composite "missing" (this file defines "broken", "stray", "res")' },
    { nodeId: 'ci', message: 'a Composite input (io.compositeInput) belongs inside a composite' },
    { nodeId: 'b1', path: ['b1', 'o2'], composite: 'broken', message: 'in composite "broken", node "o2": two output ports are named "out"' },
    {
      nodeId: 'b1',
      path: ['b1', 'c'],
      composite: 'broken',
      message: 'in composite "broken", node "c": unknown block type "core.conv2" (did you mean "core.conv2d"?)',
    },
    { nodeId: 'b1', path: ['b1', 'k'], composite: 'broken', message: 'in composite "broken", node "k": parameter "kernel" must be between 1 and 64 (got 0)' },
    {
      nodeId: 'b1',
      path: ['b1', 'o2'],
      composite: 'broken',
      message: 'in composite "broken", node "o2" port "in": required input "in" of "o2" (Composite output) is not connected',
    },
    {
      composite: 'stray',
      message: 'in composite "stray" (not used), node "i": an Input node cannot be inside a composite: use a Composite input (io.compositeInput)',
    },
    { composite: 'stray', message: 'in composite "stray" (not used): it has no Composite input node (io.compositeInput): add one per input port' },
  ]);
});

test('composites that contain themselves are refused, naming the chain', async () => {
  const r = await loadGraphFile(`${fixtures}composite-cycle.attn.json`);
  assert.deepEqual(brief(r.diagnostics), [
    {
      nodeId: 't',
      path: ['t', 'useB'],
      composite: 'a',
      message: 'in composite "a", node "useB": composite "a" contains itself (a → b → a); composites cannot be recursive',
    },
    {
      nodeId: 't',
      path: ['t', 'useB', 'useA'],
      composite: 'b',
      message: 'in composite "a", node "useB": in composite "b", node "useA": composite "b" contains itself (b → a → b); composites cannot be recursive',
    },
  ]);
  const self = composite(
    'loop',
    [cin(), ['again', use('loop')], cout()],
    [
      ['in.out', 'again.in'],
      ['again.out', 'out.in'],
    ],
  );
  const g = graphWith(
    [self],
    [
      ['x', 'io.input', { kind: 'vector' }],
      ['l', use('loop')],
      ['y', 'io.output'],
    ],
    [
      ['x.out', 'l.in'],
      ['l.out', 'y.in'],
    ],
  );
  assert.deepEqual(
    analyzeGraph(g).diagnostics.map((d) => d.message),
    ['in composite "loop", node "again": composite "loop" contains itself (loop → loop); composites cannot be recursive'],
  );
});

test('repeat needs one input and one output of the same shape', () => {
  const merge = composite(
    'merge',
    [cin('a'), cin('b'), ['add', 'core.add'], cout()],
    [
      ['a.out', 'add.in1'],
      ['b.out', 'add.in2'],
      ['add.out', 'out.in'],
    ],
  );
  const g = graphWith(
    [down(), merge],
    [image(6, 4), ['d', use('down'), { repeat: 2 }], ['m', use('merge'), { repeat: 3 }], ['y', 'io.output'], ['y2', 'io.output']],
    [
      ['x.out', 'd.in'],
      ['d.out', 'y.in'],
      ['x.out', 'm.a'],
      ['x.out', 'm.b'],
      ['m.out', 'y2.in'],
    ],
  );
  assert.deepEqual(brief(analyzeGraph(g).diagnostics), [
    { nodeId: 'm', param: 'repeat', message: 'only a composite with one input and one output can repeat; "merge" has 2 inputs and 1 output' },
    {
      nodeId: 'd',
      param: 'repeat',
      message:
        'a repeated composite must give its output the shape of its input, so that each copy feeds the next; "down" turns [?, 6, 6, 4] into [?, 3, 3, 8]',
    },
  ]);
});

test('version 1 files load as version 2 and save as version 2; newer versions are refused', async () => {
  const text = readFileSync(`${fixtures}v1-mlp.attn.json`, 'utf8');
  const v1 = JSON.parse(text);
  assert.equal(v1.version, 1);
  const r = await loadGraphFile(`${fixtures}v1-mlp.attn.json`);
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.graph!.version, 2);
  assert.deepEqual({ ...r.graph, version: 1 }, v1, 'nothing else changes');
  assert.equal(JSON.parse(serializeGraph(r.graph!)).version, 2);
  // The training process's command schema reads both, as version 2.
  assert.equal(graphSchema.parse(v1).version, 2);
  assert.equal(graphSchema.safeParse({ ...v1, version: 3 }).success, false);

  const v3 = await loadGraphFile(`${fixtures}version-3.attn.json`);
  assert.deepEqual(brief(v3.diagnostics), [{ message: 'this file is format version 3, made by a newer Attention Studio; this version reads up to version 2' }]);
  assert.equal(v3.graph, undefined);
  assert.match(checkGraphSchema({ ...v1, version: 0 }).diagnostics[0].message, /unknown format version 0/);
  // A malformed composite is a schema error with its path.
  const bad = checkGraphSchema({ ...v1, version: 2, composites: [{ id: '9 lives', nodes: [] }] });
  assert.deepEqual(
    bad.diagnostics.map((d) => d.message),
    ['composites[0] ("9 lives").id: must start with a letter or "_" and hold only letters, digits, "_", "." and "-" (at most 100)'],
  );
});

/** The residual fixture drawn flat, its node ids being the layer names the compiler gives the inlined nodes. */
function residualFlat(): GraphFile {
  const nodes: Parameters<typeof graph>[0] = [image(6, 4)];
  const edges: Parameters<typeof graph>[1] = [];
  let prev = 'x.out';
  for (const r of ['st_r1', 'st_r2']) {
    nodes.push(
      [`${r}_c1`, 'core.conv2d', { filters: 4, kernel: 3 }],
      [`${r}_relu`, 'core.activation', { fn: 'relu' }],
      [`${r}_c2`, 'core.conv2d', { filters: 4, kernel: 3 }],
      [`${r}_add`, 'core.add'],
    );
    edges.push([prev, `${r}_c1.in`], [`${r}_c1.out`, `${r}_relu.in`], [`${r}_relu.out`, `${r}_c2.in`], [`${r}_c2.out`, `${r}_add.in1`], [prev, `${r}_add.in2`]);
    prev = `${r}_add.out`;
  }
  nodes.push(
    ['d_conv', 'core.conv2d', { filters: 8, kernel: 3, stride: 2, activation: 'relu' }],
    ['gap', 'core.globalPool2d', { mode: 'avg' }],
    ['head', 'core.classificationHead', { classes: 3 }],
    ['y', 'io.output'],
  );
  edges.push([prev, 'd_conv.in'], ['d_conv.out', 'gap.in'], ['gap.out', 'head.in'], ['head.probs', 'y.in']);
  return { ...graph(nodes, edges, 'flat'), seed: 5 };
}

test('compiling inlines composites: the same layers, weights and outputs as the graph drawn flat', async () => {
  const tf = await tfReady;
  const g = loadFixture('residual.attn.json');
  const c = compileGraph(tf, g);
  const f = compileGraph(tf, residualFlat());
  const layers = (m: typeof c.model) => m.layers.map((l) => l.name).sort();
  assert.deepEqual(layers(c.model), layers(f.model));
  assert.equal(c.params, f.params);
  assert.equal(c.trainableParams, f.trainableParams);
  const weights = (m: typeof c.model) => Object.fromEntries(m.weights.map((w) => [w.originalName, Array.from(w.read().dataSync())]));
  assert.deepEqual(weights(c.model), weights(f.model), 'seeded by layer name, so the same initial weights');
  const xs = tf.randomNormal([3, 6, 6, 4], 0, 1, 'float32', 11);
  const [ya, yb] = [c.model.predict(xs), f.model.predict(xs)] as ReturnType<typeof tf.zeros>[];
  assert.deepEqual(Array.from(ya.dataSync()), Array.from(yb.dataSync()));
  assert.deepEqual(
    c.outputs.map((o) => o.loss),
    ['categoricalCrossentropy'],
  );

  // Parameters per node: the composite node gets everything inside it.
  const conv = 3 * 3 * 4 * 4 + 4;
  assert.deepEqual(c.nodeParams.get('st'), { params: 4 * conv, trainable: 4 * conv });
  assert.deepEqual(c.nodeParams.get('d'), { params: 3 * 3 * 4 * 8 + 8, trainable: 3 * 3 * 4 * 8 + 8 });
  assert.equal(
    [...c.nodeParams.values()].reduce((s, p) => s + p.params, 0),
    c.params,
  );
  assert.deepEqual([...c.innerParams.keys()], ['st#1/c1', 'st#1/relu', 'st#1/c2', 'st#1/add', 'st#2/c1', 'st#2/relu', 'st#2/c2', 'st#2/add', 'd/conv']);
  assert.equal(c.innerParams.get('st#2/c2')!.params, conv);
  tf.dispose([xs, ya, yb]);
  c.model.dispose();
  f.model.dispose();
});

test('a composite block builds its inside like any block builds its layers (so per-node counters work on it)', async () => {
  const tf = await tfReady;
  const a = analyzeGraph(loadFixture('residual.attn.json'));
  const st = a.nodes.get('st')!;
  const x = tf.input({ shape: [6, 6, 4] });
  const out = st.block.build(tf, { params: st.params, inputs: { in: x }, inputShapes: st.inputShapes, name: 'st', init: nodeInitializers(tf, 1, 'st') });
  assert.deepEqual(out.out.shape, st.outputShapes!.out);
  const m = tf.model({ inputs: x, outputs: out.out });
  assert.equal(m.countParams(), 592);
  assert.deepEqual(
    m.layers.slice(1).map((l) => l.name),
    ['st_r1_c1', 'st_r1_relu', 'st_r1_c2', 'st_r1_add', 'st_r2_c1', 'st_r2_relu', 'st_r2_c2', 'st_r2_add'],
  );
  m.dispose();
  // The editor's counter builds each node's block on its own.
  assert.equal(countBlockParams(tf, st.block, { type: st.block.type, params: st.params, inputs: { in: { shape: [null, 6, 6, 4], dtype: 'float32' } } }), 592);
  assert.throws(() => st.block.inferShape({ params: { repeat: 1 }, inputs: { in: [null, 6, 6, 3] } }), /cannot broadcast \[\?, 6, 6, 4\] with \[\?, 6, 6, 3\]/);
});

test('attention outputs inside composites are found, one per copy, with their path', async () => {
  const tf = await tfReady;
  const se = composite(
    'seunit',
    [cin(), ['conv', 'core.conv2d', { filters: 8 }], ['se', 'attention.squeezeExcitation', { reduction: 4 }], cout()],
    [
      ['in.out', 'conv.in'],
      ['conv.out', 'se.in'],
      ['se.out', 'out.in'],
    ],
  );
  const g = graphWith(
    [se],
    [image(5, 8), ['s', use('seunit'), { repeat: 2 }], ['y', 'io.output', { loss: 'none' }]],
    [
      ['x.out', 's.in'],
      ['s.out', 'y.in'],
    ],
  );
  const c = compileGraph(tf, g);
  assert.deepEqual(
    c.attention.map(({ nodeId, path, copy, port, kind, shape }) => ({ nodeId, path, copy, port, kind, shape })),
    [
      { nodeId: 's#1/se', path: ['s', 'se'], copy: [1], port: 'weights', kind: 'channel', shape: [null, 8] },
      { nodeId: 's#2/se', path: ['s', 'se'], copy: [2], port: 'weights', kind: 'channel', shape: [null, 8] },
    ],
  );
  // A probe model on them runs, and the two copies attend differently (their own weights).
  const probe = tf.model({ inputs: c.model.inputs, outputs: c.attention.map((a) => a.tensor) });
  const xs = tf.randomNormal([2, 5, 5, 8], 0, 1, 'float32', 4);
  const maps = probe.predict(xs) as ReturnType<typeof tf.zeros>[];
  assert.deepEqual(
    maps.map((m) => m.shape),
    [
      [2, 8],
      [2, 8],
    ],
  );
  assert.notDeepEqual(Array.from(maps[0].dataSync()), Array.from(maps[1].dataSync()));
  assert.ok(maps.every((m) => m.dataSync().every((v) => v > 0 && v < 1)));
  tf.dispose([xs, ...maps]);
  c.model.dispose();
});

test('export writes composites as functions: TypeScript runs with the same parameters and outputs; Keras and PyTorch compile', async () => {
  const tf = await tfReady;
  const g = loadFixture('residual.attn.json');
  const code = exportTfjs(g);
  assert.match(code, /^function residualUnit\(x: tf\.SymbolicTensor, name: string\): tf\.SymbolicTensor \{\n.*name: `\$\{name\}_c1`/m);
  assert.match(code, /for \(let i = 1; i <= 2; i\+\+\) stage = residualUnit\(stage, `st_r\$\{i\}`\);/, 'the repeat: a loop over copies st_r1, st_r2');
  const r = await checkTfjsExport(tf, g);
  assert.equal(r.exportedParams, r.compiledParams);
  assert.ok(r.maxAbsDiff <= 1e-5, `max |Δ| ${r.maxAbsDiff}`);
  pyCompile(g);
  // A problem inside refuses the export, naming the composite node.
  const bad = structuredClone(g);
  bad.composites![1].nodes[1].params.kernel = 0;
  assert.throws(
    () => exportTfjs(bad),
    (e: unknown) => e instanceof ExportError && e.nodeId === 'd' && /in composite "down", node "conv": parameter "kernel"/.test(e.message),
  );
});

test('PyTorch export of a composite graph: same trainable parameters and outputs', async (t) => {
  if (skipWithoutTorch(t, 'the PyTorch export of a composite graph')) return;
  const tf = await tfReady;
  const p = prepareTorchCase(tf, loadFixture('residual.attn.json'));
  const [r] = runTorchCases([p]);
  assert.ok(!('error' in r), 'error' in r ? r.error : '');
  if ('error' in r) return;
  assert.equal(r.torchTrainable, p.tfjsTrainable);
  assert.deepEqual([r.missing, r.unexpected], [[], []]);
  assert.ok(r.maxAbsDiff <= 1e-4, `max |Δ| ${r.maxAbsDiff}`);
});

test('attn summary --json: a composite node has the sum of the blocks inside, listed by key', async () => {
  const lines: string[] = [];
  const errors: string[] = [];
  const code = await main(['summary', '--json', `${fixtures}residual.attn.json`], { log: (s) => lines.push(s), err: (s) => errors.push(s) });
  assert.equal(code, 0, errors.join('\n'));
  const s = JSON.parse(lines.join('\n'));
  const st = s.nodes.find((n: { id: string }) => n.id === 'st');
  assert.equal(st.type, 'composite:res');
  assert.equal(st.repeat, 2);
  assert.deepEqual(st.outputShapes, { out: [null, 6, 6, 4] });
  assert.deepEqual(
    st.inner.map((n: { id: string }) => n.id),
    ['st#1/c1', 'st#1/relu', 'st#1/c2', 'st#1/add', 'st#2/c1', 'st#2/relu', 'st#2/c2', 'st#2/add'],
  );
  assert.deepEqual(st.inner[0], { id: 'st#1/c1', type: 'core.conv2d', outputShapes: { out: [null, 6, 6, 4] }, params: 148 });
  assert.equal(
    st.params,
    st.inner.reduce((a: number, n: { params: number }) => a + n.params, 0),
  );
  assert.equal(
    s.nodes.reduce((a: number, n: { params: number }) => a + n.params, 0),
    s.params,
  );

  lines.length = 0;
  assert.equal(await main(['summary', `${fixtures}residual.attn.json`], { log: (l) => lines.push(l), err: (l) => errors.push(l) }), 0);
  assert.match(lines.join('\n'), /^st +composite:res ×2 +out \[\?, 6, 6, 4\] +592$/m);
  assert.match(lines.join('\n'), /^ {2}st#2\/c2 +core\.conv2d +out \[\?, 6, 6, 4\] +148$/m);
});

test("ResNet-50 made of nested, repeated composites: shapes, and torchvision's parameter count", async () => {
  const tf = await tfReady;
  const g = resnet50Composite();
  const a = analyzeGraph(g);
  assert.deepEqual(a.diagnostics, []);
  assert.deepEqual(
    ['stage1', 'stage2', 'stage3', 'stage4'].map((id) => a.nodes.get(id)!.outputShapes!.out),
    [
      [null, 56, 56, 256],
      [null, 28, 28, 512],
      [null, 14, 14, 1024],
      [null, 7, 7, 2048],
    ],
  );
  const inlined = inlineGraph(g, a);
  assert.equal(inlined.filter((n) => n.info.block.type === 'core.conv2d').length, 53, 'the stem, 3 per bottleneck (16), 4 projections');
  assert.ok(inlined.some((n) => n.key === 'stage3/rest#5/conv2' && n.layer === 'stage3_rest_r5_conv2'));
  const c = compileGraph(tf, g);
  assert.equal(c.trainableParams, 25_557_032, 'torchvision.models.resnet50()');
  assert.equal(c.nodeParams.get('stage4')!.trainable, 14_964_736);
  c.model.dispose();
});
