// The ImageNet templates compute their reference networks: torchvision's
// resnet50() and VisionTransformer(224, 16, 12, 3, 192, 768), built in PyTorch
// with random weights and randomised BatchNorm statistics (eval mode), their
// state_dict imported with `attn weights import`, the same input run with
// `attn predict`: the log-probabilities agree within 1e-3 on every class.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { attn } from './helpers/cli.js';
import { templatesDir } from './helpers/graphs.js';
import { PYTHON, skipWithoutTorch, skipWithoutTorchvision } from './helpers/torch.js';
import { readNpy } from '../engine/weights/npy.js';

// The Python with torch that converts .pth for `attn weights import`.
process.env.ATTN_PYTHON = PYTHON;

const helper = (name: string) => fileURLToPath(new URL(`../../test/helpers/${name}`, import.meta.url));

/** Builds the reference (its state_dict, an input and its log-probabilities), imports and predicts; the largest log-probability difference. */
async function maxLogProbDiff(template: string, reference: string, names = /names: torchvision/): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), `attn-ref-${reference}-`));
  if (reference === 'se-resnet20') execFileSync(PYTHON, [helper('se_resnet20.py'), dir], { stdio: 'inherit' });
  else execFileSync(PYTHON, [helper('reference_models.py'), reference, dir, '2'], { stdio: 'inherit' });
  const graph = join(templatesDir, `${template}.attn.json`);
  const imported = await attn('weights', 'import', graph, join(dir, 'model.pth'), '--out', join(dir, 'run'));
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, names);
  const predicted = await attn('predict', graph, '--weights', join(dir, 'run'), '--input', join(dir, 'x.npy'), '--out', join(dir, 'y.npy'));
  assert.equal(predicted.code, 0, predicted.stderr);
  const probs = readNpy(readFileSync(join(dir, 'y.npy')), 'y.npy');
  const want = readNpy(readFileSync(join(dir, 'logprobs.npy')), 'logprobs.npy');
  assert.deepEqual(probs.shape, want.shape);
  let diff = 0;
  want.data.forEach((v, i) => (diff = Math.max(diff, Math.abs(Math.log(probs.data[i]) - v))));
  console.log(`${template} vs ${reference}: max |log p - log p_ref| = ${diff.toExponential(2)}`);
  return diff;
}

test('resnet50 template = torchvision resnet50() on its imported weights (log-probabilities within 1e-3)', { timeout: 600_000 }, async (t) => {
  if (skipWithoutTorchvision(t, 'resnet50 vs torchvision')) return;
  assert.ok((await maxLogProbDiff('resnet50', 'resnet50')) < 1e-3);
});

test('vit-ti16 template = torchvision VisionTransformer(224, 16, 12, 3, 192, 768) on its imported weights (within 1e-3)', { timeout: 600_000 }, async (t) => {
  if (skipWithoutTorchvision(t, 'vit-ti16 vs torchvision')) return;
  assert.ok((await maxLogProbDiff('vit-ti16', 'vit-ti16')) < 1e-3);
});

test("se-resnet20-mnist template = He et al.'s CIFAR ResNet-20 (option A) + SE, written from the papers (within 1e-4)", { timeout: 300_000 }, async (t) => {
  if (skipWithoutTorch(t, 'se-resnet20 vs its PyTorch module')) return;
  assert.ok((await maxLogProbDiff('se-resnet20-mnist', 'se-resnet20', /names: Attention Studio's PyTorch export/)) < 1e-4);
});
