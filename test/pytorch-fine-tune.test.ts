// Fine-tuning on the PyTorch backend: a run that starts from a pretrained run
// with a freshly initialised head and a frozen backbone leaves the backbone's weights
// (BatchNorm statistics included) exactly as loaded and trains the head; a
// learning-rate multiplier of 0 does the same as freezing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PytorchRun } from '../engine/pytorch/run.js';
import type { TrainConfigInput } from '../engine/schemas/train-config.js';
import { setupRun } from '../engine/train/setup.js';
import { bnCnn } from './train-fixtures.js';
import { skipWithoutTorch } from './helpers/torch.js';
import { runWeights, same } from './helpers/checkpoints.js';

const quiet = { probe: { enabled: false }, epochs: 1, batchSize: 16 } as const;

test('PyTorch backend: frozen backbone kept bit for bit, a fresh head trained, lr multiplier 0 = frozen', { timeout: 300_000 }, async (t) => {
  if (skipWithoutTorch(t, 'fine-tuning on the PyTorch backend')) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-torch-finetune-'));
  const pre = await setupRun({ graph: bnCnn(), dataset: { name: 'mnist', limit: 64 }, config: quiet, out: { dir: path.join(dir, 'pre') } });
  await pre.run();
  pre.dispose();
  const pretrained = await runWeights(path.join(dir, 'pre'));
  // MNIST again: the head keeps its 10 classes but starts afresh (config.head), as a new task's would.
  const finetune = async (name: string, config: TrainConfigInput) => {
    const run = await PytorchRun.setup({
      graph: bnCnn(),
      dataset: { name: 'mnist', limit: 96 },
      config: { ...quiet, head: { node: 'head' }, initWeights: path.join(dir, 'pre'), ...config },
      out: { dir: path.join(dir, name) },
      pytorch: { device: 'cpu' },
    });
    try {
      await run.run();
    } finally {
      run.dispose();
    }
    return runWeights(path.join(dir, name));
  };
  const frozen = await finetune('frozen', { freeze: ['conv', 'bn', 'hidden'] });
  for (const [name, v] of frozen) {
    if (name.startsWith('head/')) assert.ok(!same(v, pretrained.get(name)!), `${name}: the new head trained`);
    else assert.ok(same(v, pretrained.get(name)!), `${name} moved while frozen`);
  }
  const zero = await finetune('zero', { lrMultipliers: { conv: 0, bn: 0, hidden: 0 } });
  for (const [name, v] of zero) if (!name.startsWith('head/')) assert.ok(same(v, pretrained.get(name)!), `${name} moved with lr multiplier 0`);
});
