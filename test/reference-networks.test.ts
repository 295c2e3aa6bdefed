// The templates compute their reference networks: each reference is built in
// PyTorch with random weights and randomised BatchNorm statistics (eval mode),
// its state_dict imported with `attn weights import` under the reference's own
// names, the same input run with `attn predict`, and the log-probabilities
// compared on every class. References: torchvision's resnet50() and
// VisionTransformer(224, 16, 12, 3, 192, 768); timm's seresnet50 layout and the
// CBAM authors' ResNet-50 (test/helpers/attention_resnet50.py); He et al.'s
// CIFAR ResNet-20 with SE or the authors' CBAM (test/helpers/resnet20.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { attn } from './helpers/cli.js';
import { templatesDir } from './helpers/graphs.js';
import { runPython } from './helpers/python.js';
import { PYTHON, skipWithoutTorch, skipWithoutTorchvision } from './helpers/torch.js';
import { readNpy } from '../engine/weights/npy.js';

// The Python with torch that converts .pth for `attn weights import`.
process.env.ATTN_PYTHON = PYTHON;

const helper = (name: string) => fileURLToPath(new URL(`../../test/helpers/${name}`, import.meta.url));

/** A Python script under test/helpers/ and its arguments before OUT_DIR (and after it: the batch). */
interface Reference {
  script: string;
  args: string[];
}
const torchvision = (kind: string): Reference => ({ script: 'reference_models.py', args: [kind] });
const attentionResnet50 = (kind: string): Reference => ({ script: 'attention_resnet50.py', args: [kind] });
const resnet20 = (unit: string): Reference => ({ script: 'resnet20.py', args: [unit] });

/**
 * Builds the reference (its state_dict, an input and its log-probabilities) in one Python process, imports and
 * predicts (the ResNet-50s on wasm: a tenth of the pure-JS backend's CPU time); the largest log-probability difference.
 */
async function maxLogProbDiff(template: string, reference: Reference, names: RegExp, backend: 'cpu' | 'wasm' = 'cpu'): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), `attn-ref-${template}-`));
  await runPython([helper(reference.script), ...reference.args, dir], 300_000);
  const graph = join(templatesDir, `${template}.attn.json`);
  const imported = await attn('weights', 'import', graph, join(dir, 'model.pth'), '--out', join(dir, 'run'));
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, names);
  const predicted = await attn(
    'predict',
    graph,
    '--weights',
    join(dir, 'run'),
    '--input',
    join(dir, 'x.npy'),
    '--out',
    join(dir, 'y.npy'),
    '--backend',
    backend,
  );
  assert.equal(predicted.code, 0, predicted.stderr);
  const probs = readNpy(readFileSync(join(dir, 'y.npy')), 'y.npy');
  const want = readNpy(readFileSync(join(dir, 'logprobs.npy')), 'logprobs.npy');
  assert.deepEqual(probs.shape, want.shape);
  let diff = 0;
  want.data.forEach((v, i) => (diff = Math.max(diff, Math.abs(Math.log(probs.data[i]) - v))));
  console.log(`${template} vs ${reference.script} ${reference.args.join(' ')}: max |log p - log p_ref| = ${diff.toExponential(2)}`);
  return diff;
}

test('resnet50 template = torchvision resnet50() on its imported weights (log-probabilities within 1e-4)', { timeout: 600_000 }, async (t) => {
  if (skipWithoutTorchvision(t, 'resnet50 vs torchvision')) return;
  assert.ok((await maxLogProbDiff('resnet50', torchvision('resnet50'), /names: torchvision ResNet;/, 'wasm')) < 1e-4);
});

test('vit-ti16 template = torchvision VisionTransformer(224, 16, 12, 3, 192, 768) on its imported weights (within 1e-4)', { timeout: 600_000 }, async (t) => {
  if (skipWithoutTorchvision(t, 'vit-ti16 vs torchvision')) return;
  assert.ok((await maxLogProbDiff('vit-ti16', torchvision('vit-ti16'), /names: torchvision VisionTransformer;/, 'wasm')) < 1e-4);
});

test("se-resnet20-mnist template = He et al.'s CIFAR ResNet-20 (option A) + SE, written from the papers (within 1e-4)", { timeout: 300_000 }, async (t) => {
  if (skipWithoutTorch(t, 'se-resnet20 vs its PyTorch module')) return;
  assert.ok((await maxLogProbDiff('se-resnet20-mnist', resnet20('se'), /names: Attention Studio's PyTorch export;/)) < 1e-4);
});

test("se-resnet50 template = timm's seresnet50 layout (SE with 1×1-conv FCs after bn3), timm's names (within 1e-4)", { timeout: 600_000 }, async (t) => {
  if (skipWithoutTorch(t, 'se-resnet50 vs the timm seresnet50 layout')) return;
  assert.ok((await maxLogProbDiff('se-resnet50', attentionResnet50('se-resnet50'), /names: torchvision ResNet \+ timm's SEModule;/, 'wasm')) < 1e-4);
});

test(
  "cbam-resnet50 template = the CBAM authors' ResidualNet(ImageNet, 50, CBAM), their DataParallel checkpoint (within 1e-4)",
  { timeout: 600_000 },
  async (t) => {
    if (skipWithoutTorch(t, "cbam-resnet50 vs the CBAM authors' ResNet-50")) return;
    const names = /names: torchvision ResNet \+ the CBAM authors' CBAM \(Jongchan\/attention-module\) \(DataParallel's "module\." dropped\);/;
    assert.ok((await maxLogProbDiff('cbam-resnet50', attentionResnet50('cbam-resnet50'), names, 'wasm')) < 1e-4);
  },
);

test("cbam-resnet20-mnist template = He et al.'s CIFAR ResNet-20 (option A) + the authors' CBAM (within 1e-4)", { timeout: 300_000 }, async (t) => {
  if (skipWithoutTorch(t, 'cbam-resnet20 vs its PyTorch module')) return;
  const names = /names: Attention Studio's PyTorch export \+ the CBAM authors' CBAM/;
  assert.ok((await maxLogProbDiff('cbam-resnet20-mnist', resnet20('cbam'), names)) < 1e-4);
});
