// Fine-tuning in the exported PyTorch training script: the graph's freeze,
// frozenBatchNorm and lrMultipliers, written as FINE_TUNING in the module's own
// names, are applied by the script's main(): frozen weights (BatchNorm running
// statistics included) stay bit for bit, the others train, and each parameter's
// group has the rate times its multiplier.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportPytorch } from '../engine/export/pytorch.js';
import { ExportError } from '../engine/export/plan.js';
import { torchFineTuning, torchFineTuningByModule } from '../engine/export/torch-fine-tune.js';
import type { GraphFile } from '../engine/graph/types.js';
import { writeDataFile } from '../engine/cli-export.js';
import { PYTHON, skipWithoutTorch } from './helpers/torch.js';

const templates = fileURLToPath(new URL('../../templates/', import.meta.url));
const template = (name: string) => JSON.parse(readFileSync(path.join(templates, name), 'utf8')) as GraphFile;

const FINE = { freeze: ['conv', 'bn', 'stage1'], lrMultipliers: { stage2: 0.1, head: 10 } };

// Runs the script's own entry point (main(), as `python model.py` does) for a few steps from known
// weights; records the optimizer's groups by parameter name and prints what changed.
const DRIVER = `
import importlib.util, json, sys, torch
spec = importlib.util.spec_from_file_location("model", sys.argv[1])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
torch.manual_seed(0)
init = m.Model().state_dict()
torch.save(init, sys.argv[3])
seen = {}
real_train = m.train
def train(model, *a, **k):
    seen["model"] = getattr(model, "module", model)
    return real_train(model, *a, **k)
m.train = train
real_adam = torch.optim.Adam
class Adam(real_adam):
    def __init__(self, params, **k):
        super().__init__(params, **k)
        seen["groups"] = self.param_groups
torch.optim.Adam = Adam
m.main(m.Model, m.compute_loss, m.example_inputs, m.TRAINING,
       ["--data", sys.argv[2], "--weights", sys.argv[3], "--checkpoint", sys.argv[4], "--epochs", "1", "--batch-size", "16", "--device", "cpu"])
names = {id(p): n for n, p in seen["model"].named_parameters()}
final = torch.load(sys.argv[4])["model"]
print(json.dumps({
    "lr": {names[id(p)]: g["initial_lr"] for g in seen["groups"] for p in g["params"]},
    "changed": {k: not torch.equal(v, final[k]) for k, v in init.items() if not k.endswith("num_batches_tracked")},
    "requiresGrad": {n: p.requires_grad for n, p in seen["model"].named_parameters()},
}))
`;

test('exported training script: frozen weights bit for bit, the rest trained, each group at lr × multiplier', { timeout: 120_000 }, async (t) => {
  if (skipWithoutTorch(t, 'fine-tuning in the exported training script')) return;
  const graph = template('se-resnet20-mnist.attn.json');
  const exported = exportPytorch(graph, { training: FINE });
  const lr = exportPytorch(graph).code.match(/"lr": ([\d.e-]+)/)![1];
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-export-finetune-'));
  const file = (name: string) => path.join(dir, name);
  writeFileSync(file('model.py'), exported.code);
  await writeDataFile(graph, 'mnist', file('data.npz'), 48);
  const r = spawnSync(PYTHON, ['-c', DRIVER, file('model.py'), file('data.npz'), file('init.pt'), file('final.pt')], { encoding: 'utf8', timeout: 100_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /trainable parameters on cpu \([\d,]+ frozen\)/);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    lr: Record<string, number>;
    changed: Record<string, boolean>;
    requiresGrad: Record<string, boolean>;
  };

  const exact = torchFineTuning(exported.weights, { ...FINE, frozenBatchNorm: 'inference' });
  const frozen = new Set(exact.frozen);
  assert.ok(frozen.has('conv.weight') && frozen.has('bn.running_var') && [...frozen].some((n) => n.startsWith('stage1.')));
  for (const [name, changed] of Object.entries(out.changed))
    if (frozen.has(name)) assert.equal(changed, false, `${name} is frozen but changed`);
    else assert.equal(changed, true, `${name} should have trained`);
  const scale = (name: string) => (name.startsWith('stage2.') ? 0.1 : name.startsWith('head.') ? 10 : 1);
  const params = Object.keys(out.requiresGrad);
  for (const name of params) {
    assert.equal(out.requiresGrad[name], !frozen.has(name), `${name}: requires_grad`);
    if (frozen.has(name)) assert.equal(out.lr[name], undefined, `${name} is frozen but in an optimizer group`);
    else assert.ok(Math.abs(out.lr[name] - Number(lr) * scale(name)) < 1e-12, `${name}: lr ${out.lr[name]}, want ${Number(lr) * scale(name)}`);
  }
  assert.ok(params.some((n) => n.startsWith('stage3.')) && params.some((n) => n.startsWith('head.')));
});

test('exported script: FINE_TUNING names modules, not every key, and bad patterns are refused', () => {
  const graph = template('se-resnet20-mnist.attn.json');
  const { code, weights } = exportPytorch(graph, { training: FINE });
  const byModule = torchFineTuningByModule(weights, { ...FINE, frozenBatchNorm: 'inference' });
  assert.deepEqual(byModule.frozen, ['conv', 'bn', 'stage1']);
  assert.deepEqual(byModule.batchNormEval, ['bn', 'stage1']);
  assert.deepEqual(byModule.lrScale, { stage2: 0.1, head: 10 });
  assert.match(code, /TRAINING\["fine_tuning"\] = FINE_TUNING/);
  // frozenBatchNorm 'train': frozen weights, BatchNorm statistics still updated.
  assert.match(exportPytorch(graph, { training: { ...FINE, frozenBatchNorm: 'train' } }).code, /"batchNormEval": \[\],/);
  // The graph's own training section is read as the trainer reads it; nothing set, nothing written.
  assert.match(exportPytorch({ ...graph, training: { ...graph.training, freeze: ['stage3'] } }).code, /"frozen": \[\n {8}"stage3",\n {4}\]/);
  assert.doesNotMatch(exportPytorch(graph).code, /^FINE_TUNING = /m);
  assert.throws(
    () => exportPytorch(graph, { training: { freeze: ['stem'] } }),
    (e: Error) => e instanceof ExportError && /freeze: "stem" names no node/.test(e.message),
  );
  assert.throws(() => exportPytorch(graph, { training: { lrMultipliers: { head: -1 } } }), /training settings: lrMultipliers\.head/);
});

test('exported script: the ImageNet preset reaches the image-folder loader', () => {
  const graph = template('resnet50.attn.json');
  assert.match(exportPytorch(graph, { normalize: 'imagenet' }).code, /TRAINING\["normalize"\] = "imagenet"/);
  assert.match(exportPytorch({ ...graph, dataset: { ...graph.dataset, normalize: 'imagenet' } }).code, /TRAINING\["normalize"\] = "imagenet"/);
  assert.doesNotMatch(exportPytorch(graph).code, /TRAINING\["normalize"\]/);
});
