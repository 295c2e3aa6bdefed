// Fine-tuning settings travel with every code export: the Keras file freezes the
// layers the app's trainer freezes (BatchNorm in inference mode unless told
// otherwise) and says in the file that Keras cannot apply learning-rate
// multipliers; the host's exportCode (the app's Export dialog) writes the
// Training form's settings into the code; `attn export --weights RUN` writes
// the settings the run trained with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExportResult } from '../common/host-api/api.js';
import { offThreadExporter } from '../electron/host/exporter.js';
import { compileGraph } from '../engine/compile/compile.js';
import { exportKeras } from '../engine/export/keras.js';
import { KERAS_DIR } from '../engine/export/keras-sources.js';
import type { GraphFile } from '../engine/graph/types.js';
import { applyFineTuning } from '../engine/train/fine-tune.js';
import { attn } from './helpers/cli.js';
import { loadTemplate, templatesDir } from './helpers/graphs.js';
import { tfReady } from './helpers/tf.js';
import { PYTHON } from './helpers/torch.js';
import { sandbox } from './host-fixtures.js';

const checker = fileURLToPath(new URL('../../test/helpers/check_keras_export.py', import.meta.url));
const tmp = () => mkdtempSync(path.join(tmpdir(), 'attn-export-fine-'));
const withTraining = (graph: GraphFile, training: Record<string, unknown>): GraphFile => ({ ...graph, training: { ...graph.training, ...training } });

// Keras is not installable here: this runs the exported file's own FINE_TUNING and apply_fine_tuning() (read out of
// the file with ast, without its keras imports) on stand-ins for Keras layers named as the compiled model's layers,
// each with as many variables as the layer has weights. Prints the layers left not trainable and those whose
// variables alone were frozen.
const APPLY_DRIVER = `
import ast, json, sys
path, layers = sys.argv[1], json.loads(sys.argv[2])
tree = ast.parse(open(path).read())
wanted = {"FINE_TUNING", "LR_MULTIPLIERS", "apply_fine_tuning"}
body = [n for n in tree.body if (isinstance(n, ast.FunctionDef) and n.name in wanted)
        or (isinstance(n, ast.Assign) and any(getattr(t, "id", None) in wanted for t in n.targets))]
scope = {}
exec(compile(ast.Module(body=body, type_ignores=[]), path, "exec"), scope)
class Variable:
    trainable = True
class Layer:
    def __init__(self, name, n):
        self.name, self.trainable, self.variables = name, True, [Variable() for _ in range(n)]
    @property
    def trainable_variables(self):
        return [v for v in self.variables if v.trainable] if self.trainable else []
class Model:
    pass
model = Model()
model.layers = [Layer(name, n) for name, n in layers]
scope["apply_fine_tuning"](model)
print(json.dumps({
    "notTrainable": sorted(l.name for l in model.layers if not l.trainable),
    "variablesFrozen": sorted(l.name for l in model.layers if l.trainable and l.variables and not any(v.trainable for v in l.variables)),
    "lrMultipliers": scope.get("LR_MULTIPLIERS"),
}))
`;

/** The layers (with weights) the app's trainer freezes for these settings, and every layer with its weight count. */
async function trainerSplit(graph: GraphFile, c: Parameters<typeof applyFineTuning>[1]): Promise<{ frozen: string[]; layers: [string, number][] }> {
  const tf = await tfReady;
  const compiled = compileGraph(tf, graph);
  try {
    applyFineTuning(compiled, c);
    const withWeights = compiled.model.layers.filter((l) => l.weights.length > 0);
    return {
      frozen: withWeights.filter((l) => !l.trainable).map((l) => l.name),
      layers: compiled.model.layers.map((l) => [l.name, l.weights.length]),
    };
  } finally {
    compiled.model.dispose();
  }
}

