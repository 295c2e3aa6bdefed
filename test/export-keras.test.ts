// The Keras export without Keras (Debian ships none, and the test machines have no
// TensorFlow): every exported file, for every block example and every template,
// names only what the Keras 3 public API has (engine/export/keras/keras3-api.json,
// read from Keras 3.16's generated API files), uses no TensorFlow, defines every
// name it reads, and registers each layer class with a get_config() that covers its
// arguments. The weight loader runs on a real run's weights through `attn export`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportKeras } from '../engine/export/keras.js';
import { KERAS_DIR } from '../engine/export/keras-sources.js';
import { decodeSafetensors } from '../engine/export/safetensors.js';
import { folderHandler } from '../engine/train/checkpoint.js';
import { compileGraph } from '../engine/compile/compile.js';
import { blockExamples, isInnerBlock, loadTemplate, templateFiles, templatesDir } from './helpers/graphs.js';
import { attn } from './helpers/cli.js';
import { writeExports } from './helpers/exports.js';
import { tfReady } from './helpers/tf.js';
import { PYTHON } from './helpers/torch.js';

const checker = fileURLToPath(new URL('../../test/helpers/check_keras_export.py', import.meta.url));
const loaderCheck = fileURLToPath(new URL('../../test/helpers/check_keras_loader.py', import.meta.url));
const API = join(KERAS_DIR, 'keras3-api.json');

/** The checker's problems for some files ([] when they pass). */
function kerasProblems(files: string[]): string[] {
  const r = spawnSync(PYTHON, [checker, API, ...files], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0 && r.status !== 1) throw new Error(`check_keras_export.py failed: ${r.stderr}`);
  const problems = r.stdout.split('\n').filter(Boolean);
  assert.equal(r.status === 1, problems.length > 0, r.stderr);
  return problems;
}

function allExports(): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'attn-keras-'));
  return writeExports(dir, 'py', [
    ...blockExamples()
      .filter((e) => isInnerBlock(e.block) && e.block.emit?.keras)
      .map((e) => ({ name: e.name, code: exportKeras(e.graph) })),
    ...templateFiles({ large: true }).map((f) => ({ name: `template_${f}`, code: exportKeras(loadTemplate(f)) })),
  ]);
}

test('Keras exports of every block example and template call only the Keras 3 API and define every name', () => {
  const files = allExports();
  assert.ok(files.length > 100, `${files.length} exports`);
  assert.ok(files.filter((f) => f.includes('template_')).length >= 22, 'every template');
  assert.deepEqual(kerasProblems(files).slice(0, 20), []);
});

test('the Keras helper files pass the same checks, and every layer in them is registered', () => {
  const files = readdirSync(KERAS_DIR)
    .filter((f) => f.endsWith('.py'))
    .map((f) => join(KERAS_DIR, f));
  assert.ok(files.length >= 5, files.join(', '));
  assert.deepEqual(kerasProblems(files), []);
  const classes = files.flatMap((f) =>
    [
      ...readFileSync(f, 'utf8').matchAll(/^@keras\.saving\.register_keras_serializable\(package="AttentionStudio"\)\nclass (\w+)\(keras\.layers\.Layer\)/gm),
    ].map((m) => m[1]),
  );
  assert.ok(classes.length >= 25, `${classes.length} registered layers: ${classes.join(', ')}`);
});

test('the API check fails on what Keras 3 lacks: an unknown op, TensorFlow, an undefined helper, an unsaved argument', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attn-keras-bad-'));
  const good = exportKeras(loadTemplate('cbam-mnist-small.attn.json'));
  const cases = {
    op: good.replace('ops.sigmoid(', 'ops.sigmoid_v2('),
    tf: good.replace('import keras\n', 'import keras\nimport tensorflow as tf\n'),
    undefined: good.replace(/^@keras\.saving[^\n]*\nclass ChannelAttention\(/m, 'class ChannelAttentionRenamed('),
    config: good.replace('"reduction": self.reduction, ', ''),
  };
  for (const [name, code] of Object.entries(cases)) {
    assert.notEqual(code, good, `case ${name} changes the file`);
    writeFileSync(join(dir, `${name}.py`), code);
  }
  const problems = kerasProblems(Object.keys(cases).map((n) => join(dir, `${n}.py`))).join('\n');
  assert.match(problems, /op\.py:\d+: ops\.sigmoid_v2: keras\.ops has no sigmoid_v2 in Keras 3/);
  assert.match(problems, /tf\.py:\d+: imports tensorflow/);
  assert.match(problems, /undefined\.py:\d+: ChannelAttention is never defined/);
  assert.match(problems, /undefined\.py:\d+: ChannelAttentionRenamed is not registered/);
  assert.match(problems, /config\.py:\d+: ChannelAttention\.get_config\(\) leaves out the argument reduction/);
});

test('the Keras export has a command line, and --weights writes what its loader loads, strictly', async () => {
  const code = exportKeras(loadTemplate('mnist-cnn.attn.json'));
  assert.match(code, /^def load_weights\(model, path\):/m);
  assert.match(code, /^if __name__ == "__main__":\n {4}main\(build_model, train, LOSSES, TRAINING\)/m);
  assert.match(code, /parser\.add_argument\("--data"/);

  const dir = mkdtempSync(join(tmpdir(), 'attn-keras-run-'));
  const file = `${templatesDir}mnist-cnn.attn.json`;
  const train = await attn('train', file, '--dataset', 'mnist', '--epochs', '1', '--limit', '128', '--batch-size', '64', '--out', join(dir, 'run'), '--json');
  assert.equal(train.code, 0, train.stderr);
  const r = await attn('export', file, '--to', 'keras', '--out', join(dir, 'model_keras.py'), '--weights', join(dir, 'run'));
  assert.equal(r.code, 0, r.stderr);
  // The file holds every weight of the trained tfjs model, by name, values as they are.
  const tf = await tfReady;
  const graph = loadTemplate('mnist-cnn.attn.json');
  compileGraph(tf, graph).model.dispose();
  const model = await tf.loadLayersModel(folderHandler(tf, join(dir, 'model_keras-tfjs-model')));
  const stored = new Map(decodeSafetensors(readFileSync(join(dir, 'model_keras.safetensors'))).map((a) => [a.name, a]));
  assert.equal(stored.size, model.weights.length);
  for (const w of model.weights) {
    const a = stored.get(w.originalName);
    assert.ok(a, `no ${w.originalName} in the file`);
    assert.deepEqual(a.shape, w.shape);
    assert.deepEqual(Array.from(a.data), Array.from(w.read().dataSync()));
  }
  model.dispose();

  const res = JSON.parse(execFileSync(PYTHON, [loaderCheck, join(KERAS_DIR, 'runtime.py'), join(dir, 'model_keras.safetensors')], { encoding: 'utf8' }));
  assert.equal(res.count, stored.size);
  assert.equal(res.loaded, true);
  // The model lacks the dropped layer's weights (unexpected in the file) and has one the file lacks.
  const dropped = (res.dropped as string[])
    .sort()
    .map((k) => `'${k}'`)
    .join(', ');
  assert.ok(res.mismatch.endsWith(`does not fit this model: missing weights ['extra/kernel']; unexpected weights [${dropped}]`), res.mismatch);
  assert.match(res.shape_error, /does not fit this model: other shapes for \S+ \(.*\) \(file: \(.*\)\)/);
  assert.deepEqual(res.keys, {
    top: 'conv1/kernel',
    nested: 'enc_self_query/kernel',
    rnn: 'lstm/recurrent_kernel',
    depthwise: 'dw/depthwise_kernel',
    renamed: 'patch_cls/token',
  });
});
