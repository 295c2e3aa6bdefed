// End to end, PyTorch to the app: the ResNet-20 reference (He et al.'s CIFAR
// layout, option A shortcuts, with SE) trained by the PyTorch backend for a few
// hundred steps on MNIST; the state_dict PyTorch wrote imported with `attn
// weights import`; the app's trainer, started from that run, evaluates the same
// validation split to PyTorch's accuracy within half a point.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { prepareData } from '../engine/data/index.js';
import { PytorchRun } from '../engine/pytorch/run.js';
import { readCheckpoint } from '../engine/runs/index.js';
import { resolveCheckpoint } from '../engine/train/checkpoint.js';
import { inputHint } from '../engine/train/setup.js';
import { Trainer } from '../engine/train/trainer.js';
import { attn } from './helpers/cli.js';
import { loadTemplate, templatesDir } from './helpers/graphs.js';
import { skipWithoutTorch } from './helpers/torch.js';
import { selectBackend } from '../engine/backends/select.js';

test('ResNet-20 trained by PyTorch, imported: the app validates it within 0.5 points of PyTorch', { timeout: 600_000 }, async (t) => {
  if (skipWithoutTorch(t, 'ResNet-20 from PyTorch into the app')) return;
  const file = path.join(templatesDir, 'se-resnet20-mnist.attn.json');
  const graph = loadTemplate('se-resnet20-mnist.attn.json');
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-rn20-'));
  const dataset = { name: 'mnist', limit: 3200, seed: 1, validationSplit: 0.125 };
  const config = { epochs: 1, batchSize: 12, optimizer: 'sgd' as const, lr: 0.05, momentum: 0.9, probe: { enabled: false } };
  const run = await PytorchRun.setup({ graph, dataset, config, out: { dir: path.join(dir, 'torch') }, pytorch: { device: 'cpu' } });
  let torchAccuracy: number;
  try {
    const done = await run.run();
    assert.equal(done.steps, 234, 'a few hundred steps');
    torchAccuracy = done.metrics.val_accuracy;
  } finally {
    run.dispose();
  }
  assert.ok(torchAccuracy > 0.5, `PyTorch learnt something: ${torchAccuracy}`);
  // The state_dict as PyTorch wrote it, under the export's names.
  const ck = await readCheckpoint(await resolveCheckpoint(path.join(dir, 'torch')));
  const weights = path.join(dir, 'resnet20.safetensors');
  writeFileSync(weights, ck.files.get('model.safetensors')!);
  const imported = await attn('weights', 'import', file, weights, '--out', path.join(dir, 'imported'));
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, /names: Attention Studio's PyTorch export; loaded \d+ arrays/);

  // wasm: the plain JS backend takes minutes over a ResNet-20's validation pass.
  const { tf } = await selectBackend({ backend: 'wasm' });
  const data = await prepareData(dataset, inputHint(graph));
  const trainer = new Trainer({ tf, graph, data, config: { ...config, initWeights: path.join(dir, 'imported') } });
  try {
    await trainer.loadStartingWeights();
    const ours = (await trainer.evaluate(data.validation)).val_accuracy;
    console.log(
      `ResNet-20 (SE) after 234 PyTorch steps: val accuracy PyTorch ${(100 * torchAccuracy).toFixed(2)} %, app ${(100 * ours).toFixed(2)} % on ${data.validation.size} samples`,
    );
    assert.ok(Math.abs(ours - torchAccuracy) <= 0.005, `app ${ours} vs PyTorch ${torchAccuracy}`);
  } finally {
    trainer.dispose();
  }
});