function runExportedApply(code: string, layers: [string, number][]) {
  const file = path.join(tmp(), 'model.py');
  writeFileSync(file, code);
  const compiled = spawnSync(PYTHON, ['-m', 'py_compile', file], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(compiled.status, 0, compiled.stderr);
  const api = spawnSync(PYTHON, [checker, path.join(KERAS_DIR, 'keras3-api.json'), file], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(api.status, 0, `${api.stdout}${api.stderr}`);
  const r = spawnSync(PYTHON, ['-c', APPLY_DRIVER, file, JSON.stringify(layers)], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { notTrainable: string[]; variablesFrozen: string[]; lrMultipliers: Record<string, number> | null };
}

const withWeights = (names: string[], layers: [string, number][]) => names.filter((n) => layers.some(([l, k]) => l === n && k > 0)).sort();

test(
  'Keras export: the frozen layers are those the app freezes, BatchNorm in inference mode; lr multipliers said not applied',
  { timeout: 120_000 },
  async () => {
    const base = loadTemplate('se-resnet20-mnist.attn.json');
    const fine = { freeze: ['conv', 'bn', 'stage1', 'stage2/rest#2'], lrMultipliers: { stage3: 0.1, head: 10 } };
    const code = exportKeras(withTraining(base, fine));
    assert.match(code, /^FINE_TUNING = \{\n {4}"frozen": \[\n {8}"conv",\n {8}"bn",\n {8}"stage1",\n/m);
    assert.match(code, /"batchNormInference": True,/);
    assert.match(code, /Keras has no learning rate per variable.*\n# so they are NOT applied here/);
    assert.match(code, /^LR_MULTIPLIERS = \{"stage3": 0\.1, "head": 10\}$/m);
    assert.match(code, /apply_fine_tuning\(model\)\n {4}model\.compile\(/, 'applied before compiling');

    const split = await trainerSplit(base, { ...fine, frozenBatchNorm: 'inference' });
    assert.ok(split.frozen.some((n) => n.startsWith('stage2_rest_r2_')) && !split.frozen.some((n) => n.startsWith('stage2_rest_r1_')));
    const applied = runExportedApply(code, split.layers);
    assert.deepEqual(withWeights(applied.notTrainable, split.layers), split.frozen.sort());
    assert.deepEqual(applied.variablesFrozen, []);
    assert.deepEqual(applied.lrMultipliers, { stage3: 0.1, head: 10 });

    // frozenBatchNorm "train": the variables are frozen and the layers stay trainable, so BatchNorm keeps the batch's statistics.
    const trainMode = { freeze: ['stage3'], frozenBatchNorm: 'train' as const, lrMultipliers: {} };
    const code2 = exportKeras(withTraining(base, trainMode));
    assert.match(code2, /"batchNormInference": False,/);
    assert.doesNotMatch(code2, /LR_MULTIPLIERS/);
    const split2 = await trainerSplit(base, trainMode);
    const applied2 = runExportedApply(code2, split2.layers);
    assert.deepEqual(applied2.notTrainable, []);
    assert.deepEqual(applied2.variablesFrozen, split2.frozen.sort());

    // Without fine-tuning settings the file has none of it; a pattern naming no node is refused, naming the nodes.
    assert.doesNotMatch(exportKeras(base), /FINE_TUNING|apply_fine_tuning/);
    assert.throws(
      () => exportKeras(withTraining(base, { freeze: ['stage9'] })),
      /training settings: freeze: "stage9" names no node of the graph \(node ids: image, conv/,
    );
  },
);

test("the host's exportCode (the Export dialog) writes the Training form's fine-tuning into the code", { timeout: 120_000 }, async () => {
  const s = await sandbox('browser', { exporter: offThreadExporter() });
  try {
    const graph = loadTemplate('se-resnet20-mnist.attn.json');
    const fineTuning = { freeze: ['conv', 'bn', 'stage1'], lrMultipliers: { head: 10 }, imagenet: true };
    const exportOf = async (target: 'pytorch' | 'keras', extra: object = {}) =>
      ((await s.service.dispatch('exportCode', { graph, target, ...extra })) as ExportResult).files[0].content;

    const torch = await exportOf('pytorch', { fineTuning });
    assert.match(torch, /^FINE_TUNING = \{\n {4}"frozen": \[\n {8}"conv",\n {8}"bn",\n {8}"stage1",\n {4}\],/m);
    assert.match(torch, /"lrScale": \{"head": 10\}/);
    assert.match(torch, /TRAINING\["normalize"\] = "imagenet"/);
    const keras = await exportOf('keras', { fineTuning });
    assert.match(keras, /^FINE_TUNING = \{\n {4}"frozen": \[\n {8}"conv",\n {8}"bn",\n {8}"stage1",\n {4}\],/m);
    assert.match(keras, /^LR_MULTIPLIERS = \{"head": 10\}$/m);

    // Without the form's settings: the graph's own (none here).
    assert.doesNotMatch(await exportOf('pytorch'), /^FINE_TUNING = /m);
    // The form's frozenBatchNorm reaches the file; a typo in a pattern is an error naming the graph's nodes.
    assert.match(await exportOf('keras', { fineTuning: { freeze: ['stage3'], frozenBatchNorm: 'train' } }), /"batchNormInference": False,/);
    await assert.rejects(s.service.dispatch('exportCode', { graph, target: 'pytorch', fineTuning: { freeze: ['stag3'] } }), /freeze: "stag3" names no node/);
    await assert.rejects(s.service.dispatch('exportCode', { graph, target: 'pytorch', fineTuning: { freez: ['stage3'] } }), /freez/);
  } finally {
    await s.cleanup();
  }
});

test('attn export --weights RUN writes the fine-tuning the run trained with (PyTorch and Keras)', { timeout: 300_000 }, async () => {
  const dir = tmp();
  const trained = path.join(dir, 'frozen.attn.json');
  const graph = loadTemplate('bench-se-cnn.attn.json');
  writeFileSync(trained, JSON.stringify(withTraining(graph, { freeze: ['conv1', 'se'], lrMultipliers: { head: 10 }, batchSize: 16, epochs: 1 })));
  const run = path.join(dir, 'run');
  const r = await attn('train', trained, '--dataset', 'mnist', '--limit', '48', '--out', run);
  assert.equal(r.code, 0, r.stderr);

  // The graph file exported has no fine-tuning of its own: what the file gets is the run's.
  const plain = path.join(templatesDir, 'bench-se-cnn.attn.json');
  for (const [to, frozen, lr] of [
    ['pytorch', /"frozen": \[\n {8}"conv1",\n {8}"se",\n {4}\],/, /"lrScale": \{"head": 10\}/],
    ['keras', /"frozen": \[\n {8}"conv1",\n {8}"se",\n {4}\],/, /^LR_MULTIPLIERS = \{"head": 10\}$/m],
  ] as const) {
    const out = path.join(dir, `model-${to}.py`);
    const e = await attn('export', plain, '--to', to, '--weights', run, '--out', out);
    assert.equal(e.code, 0, e.stderr);
    const code = readFileSync(out, 'utf8');
    assert.match(code, frozen, `${to}: the run's freeze`);
    assert.match(code, lr, `${to}: the run's lr multipliers`);
    // Without --weights the same graph file exports without them.
    const bare = await attn('export', plain, '--to', to);
    assert.equal(bare.code, 0, bare.stderr);
    assert.doesNotMatch(bare.stdout, /^FINE_TUNING = /m);
  }
});
