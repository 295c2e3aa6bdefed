// One training step with BatchNorm in training mode, against PyTorch, for every
// template with a reference: He et al.'s ResNet-20 with SE or with the authors'
// CBAM (test/helpers/resnet20.py) on 16 MNIST-size images; torchvision's
// resnet50(), timm's seresnet50 layout and the CBAM authors' ResNet-50
// (test/helpers/attention_resnet50.py). Random weights and BatchNorm
// statistics, one SGD step (momentum 0.9) on the same batch there and in the
// app's trainer from the same imported weights. Every weight after the step,
// BatchNorm's running statistics included (CBAM's spatial gate updates them with
// momentum 0.01, and the running variance takes in the batch's unbiased
// variance, as PyTorch's does), agrees with PyTorch's own within 1e-4.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArrayDataset } from '../engine/data/dataset.js';
import { exportPytorch } from '../engine/export/pytorch.js';
import { torchStateDict } from '../engine/export/torch-weights.js';
import type { GraphFile } from '../engine/graph/types.js';
import { Trainer } from '../engine/train/trainer.js';
import { readNpy } from '../engine/weights/npy.js';
import { readWeightsFile } from '../engine/weights/import.js';
import { recogniseSource } from '../engine/weights/source-names.js';
import { attn } from './helpers/cli.js';
import { loadTemplate } from './helpers/graphs.js';
import { runPython } from './helpers/python.js';
import { PYTHON, skipWithoutTorch, skipWithoutTorchvision } from './helpers/torch.js';
import { selectBackend } from '../engine/backends/select.js';

process.env.ATTN_PYTHON = PYTHON;
const helper = fileURLToPath(new URL('../../test/helpers/train_step_torch.py', import.meta.url));

/** A state_dict file under our export's names (translated from a reference's, as `attn weights import` does). */
function stateDict(file: string) {
  const arrays = readWeightsFile(file, PYTHON).filter((a) => !a.name.endsWith('num_batches_tracked'));
  return recogniseSource(arrays, [])?.translate(arrays) ?? arrays;
}

/** The template with its image input resized (global pooling before the head makes the weights size-free). */
function resized(template: string, [height, width, channels]: number[]): GraphFile {
  const graph = loadTemplate(`${template}.attn.json`);
  return { ...graph, nodes: graph.nodes.map((n) => (n.type === 'io.input' ? { ...n, params: { ...n.params, height, width, channels } } : n)) };
}

interface Case {
  kind: string;
  template: string;
  name: string;
  /** One image, HWC. */
  image: number[];
  batch: number;
  classes: number;
  torchvision?: boolean;
  /**
   * wasm, the app's CPU backend (its kernels are checked against the pure-JS cpu backend's in
   * test/backends-wasm-*): on cpu, tfjs's conv2DBackpropFilter reads every element through
   * TensorBuffer.get, and ResNet-20's one step took 106 CPU-s there, 2 CPU-s on wasm (profiled).
   */
  backend: 'wasm';
}

// Each ResNet-50 case takes about 30 s on a quiet 2-core machine (64×64, batch 2, wasm; 21 CPU-s of Node,
// most of it the weight import and compile, plus PyTorch's step). Measured: max |w_app − w_torch| 3.0e-6 (torchvision), 2.4e-6 (SE), 2.2e-6 (CBAM),
// all at a running_var. Their weights keep each bottleneck's last BatchNorm small (train_step_torch.py): with
// gammas near 1 the step is chaotic, and PyTorch's own float32 step differs from its float64 one by 0.57.

