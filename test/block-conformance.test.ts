// One conformance test for every block, in the spirit of Keras' layer_test: each
// example a block declares becomes a graph (an Input per input port, an Output per
// output port), and on it
//   1. the shape rule agrees with the tfjs layers, symbolically and on a forward pass;
//   2. one training step moves every trainable weight (weights randomised first, so a
//      zero-initialised gate such as the non-local block's γ does not hide the rest);
//   3. a saved and reloaded model reproduces the outputs;
//   4. every export target matches the compiled model: tfjs code is run, PyTorch code
//      is run (all examples in one Python process), Keras code is compiled;
//   5. leaving a required input unconnected is a diagnostic on the node, naming the port.
// The family test files keep only what is particular to a block: its paper's formula,
// its reference parameter count, its own diagnostics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { registry } from '../engine/blocks/registry.js';
import { portsOf, type Shape, type SymbolicTensor } from '../engine/blocks/contract.js';
import { defaultParams, resolveParams } from '../engine/blocks/params.js';
import { nodeInitializers } from '../engine/blocks/initializers.js';
import { EXPORT_TARGET_IDS, type ExportTarget } from '../engine/blocks/emit/targets.js';
import { compileGraph } from '../engine/compile/compile.js';
import { exportCode } from '../engine/export/targets.js';
import { analyzeGraph } from '../engine/shapes/analyze.js';
import type { GraphFile } from '../engine/graph/types.js';
import { fmtShape } from '../engine/blocks/shape-rules.js';
import { tfReady } from './helpers/tf.js';
import { blockExamples } from './helpers/graphs.js';
import { checkTfjsExport, randomInputs, randomizeWeights } from './helpers/exports.js';
import { PYTHON, skipWithoutTorch, torchExportSubtests } from './helpers/torch.js';

const tf = await tfReady;
type Tensor = tfjs.Tensor;

const examples = blockExamples();
/** io.output is a graph's end: it has no output to compile, train or export on its own. */
const modelled = examples.filter((e) => e.block.type !== 'io.output');

/**
 * Weights whose gradient is zero in theory: a bias added to every key of dot-product
 * attention adds the same number to each of a query's scores, which the softmax ignores
 * (PyTorch's in_proj_bias[E:2E] likewise).
 */
const SOFTMAX_INVARIANT = /_key\/bias/;

// ------------------------------------------------------------------ the catalogue

for (const block of registry.all()) {
  test(`${block.type}: documented, with a valid parameter schema and examples`, () => {
    assert.ok(block.doc.length > 60, 'doc paragraph');
    assert.ok(block.label && block.category);
    const { problems } = resolveParams(block, defaultParams(block) as Record<string, unknown>);
    assert.deepEqual(problems, [], 'defaults pass their own schema');
    assert.ok(block.examples.length > 0, 'at least one example');
    for (const target of EXPORT_TARGET_IDS) assert.ok(block.emit?.[target] || block.type === 'io.output', `emits ${target} code`);
  });
}

// ------------------------------------------------------------------ 1. shapes

const concrete = (s: Shape, batch: number) => s.map((d, i) => (i === 0 ? batch : (d ?? 3)));

function sameShape(actual: readonly (number | null)[], expected: Shape, batch?: number): boolean {
  if (actual.length !== expected.length || expected[0] !== null) return false;
  return expected.every((d, i) => (i === 0 ? (batch === undefined ? actual[0] === null : actual[0] === batch) : d === null || actual[i] === d));
}

