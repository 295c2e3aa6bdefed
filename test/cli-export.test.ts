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
import * as ort from 'onnxruntime-node';

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
  // The same run's weights through --to onnx, under onnxruntime.
  const onnxFile = join(dir, 'case', 'model.onnx');
  const o = await attn('export', file, '--to', 'onnx', '--out', onnxFile, '--weights', join(dir, 'run'));
  assert.equal(o.code, 0, o.stderr);
  const session = await ort.InferenceSession.create(readFileSync(onnxFile));
  const onnxOut = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', nchw.data, nchw.shape) });
  const onnxY = onnxOut[session.outputNames[0]].data as Float32Array;
  const onnxDiff = Math.max(...Array.from(onnxY, (v, i) => Math.abs(v - want[i])));
  assert.ok(onnxDiff < 1e-4, `ONNX max |Δ| ${onnxDiff}`);
  await session.release();
  tf.dispose([x, y]);
  model.dispose();
});

test('export --data writes an .npz that the exported model trains on from a shell', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'attn-export-data-'));
  const file = `${templatesDir}mlp.attn.json`;
  const r = await attn('export', file, '--to', 'pytorch', '--out', join(dir, 'model.py'), '--data', 'mnist', '--samples', '300');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /wrote .*model\.npz \(270 training and 30 validation samples\)/);
  const dataOnly = await attn('export', file, '--data', 'mnist', '--samples', '50', '--out', join(dir, 'only'));
  assert.equal(dataOnly.code, 0, dataOnly.stderr);
  assert.ok(existsSync(join(dir, 'only.npz')));
  assert.equal((await attn('export', file, '--data', 'mnist')).code, 2, '--data needs --out');
  if (skipWithoutTorch(t, 'training the exported model from a shell')) return;
  const run = await promisify(execFile)(PYTHON, ['model.py', '--data', 'model.npz', '--epochs', '2', '--batch-size', '32', '--checkpoint', 'ck.pt'], {
    cwd: dir,
  });
  const losses = [...run.stdout.matchAll(/epoch \d\/2: loss ([\d.]+), val loss [\d.]+, val accuracy ([\d.]+)/g)].map((m) => Number(m[1]));
  assert.equal(losses.length, 2, run.stdout);
  assert.ok(losses[1] < losses[0], `loss ${losses.join(' → ')}`);
  assert.ok(existsSync(join(dir, 'ck.pt')), 'checkpoint');
  // A checkpoint of another model is refused, naming the keys.
  const other = await attn('export', `${templatesDir}mnist-cnn.attn.json`, '--to', 'pytorch', '--out', join(dir, 'other.py'));
  assert.equal(other.code, 0, other.stderr);
  await assert.rejects(
    promisify(execFile)(PYTHON, ['other.py', '--data', 'model.npz', '--weights', 'ck.pt', '--epochs', '1'], { cwd: dir }),
    /does not fit this model: missing keys \[.*\]; unexpected keys \[.*\]/,
  );
});