const cases: Case[] = [
  { kind: 'se', template: 'se-resnet20-mnist', name: 'SE-ResNet-20', image: [28, 28, 1], batch: 16, classes: 10, backend: 'wasm' },
  { kind: 'cbam', template: 'cbam-resnet20-mnist', name: 'CBAM-ResNet-20', image: [28, 28, 1], batch: 16, classes: 10, backend: 'wasm' },
  {
    kind: 'resnet50',
    template: 'resnet50',
    name: 'ResNet-50 (torchvision)',
    image: [64, 64, 3],
    batch: 2,
    classes: 1000,
    torchvision: true,
    backend: 'wasm',
  },
  {
    kind: 'se-resnet50',
    template: 'se-resnet50',
    name: "SE-ResNet-50 (timm's layout)",
    image: [64, 64, 3],
    batch: 2,
    classes: 1000,
    backend: 'wasm',
  },
  {
    kind: 'cbam-resnet50',
    template: 'cbam-resnet50',
    name: "CBAM-ResNet-50 (the authors')",
    image: [64, 64, 3],
    batch: 2,
    classes: 1000,
    backend: 'wasm',
  },
];

for (const c of cases) {
  test(`one SGD step of ${c.name} with BatchNorm in training mode equals PyTorch within 1e-4, running statistics included`, { timeout: 900_000 }, async (t) => {
    const what = `a training step of ${c.name} against PyTorch`;
    if (c.torchvision ? skipWithoutTorchvision(t, what) : skipWithoutTorch(t, what)) return;
    const dir = mkdtempSync(path.join(tmpdir(), `attn-step-${c.kind}-`));
    const lr = 0.05;
    await runPython([helper, c.kind, dir, String(lr), String(c.image[0]), String(c.batch)], 300_000);
    const graph = resized(c.template, c.image);
    const file = path.join(dir, `${c.template}.attn.json`);
    writeFileSync(file, JSON.stringify(graph));
    const imported = await attn('weights', 'import', file, path.join(dir, 'before.pth'), '--out', path.join(dir, 'run'));
    assert.equal(imported.code, 0, imported.stderr);

    const { tf } = await selectBackend({ backend: c.backend });
    const x = readNpy(readFileSync(path.join(dir, 'x.npy')), 'x.npy');
    const y = readNpy(readFileSync(path.join(dir, 'y.npy')), 'y.npy');
    assert.deepEqual(x.shape, [c.batch, ...c.image]);
    const batch = new ArrayDataset({
      name: 'batch',
      inputShape: c.image,
      classNames: Array.from({ length: c.classes }, (_, i) => String(i)),
      x: Float32Array.from(x.data),
      labels: Int32Array.from(y.data),
    });
    const trainer = new Trainer({
      tf,
      graph,
      data: { train: batch, validation: batch, classNames: batch.classNames },
      config: { epochs: 1, batchSize: c.batch, optimizer: 'sgd', lr, momentum: 0.9, probe: { enabled: false }, initWeights: path.join(dir, 'run') },
    });
    try {
      const done = await trainer.run();
      assert.equal(done.steps, 1);
      const ours = new Map(torchStateDict(trainer.model, exportPytorch(trainer.graph)).map((a) => [a.name, a]));
      const want = stateDict(path.join(dir, 'after.pth'));
      assert.equal(want.length, ours.size);
      let worstRelative = { ratio: 0, name: '' };
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
        const b = before.get(w.name)!;
        if (w.data.some((v, i) => v !== b[i])) moved++;
        const step = w.data.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
        const off = w.data.reduce((m, v, i) => Math.max(m, Math.abs(v - o.data[i])), 0);
        if (step > 0 && off / step > worstRelative.ratio) worstRelative = { ratio: off / step, name: w.name };
      }
      console.log(
        `${c.name} (${c.backend}), one SGD step in training mode: max |w_app - w_torch| = ${worst.diff.toExponential(2)} (${worst.name}); worst relative to the array's step ${worstRelative.ratio.toExponential(2)} (${worstRelative.name}); ${moved} of ${want.length} arrays moved`,
      );
      assert.ok(moved > want.length * 0.9, 'the step moved the weights and statistics');
      assert.ok(worst.diff < 1e-4, `${worst.name} differs by ${worst.diff}`);
    } finally {
      trainer.dispose();
    }
  });
}
