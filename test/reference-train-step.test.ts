// One training step with BatchNorm in training mode, against PyTorch: He et
// al.'s ResNet-20 with SE or with the authors' CBAM, written from the papers
// (test/helpers/resnet20.py), random weights and BatchNorm statistics, one SGD
// step (momentum 0.9) on the same batch there and in the app's trainer from the
// same imported weights. Every weight after the step, BatchNorm's running
// statistics included (CBAM's spatial gate updates them with momentum 0.01),
// agrees within 1e-4.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArrayDataset } from '../engine/data/dataset.js';
import { exportPytorch } from '../engine/export/pytorch.js';
import { torchStateDict } from '../engine/export/torch-weights.js';
import { Trainer } from '../engine/train/trainer.js';
import { readNpy } from '../engine/weights/npy.js';
import { readWeightsFile } from '../engine/weights/import.js';
import { recogniseSource } from '../engine/weights/source-names.js';
import { attn } from './helpers/cli.js';
import { loadTemplate, templatesDir } from './helpers/graphs.js';
import { PYTHON, skipWithoutTorch } from './helpers/torch.js';
import { tfReady } from './helpers/tf.js';

process.env.ATTN_PYTHON = PYTHON;
const helper = fileURLToPath(new URL('../../test/helpers/train_step_torch.py', import.meta.url));

/** A state_dict file under our export's names (translated from a reference's, as `attn weights import` does). */
function stateDict(file: string) {
  const arrays = readWeightsFile(file, PYTHON).filter((a) => !a.name.endsWith('num_batches_tracked'));
  return recogniseSource(arrays, [])?.translate(arrays) ?? arrays;
}

for (const [unit, template, name] of [
  ['se', 'se-resnet20-mnist', 'SE-ResNet-20'],
  ['cbam', 'cbam-resnet20-mnist', 'CBAM-ResNet-20'],
] as const) {
  test(`one SGD step of ${name} with BatchNorm in training mode equals PyTorch within 1e-4, running statistics included`, { timeout: 300_000 }, async (t) => {
    if (skipWithoutTorch(t, `a training step of ${name} against PyTorch`)) return;
    const dir = mkdtempSync(path.join(tmpdir(), `attn-step-${unit}-`));
    const lr = 0.05;
    execFileSync(PYTHON, [helper, unit, dir, String(lr)], { stdio: 'inherit', timeout: 120_000 });
    const file = path.join(templatesDir, `${template}.attn.json`);
    const imported = await attn('weights', 'import', file, path.join(dir, 'before.pth'), '--out', path.join(dir, 'run'));
    assert.equal(imported.code, 0, imported.stderr);

    const tf = await tfReady;
    const graph = loadTemplate(`${template}.attn.json`);
    const x = readNpy(readFileSync(path.join(dir, 'x.npy')), 'x.npy');
    const y = readNpy(readFileSync(path.join(dir, 'y.npy')), 'y.npy');
    const batch = new ArrayDataset({
      name: 'batch',
      inputShape: [28, 28, 1],
      classNames: Array.from({ length: 10 }, (_, i) => String(i)),
      x: Float32Array.from(x.data),
      labels: Int32Array.from(y.data),
    });
    const trainer = new Trainer({
      tf,
      graph,
      data: { train: batch, validation: batch, classNames: batch.classNames },
      config: { epochs: 1, batchSize: 16, optimizer: 'sgd', lr, momentum: 0.9, probe: { enabled: false }, initWeights: path.join(dir, 'run') },
    });
    try {
      const done = await trainer.run();
      assert.equal(done.steps, 1);
      const ours = new Map(torchStateDict(trainer.model, exportPytorch(trainer.graph)).map((a) => [a.name, a]));
      const want = stateDict(path.join(dir, 'after.pth'));
      assert.equal(want.length, ours.size);
      let worst = { diff: 0, name: '' };
      let moved = 0;
      const before = new Map(stateDict(path.join(dir, 'before.pth')).map((a) => [a.name, a.data]));
      for (const w of want) {
        const o = ours.get(w.name);
        assert.ok(o, `no ${w.name} in the app's model`);
        w.data.forEach((v, i) => {
          const d = Math.abs(v - o.data[i]);
          if (d > worst.diff) worst = { diff: d, name: w.name };
        });
        if (w.data.some((v, i) => v !== before.get(w.name)![i])) moved++;
      }
      console.log(
        `${name}, one SGD step in training mode: max |w_app - w_torch| = ${worst.diff.toExponential(2)} (${worst.name}); ${moved} of ${want.length} arrays moved`,
      );
      assert.ok(moved > want.length * 0.9, 'the step moved the weights and statistics');
      assert.ok(worst.diff < 1e-4, `${worst.name} differs by ${worst.diff}`);
    } finally {
      trainer.dispose();
    }
  });
}