for (const { name, block, example, values } of modelled) {
  test(`${name}: the shape rule matches the tfjs layers`, () => {
    const inferred = block.inferShape({ params: values as never, inputs: example.inputs });
    const inPorts = portsOf(block, values as never, 'inputs');
    const inputs: Record<string, SymbolicTensor> = {};
    for (const p of inPorts) {
      const s = example.inputs[p.name];
      if (s) inputs[p.name] = tf.input({ shape: s.slice(1) as number[], dtype: p.dtype ?? 'float32' });
    }
    const built = block.build(tf, {
      params: values as never,
      inputs,
      inputShapes: example.inputs,
      name: `ex_${name.replace(/\W/g, '_')}`,
      init: nodeInitializers(tf, 1, 'n'),
    });
    const outPorts = portsOf(block, values as never, 'outputs');
    for (const p of outPorts) {
      const sym = built[p.name];
      assert.ok(sym, `build returned output "${p.name}"`);
      assert.ok(sameShape(sym.shape, inferred[p.name]), `${p.name}: tfjs ${JSON.stringify(sym.shape)} vs rule ${fmtShape(inferred[p.name])}`);
    }
    const inputList = Object.values(inputs);
    const model = tf.model({ inputs: inputList.length ? inputList : outPorts.map((p) => built[p.name]), outputs: outPorts.map((p) => built[p.name]) });
    const feeds = inputList.length
      ? inPorts
          .filter((p) => inputs[p.name])
          .map((p) => {
            const shape = concrete(example.inputs[p.name], 2);
            return p.dtype === 'int32' ? tf.zeros(shape, 'int32') : tf.randomNormal(shape, 0, 1, 'float32', 7);
          })
      : outPorts.map((p) => tf.zeros(concrete(inferred[p.name], 2), built[p.name].dtype));
    const list = [model.predict(feeds)].flat() as Tensor[];
    outPorts.forEach((p, i) => {
      assert.ok(sameShape(list[i].shape, inferred[p.name], 2), `${p.name}: forward ${JSON.stringify(list[i].shape)} vs rule ${fmtShape(inferred[p.name])}`);
      assert.ok(list[i].dataSync().every(Number.isFinite), `${p.name}: finite values`);
    });
    tf.dispose([...feeds, ...list]);
  });
}

// ------------------------------------------------------------------ 2. training, 3. save and load

const predict = (model: tfjs.LayersModel, feeds: Tensor[]): Float32Array[] => {
  const ys = [model.predict(feeds)].flat() as Tensor[];
  const data = ys.map((y) => Float32Array.from(y.dataSync()));
  tf.dispose(ys);
  return data;
};

/** The trainable weights whose gradient is zero for a fixed random projection of the outputs, in training mode. */
function stuckWeights(model: tfjs.LayersModel, feeds: Tensor[]): string[] {
  const trainable = model.trainableWeights;
  const outputs = [model.apply(feeds, { training: true })].flat() as Tensor[];
  const targets = outputs.map((y, k) => tf.randomNormal(y.shape, 0, 1, 'float32', 11 + k));
  tf.dispose(outputs);
  const vars = trainable.map((w) => w.read() as tfjs.Variable);
  const { value, grads } = tf.variableGrads(() => {
    const ys = [model.apply(feeds, { training: true })].flat() as Tensor[];
    return tf.addN(ys.map((y, k) => (y.dtype === 'float32' ? tf.sum(tf.mul(y, targets[k])) : tf.scalar(0)))) as tfjs.Scalar;
  }, vars);
  const stuck = trainable.filter((w, k) => !(tf.max(tf.abs(grads[vars[k].name])).dataSync()[0] > 0)).map((w) => w.originalName);
  tf.dispose([value, ...Object.values(grads), ...targets]);
  return stuck.filter((name) => !SOFTMAX_INVARIANT.test(name));
}

