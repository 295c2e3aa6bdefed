// The TypeScript export's command line (`node model.js --data`) reports a captioner's
// validation as the app validates it: the cross-entropy and accuracy of greedy decoding
// over the labelled steps alone. A caption's steps past <end> (label -1) are padding;
// evaluate() averaged them in (each a loss of 0, never a hit). Then it prints the first
// validation captions, decoded greedily, in the words beside the model, and the share
// of exact captions (the report's lines: test/captions-export-main.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { selectBackend } from '../engine/backends/select.js';
import { writeDataFile } from '../engine/cli-export.js';
import { prepareData } from '../engine/data/index.js';
import { DIGIT_CAPTION_CLASSES } from '../engine/data/captions.js';
import { captionVocabularyText } from '../engine/data/caption-vocabulary.js';
import type { Tensor } from '../engine/blocks/contract.js';
import { exportTfjs } from '../engine/export/tfjs.js';
import { inputHint } from '../engine/train/setup.js';
import { Trainer } from '../engine/train/trainer.js';
import { loadTemplate } from './helpers/graphs.js';
import { importExportedTfjs, scratchDir } from './helpers/exports.js';
import { appCaptions, printedCaptions } from './helpers/caption-report.js';

const LIMIT = 48;

interface ExportedModule {
  buildModel(): tfjs.LayersModel;
  train: unknown;
  main(
    buildModel: () => tfjs.LayersModel,
    train: unknown,
    losses: (string | null)[],
    training: { epochs: number; batchSize: number },
    argv: string[],
    report?: (predicted: number[][], truth: number[][]) => unknown,
  ): Promise<number[] | undefined>;
  reportCaptions(predicted: number[][], truth: number[][]): Promise<number>;
}

test(
  "the captioner's TypeScript export prints the validation loss and accuracy the app computes on the same weights (padding left out)",
  { timeout: 300_000 },
  async () => {
    const { tf } = await selectBackend({ backend: 'wasm' });
    const graph = loadTemplate('sat-digit-captions.attn.json');
    // The words beside the module, as `attn export` writes them.
    const dir = scratchDir('captions-validation-');
    writeFileSync(path.join(dir, 'sat.vocabulary.json'), captionVocabularyText(DIGIT_CAPTION_CLASSES));
    const mod = await importExportedTfjs<ExportedModule>(exportTfjs(graph), path.join(dir, 'sat.mjs'));
    const npz = path.join(dir, 'captions.npz');
    await writeDataFile(graph, 'digit-captions', npz, LIMIT);

    let trained: tfjs.LayersModel | undefined;
    const logged: string[] = [];
    const log = console.log;
    console.log = (line: string) => void logged.push(line);
    try {
      await mod.main(
        () => (trained = mod.buildModel()),
        mod.train,
        ['sparseCategoricalCrossentropy'],
        { epochs: 1, batchSize: 16 },
        ['--data', npz],
        mod.reportCaptions,
      );
    } finally {
      console.log = log;
    }
    const printed = /validation: loss (\d+\.\d+), acc (\d+\.\d+)/.exec(logged.join('\n'));
    assert.ok(printed && trained, logged.join('\n'));

    // The app's validation of the same weights on the same split.
    const data = await prepareData({ name: 'digit-captions', limit: LIMIT }, inputHint(graph));
    const app = new Trainer({ tf, graph, data, config: { batchSize: 16 }, runDir: null });
    try {
      const byName = new Map(trained.weights.map((w) => [w.originalName, w]));
      for (const w of app.model.weights) w.write(byName.get(w.originalName)!.read());
      const ours = await app.evaluate(data.validation);
      assert.ok(
        Math.abs(Number(printed[1]) - ours.val_loss) < 2e-4,
        `the export prints a validation loss of ${printed[1]}, the app's is ${ours.val_loss.toFixed(4)}`,
      );
      assert.ok(
        Math.abs(Number(printed[2]) - ours.val_accuracy) < 2e-4,
        `the export prints a validation accuracy of ${printed[2]}, the app's is ${ours.val_accuracy.toFixed(4)}`,
      );

      // Then the captions: the greedy ones of the same weights beside the truth, as the app reads them, in words.
      const n = data.validation.size;
      const { x, labels } = data.validation.batch(
        tf,
        Array.from({ length: n }, (_, i) => i),
      );
      const probs = [app.model.predict(x)].flat()[0] as Tensor;
      const ids = tf.tidy(() => probs.argMax(-1).arraySync() as number[][]);
      const steps = ids[0].length;
      const truth = Array.from({ length: n }, (_, s) => Array.from(labels.subarray(s * steps, (s + 1) * steps)));
      tf.dispose([x, probs]);
      const report = printedCaptions(logged.join('\n'));
      assert.deepEqual(report, appCaptions(ids, truth));
      assert.equal(report.captions.length, Math.min(5, n));
      assert.ok(
        report.captions.every((c) => /^[a-z]+( [a-z]+)*$/.test(c.truth)),
        'words, not ids',
      );
    } finally {
      app.dispose();
      trained.dispose();
    }
  },
);
