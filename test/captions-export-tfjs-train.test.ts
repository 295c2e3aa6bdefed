// The TypeScript export of the captioner trains with teacher forcing, as the app's
// trainer does: its train() hands each batch's captions to the decoder (tfjs's fit()
// would not), so its first loss is the app's teacher-forced loss on the same weights,
// not the loss of greedy decoding; a few steps lower it, and `main --data` trains
// from an `attn export --data` file and then evaluates the greedy model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as tfjs from '@tensorflow/tfjs';
import ts from 'typescript';
import type { Tensor, TF } from '../engine/blocks/contract.js';
import { selectBackend } from '../engine/backends/select.js';
import { writeDataFile } from '../engine/cli-export.js';
import { compileGraph } from '../engine/compile/compile.js';
import { digitCaptions, DIGIT_CAPTION_CLASSES } from '../engine/data/captions.js';
import { exportTfjs } from '../engine/export/tfjs.js';
import { maskedLoss, oneHot } from '../engine/train/losses.js';
import { loadTemplate } from './helpers/graphs.js';
import { randomizeWeights, scratchDir, typeCheck } from './helpers/exports.js';

const TEMPLATE = 'sat-digit-captions.attn.json';
const VOCAB = DIGIT_CAPTION_CLASSES.length;

interface ExportedModule {
  buildModel(): tfjs.LayersModel;
  train(model: tfjs.LayersModel, xs: Tensor[], ys: Tensor[], epochs?: number, batchSize?: number, validationData?: [Tensor[], Tensor[]]): Promise<tfjs.History>;
  main(
    buildModel: () => tfjs.LayersModel,
    train: ExportedModule['train'],
    losses: (string | null)[],
    training: { epochs: number; batchSize: number },
    argv: string[],
  ): Promise<number[] | undefined>;
}

/** The app's training loss (engine/train/shard-gradients.ts) of `model` on a batch: with the labels handed over as targets, or decoding greedily. */
function appLoss(tf: TF, model: tfjs.LayersModel, x: Tensor, labels: Int32Array, teacherForced: boolean): number {
  return tf.tidy(() => {
    const out = teacherForced ? model.apply(x, { training: true, targets: labels }) : model.predict(x);
    const probs = (Array.isArray(out) ? out[0] : out) as Tensor;
    const { y, mask } = oneHot(labels, VOCAB);
    return maskedLoss(tf, 'sparseCategoricalCrossentropy', tf.tensor2d(y, [labels.length, VOCAB]), probs.reshape([-1, VOCAB]), tf.tensor1d(mask)).dataSync()[0];
  });
}

test("the captioner's TypeScript export type-checks and its train() teacher-forces as the app's trainer does", { timeout: 300_000 }, async () => {
  // wasm, as the app trains captioners: the exported module's '@tensorflow/tfjs' is this tf, so it runs there too.
  const { tf } = await selectBackend({ backend: 'wasm' });
  const graph = loadTemplate(TEMPLATE);
  const dir = scratchDir('captions-train-');
  const source = path.join(dir, 'sat.ts');
  writeFileSync(source, exportTfjs(graph));
  assert.deepEqual(typeCheck([source], dir), [], 'the export compiles with strict settings');
  const js = ts.transpileModule(exportTfjs(graph), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
  writeFileSync(path.join(dir, 'sat.mjs'), js.outputText);
  const mod = (await import(pathToFileURL(path.join(dir, 'sat.mjs')).href)) as ExportedModule;

  const { train, validation } = await digitCaptions({ size: 80, seed: 0 });
  const n = train.size;
  const x = tf.tensor(train.x as Float32Array, [n, ...train.inputShape]);
  const labels = train.labels;
  const y = tf.tensor2d(labels, [n, train.labelShape[0]], 'int32');
  const xVal = tf.tensor(validation.x as Float32Array, [validation.size, ...validation.inputShape]);
  const yVal = tf.tensor2d(validation.labels, [validation.size, validation.labelShape[0]], 'int32');
  const exported = mod.buildModel();
  const app = compileGraph(tf, graph, { seed: 3 });
  try {
    // The same weights in both, by name; random ones, far from uniform words, so that the two losses differ.
    randomizeWeights(tf, app.model, 3);
    const byName = new Map(app.model.weights.map((w) => [w.originalName, w]));
    exported.setWeights(exported.weights.map((w) => byName.get(w.originalName)!.read()));
    const forced = appLoss(tf, app.model, x, labels, true);
    const greedy = appLoss(tf, app.model, x, labels, false);
    assert.ok(Math.abs(forced - greedy) > 1e-3, `the two losses tell teacher forcing from greedy decoding: ${forced} vs ${greedy}`);

    // One step on the whole batch: the loss it reports is the batch's loss before the step.
    const first = await mod.train(exported, [x], [y], 1, n);
    const loss = first.history.loss[0] as number;
    assert.ok(Math.abs(loss - forced) < 1e-4, `the exported training's loss ${loss} is the app's teacher-forced ${forced} (greedy: ${greedy})`);
  } finally {
    exported.dispose();
    app.model.dispose();
  }
  // Learning is checked from the export's own initial weights: the random ones above
  // saturate the decoder, and a few steps from there need not lower the loss.
  const fresh = mod.buildModel();
  try {
    const more = await mod.train(fresh, [x], [y], 4, 16, [[xVal], [yVal]]);
    const losses = more.history.loss as number[];
    assert.ok(losses[3] < losses[0], `a few teacher-forced steps lower the loss: ${losses.join(' → ')}`);
    assert.equal(more.history.val_loss.length, 4, 'each epoch logs the greedy validation loss');
  } finally {
    tf.dispose([x, y, xVal, yVal]);
    fresh.dispose();
  }

  // The command line: data from `attn export --data`, then evaluate() on the greedy model.
  const npz = path.join(dir, 'captions.npz');
  await writeDataFile(graph, 'digit-captions', npz, 48);
  const logged: string[] = [];
  const log = console.log;
  console.log = (line: string) => void logged.push(line);
  try {
    const perEpoch = await mod.main(mod.buildModel, mod.train, ['sparseCategoricalCrossentropy'], { epochs: 1, batchSize: 16 }, [
      '--data',
      npz,
      '--epochs',
      '2',
    ]);
    assert.equal(perEpoch?.length, 2, logged.join('\n'));
  } finally {
    console.log = log;
  }
  assert.match(logged.join('\n'), /validation: loss \d/);
});
