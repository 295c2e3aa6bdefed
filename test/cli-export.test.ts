// `attn export`, run as a user runs it: code to stdout or a file, and a trained
// run's weights that make the exported PyTorch model give the trained model's outputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { templatesDir } from './helpers/graphs.js';
import { attn, brokenDir } from './helpers/cli.js';
import { tfReady } from './helpers/tf.js';
import { folderHandler } from '../engine/train/checkpoint.js';
import { compileGraph } from '../engine/compile/compile.js';
import { parseGraphText } from '../engine/graph/schema.js';
import { encodeSafetensors } from '../engine/export/safetensors.js';
import { permuteArray } from '../engine/export/torch-weights.js';
import { PYTHON, skipWithoutTorch } from './helpers/torch.js';

const runner = fileURLToPath(new URL('../../test/helpers/run_torch_export.py', import.meta.url));

test('export prints each target, and refuses a broken graph naming the node', async () => {
  const cnn = `${templatesDir}mnist-cnn.attn.json`;
  const py = await attn('export', cnn, '--to', 'pytorch');
  assert.equal(py.code, 0, py.stderr);
  assert.match(py.stdout, /class Model\(nn\.Module\):/);
  assert.match(py.stdout, /def example_inputs\(\):/);
  assert.match((await attn('export', cnn, '--to', 'keras')).stdout, /def build_model\(\):/);
  assert.match((await attn('export', cnn, '--to', 'tfjs')).stdout, /export function buildModel\(\): tf\.LayersModel/);
  const bad = await attn('export', `${brokenDir}rank-mismatch.attn.json`, '--to', 'pytorch');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /node "c" port "in"/);
  assert.equal((await attn('export', cnn, '--to', 'onnx')).code, 2);
});

test('export --weights: the PyTorch model gives the trained tfjs model outputs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'attn-export-run-'));
  const file = `${templatesDir}bench-se-cnn.attn.json`;
  const train = await attn('train', file, '--dataset', 'mnist', '--epochs', '1', '--limit', '256', '--batch-size', '64', '--out', join(dir, 'run'), '--json');
  assert.equal(train.code, 0, train.stderr);
  const out = join(dir, 'case', 'model.py');
  const r = await attn('export', file, '--to', 'pytorch', '--out', out, '--weights', join(dir, 'run'));
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(dir, 'case', 'model-tfjs-model', 'model.json')), 'tfjs model folder');
  if (skipWithoutTorch(t, 'the PyTorch comparison')) return;
  // The trained model as tfjs loads it from the exported folder, on a few real inputs.
  const tf = await tfReady;
  const graph = parseGraphText(readFileSync(file, 'utf8')).graph!;
  compileGraph(tf, graph).model.dispose();
  const model = await tf.loadLayersModel(folderHandler(tf, join(dir, 'case', 'model-tfjs-model')));
  const x = tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 5);
  const y = model.predict(x) as ReturnType<typeof tf.zeros>;
  const nchw = permuteArray(x.dataSync() as Float32Array, x.shape, [0, 3, 1, 2]);
  writeFileSync(join(dir, 'case', 'inputs.safetensors'), encodeSafetensors([{ name: 'input0', ...nchw }]));
  writeFileSync(join(dir, 'case', 'dtypes.json'), '["float"]');
  renameSync(join(dir, 'case', 'model.safetensors'), join(dir, 'case', 'weights.safetensors'));
  const res = JSON.parse((await promisify(execFile)(PYTHON, [runner, join(dir, 'case')])).stdout.trim());
  assert.equal(res.error, undefined, res.error);
  assert.deepEqual(res.missing, []);
  const want = y.dataSync();
  const got = res.outputs[0].data as number[];
  assert.equal(got.length, want.length);
  const diff = Math.max(...got.map((v, i) => Math.abs(v - want[i])));
  assert.ok(diff < 1e-4, `max |Δ| ${diff}`);
  tf.dispose([x, y]);
  model.dispose();
});
