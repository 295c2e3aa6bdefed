// The architecture templates (templates/*.attn.json): every one is a valid graph with
// its paper, dataset and training settings; the generator in scripts/templates makes
// exactly the committed files; `attn summary --json` reports the trainable parameter
// count of each reference implementation; the ImageNet-size ones run one forward pass
// at batch 1, and the small ones train a few steps on their dataset and emit
// attention maps. All on the wasm backend, which runs a 224×224 ResNet-50 forward
// pass about 10× faster than the pure-JS cpu backend (about 3 s against 30 s).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '../engine/backends/select.js';
import { analyzeGraph } from '../engine/shapes/analyze.js';
import { serializeGraph } from '../engine/graph/schema.js';
import type { GraphFile } from '../engine/graph/types.js';
import { compileGraph } from '../engine/compile/compile.js';
import { prepareData } from '../engine/data/index.js';
import { Trainer } from '../engine/train/trainer.js';
import { inputHint } from '../engine/train/setup.js';
import type { TrainEvent, TrainEventOf } from '../engine/schemas/train-events.js';
import { imagenetTemplates } from '../scripts/templates/imagenet.js';
import { smallTemplates } from '../scripts/templates/small.js';
import { textTemplates } from '../scripts/templates/text.js';
import { captionTemplates } from '../scripts/templates/captions.js';
import { isLargeTemplate, loadTemplate, templateFiles, templatesDir } from './helpers/graphs.js';

const ready = selectBackend({ backend: 'wasm' }).then((s) => s.tf);
const run = promisify(execFile);
const attnBin = fileURLToPath(new URL('../../bin/attn.js', import.meta.url));

/**
 * Trainable parameters of the reference PyTorch implementations (torch 1.13, torchvision 0.14), and the
 * attention outputs each template must expose (through its composites).
 */
const IMAGENET: Record<string, { trainable: number; attention: number }> = {
  'resnet50.attn.json': { trainable: 25_557_032, attention: 0 }, // torchvision.models.resnet50()
  'se-resnet50.attn.json': { trainable: 28_088_024, attention: 16 }, // + SE (Linear with bias, r = 16) in every bottleneck = pretrainedmodels se_resnet50
  'cbam-resnet50.attn.json': { trainable: 28_089_624, attention: 32 }, // + CBAM (r = 16, 7×7 conv + BN): channel weights and spatial map per bottleneck
  'vit-ti16.attn.json': { trainable: 5_717_416, attention: 12 }, // VisionTransformer(224, 16, 12 layers, 3 heads, 192, 768)
  'residual-attention-56.attn.json': { trainable: 31_810_728, attention: 6 }, // ResidualAttentionModel_56: mask and mask mean per module
  'abn-resnet.attn.json': { trainable: 43_584_866, attention: 1 }, // the authors' ImageNet ResNet-50 ABN
  'attend-rectify-wrn.attn.json': { trainable: 83_256_104, attention: 7 }, // wide_resnet50_2 + 3 modules (maps, gates) + the global gate
  'nonlocal-resnet.attn.json': { trainable: 32_915_496, attention: 5 }, // resnet50 + 5 NONLocalBlock2D
};

/** The small templates' trainable parameters (this compiler's count, fixed here so that a change is seen) and their attention outputs. */
const SMALL: Record<string, { trainable: number; attention: number }> = {
  // He et al.'s option A shortcuts have no parameters: 2,752 fewer than the projections (1×1 conv + BN, 16→32 and 32→64).
  'se-resnet20-mnist.attn.json': { trainable: 277_918, attention: 9 },
  'cbam-resnet20-mnist.attn.json': { trainable: 278_818, attention: 18 },
  'cbam-gap-mnist.attn.json': { trainable: 15_030, attention: 2 },
  'vit-tiny-mnist.attn.json': { trainable: 19_658, attention: 2 },
  'transformer-encoder-seq.attn.json': { trainable: 18_058, attention: 2 },
  'transformer-seq2seq.attn.json': { trainable: 22_346, attention: 3 },
  'gru-seq2seq-bahdanau.attn.json': { trainable: 49_130, attention: 1 },
  'gru-seq2seq-luong.attn.json': { trainable: 56_714, attention: 1 },
  'memory-network-recall.attn.json': { trainable: 8_208, attention: 3 },
  'sasa-resnet-mnist.attn.json': { trainable: 11_818, attention: 2 },
  'sat-digit-captions.attn.json': { trainable: 72_429, attention: 1 },
};

test('every template is a valid graph with a name, a one-paragraph description, its paper, a dataset and training settings', () => {
  const files = templateFiles({ large: true });
  for (const file of [...Object.keys(IMAGENET), ...Object.keys(SMALL)]) assert.ok(files.includes(file), `${file} exists`);
  for (const file of files) {
    const g = loadTemplate(file);
    assert.deepEqual(analyzeGraph(g).diagnostics, [], file);
    assert.ok(g.name.length > 0, `${file}: name`);
    assert.ok(g.description && g.description.length > 100 && !g.description.includes('\n'), `${file}: a one-paragraph description`);
    if (file in IMAGENET || file in SMALL) {
      assert.ok(typeof g.paper === 'string' && /\(\d{4}\)/.test(g.paper), `${file}: the paper, with its year`);
      assert.equal(typeof g.dataset?.name, 'string', `${file}: dataset`);
      const t = g.training ?? {};
      assert.ok(['sgd', 'adam', 'adamw'].includes(t.optimizer as string), `${file}: optimizer`);
      for (const k of ['learningRate', 'batchSize', 'epochs']) assert.ok(typeof t[k] === 'number' && (t[k] as number) > 0, `${file}: training.${k}`);
    }
    assert.equal(isLargeTemplate(g), file in IMAGENET, `${file}: ImageNet-size exactly when it is in the reference table`);
  }
});