for (const { name, graph } of modelled) {
  test(`${name}: a training step moves every trainable weight, and save/load reproduces the outputs`, async () => {
    const compiled = compileGraph(tf, graph, { seed: 3 });
    const { model } = compiled;
    const feeds = randomInputs(tf, compiled.inputs, 3, 4);
    try {
      if (model.trainableWeights.length > 0) {
        // A weight no gradient reaches is stuck in every state. The initial state can hide a
        // connected one (the non-local block starts with γ = 0, so W_z has no gradient yet), and so
        // can a random one (a dead ReLU): a weight passes when it moves in either.
        const atInit = stuckWeights(model, feeds);
        randomizeWeights(tf, model, 3);
        const still = atInit.length ? stuckWeights(model, feeds).filter((n) => atInit.includes(n)) : [];
        assert.deepEqual(still, [], 'weights no gradient reaches');
      } else randomizeWeights(tf, model, 3);

      let saved: tfjs.io.ModelArtifacts | undefined;
      await model.save(
        tf.io.withSaveHandler(async (artifacts) => {
          saved = artifacts;
          return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
        }),
      );
      // Through JSON text, as a file on disk would be.
      const topology = JSON.parse(JSON.stringify({ ...saved, weightData: undefined })) as tfjs.io.ModelArtifacts;
      const loaded = await tf.loadLayersModel(tf.io.fromMemory({ ...topology, weightData: saved!.weightData }));
      const before = predict(model, feeds);
      const after = predict(loaded, feeds);
      loaded.dispose();
      before.forEach((y, k) =>
        y.forEach((v, i) =>
          assert.ok(Math.abs(v - after[k][i]) <= 1e-6 * (1 + Math.abs(v)), `output ${k}[${i}]: ${v} before saving, ${after[k][i]} after loading`),
        ),
      );
    } finally {
      tf.dispose(feeds);
      model.dispose();
    }
  });
}

// ------------------------------------------------------------------ 4. exports

for (const { name, graph } of modelled) {
  test(`${name}: the tfjs export has the compiled parameters and outputs`, async () => {
    const r = await checkTfjsExport(tf, graph);
    assert.equal(r.exportedParams, r.compiledParams);
    assert.equal(r.exportedWeights, r.compiledWeights);
    assert.ok(r.maxAbsDiff <= 1e-5, `max |Δ| ${r.maxAbsDiff}`);
  });
}

const PYTHON_TARGETS = EXPORT_TARGET_IDS.filter((t): t is Exclude<ExportTarget, 'tfjs'> => t !== 'tfjs');

test('the Python exports of every example compile (one python3 -m py_compile)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attn-conformance-'));
  const files = modelled.flatMap((e, i) =>
    PYTHON_TARGETS.map((target) => ({ file: join(dir, `${target}_${i}.py`), code: exportCode(e.graph, target), what: `${e.name}, ${target}` })),
  );
  for (const f of files) writeFileSync(f.file, f.code);
  try {
    execFileSync(PYTHON, ['-m', 'py_compile', ...files.map((f) => f.file)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const text = String((err as { stderr?: string }).stderr ?? err);
    const bad = files.find((f) => text.includes(f.file));
    assert.fail(`${bad ? bad.what : 'an export'} does not compile:\n${text}`);
  }
});

test('the PyTorch export of every example: same trainable parameters, and the same outputs on randomised weights', async (t) => {
  if (skipWithoutTorch(t, 'the PyTorch export of every block example')) return;
  await torchExportSubtests(t, tf, modelled);
});

// ------------------------------------------------------------------ 5. diagnostics

for (const { name, block, values, graph } of examples) {
  const required = portsOf(block, values as never, 'inputs').filter((p) => !p.optional);
  if (required.length === 0) continue;
  test(`${name}: an unconnected required input is a diagnostic on the node`, () => {
    assert.deepEqual(
      analyzeGraph(graph).diagnostics.filter((d) => d.severity === 'error'),
      [],
      'the example itself is valid',
    );
    for (const port of required) {
      const cut: GraphFile = { ...graph, edges: graph.edges.filter((e) => !(e.to.node === 'block' && e.to.port === port.name)) };
      const errors = analyzeGraph(cut).diagnostics.filter((d) => d.severity === 'error' && d.nodeId === 'block');
      assert.ok(
        errors.some((d) => d.port === port.name && d.message.includes(`"${port.name}"`)),
        `no diagnostic on port "${port.name}": ${JSON.stringify(errors)}`,
      );
    }
  });
}