test('the generator in scripts/templates makes exactly the committed template files', () => {
  for (const { file, ...graph } of [...imagenetTemplates, ...smallTemplates, ...textTemplates, ...captionTemplates])
    assert.equal(
      serializeGraph(graph),
      readFileSync(`${templatesDir}${file}.attn.json`, 'utf8'),
      `${file}.attn.json: run node dist/scripts/templates/build.js`,
    );
});

test('the big networks are made of composites, so that the canvas stays readable', () => {
  for (const file of Object.keys(IMAGENET)) {
    const g = loadTemplate(file);
    assert.ok(g.nodes.length <= 25, `${file}: ${g.nodes.length} top-level nodes`);
    assert.ok(
      g.nodes.some((n) => n.type.startsWith('composite:') && Number(n.params.repeat ?? 1) > 1) ||
        g.composites!.some((c) => c.nodes.some((n) => Number(n.params.repeat ?? 1) > 1)),
      `${file}: a repeated composite`,
    );
  }
});

for (const [file, want] of Object.entries(IMAGENET)) {
  test(`${file}: compiles with the reference parameter count and runs one forward pass at batch 1`, async () => {
    const tf = await ready;
    const c = compileGraph(tf, loadTemplate(file));
    assert.equal(c.trainableParams, want.trainable);
    assert.equal(c.attention.length, want.attention, 'attention outputs');
    const x = tf.randomUniform([1, 224, 224, 3], 0, 1, 'float32', 7);
    const ys = [c.model.predict(x)].flat() as ReturnType<typeof tf.zeros>[];
    assert.equal(ys.length, c.outputs.length);
    for (const y of ys) {
      assert.deepEqual(y.shape, [1, 1000]);
      const p = Array.from(y.dataSync());
      assert.ok(
        p.every((v) => Number.isFinite(v) && v >= 0),
        'probabilities',
      );
      assert.ok(Math.abs(p.reduce((a, v) => a + v, 0) - 1) < 1e-3, 'they sum to 1');
    }
    tf.dispose([x, ...ys]);
    c.model.dispose();
  });
}

/** A few training steps on a small sample of the template's own dataset, probing attention every other batch. */
async function trainBriefly(g: GraphFile): Promise<TrainEvent[]> {
  const tf = await ready;
  const { name, length, vocab } = g.dataset as { name: string; length?: number; vocab?: number };
  const data = await prepareData({ name, length, vocab, limit: 120, size: 120, seed: 3 }, inputHint(g));
  const events: TrainEvent[] = [];
  const t = g.training as { optimizer: 'sgd' | 'adam' | 'adamw'; learningRate: number };
  const config = { epochs: 1, batchSize: 16, optimizer: t.optimizer, lr: t.learningRate, probe: { samples: 2, everyBatches: 2, minIntervalMs: 0 } };
  const trainer = new Trainer({ tf, graph: g, data, config, runDir: null, onEvent: (e) => events.push(e) });
  try {
    await trainer.run();
  } finally {
    trainer.dispose();
  }
  return events;
}

for (const [file, want] of Object.entries(SMALL)) {
  test(`${file}: trains a few steps on its dataset and emits attention maps`, async () => {
    const g = loadTemplate(file);
    const c = compileGraph(await ready, g);
    assert.equal(c.trainableParams, want.trainable, 'trainable parameters');
    c.model.dispose();
    const events = await trainBriefly(g);
    const error = events.find((e) => e.type === 'error');
    assert.equal(error, undefined, JSON.stringify(error));
    const done = events.find((e): e is TrainEventOf<'done'> => e.type === 'done')!;
    assert.equal(done.reason, 'completed');
    assert.ok(done.steps >= 6, `${done.steps} steps`);
    const progress = events.filter((e): e is TrainEventOf<'progress'> => e.type === 'progress');
    assert.ok(progress.length > 0 && progress.every((p) => Number.isFinite(p.loss)), 'finite losses');
    const snapshots = events.filter((e): e is TrainEventOf<'attention'> => e.type === 'attention');
    assert.ok(snapshots.length > 0, 'attention snapshots');
    const maps = snapshots.at(-1)!.maps;
    assert.equal(maps.length, want.attention, `attention maps: ${maps.map((m) => `${m.nodeId}.${m.port}`).join(', ')}`);
    for (const m of maps) {
      assert.equal(m.shape[0], 2, 'one map per probe sample');
      assert.ok(m.data.length > 0 && m.data.every(Number.isFinite), `${m.nodeId}.${m.port}: finite values`);
    }
  });
}

test("attn summary --json reports the reference implementation's trainable parameter count", async () => {
  // In a process of its own: the command loads the cpu backend and keeps the compiled model.
  for (const [file, want] of Object.entries(IMAGENET)) {
    const { stdout } = await run(process.execPath, [attnBin, 'summary', '--json', `${templatesDir}${file}`], { maxBuffer: 64 << 20 });
    assert.equal(JSON.parse(stdout).trainableParams, want.trainable, file);
    assert.equal((loadTemplate(file).reference as { trainableParams?: number }).trainableParams, want.trainable, `${file}: the "reference" field`);
  }
});
