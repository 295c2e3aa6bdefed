// The TypeScript export's command line (`node model.js --data`) reports a captioner's
// validation as the app validates it: the cross-entropy and accuracy of greedy decoding
// over the labelled steps alone. A caption's steps past <end> (label -1) are padding;
// evaluate() averaged them in (each a loss of 0, never a hit).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { selectBackend } from '../engine/backends/select.js';
import { writeDataFile } from '../engine/cli-export.js';
import { prepareData } from '../engine/data/index.js';
import { exportTfjs } from '../engine/export/tfjs.js';
import { inputHint } from '../engine/train/setup.js';
import { Trainer } from '../engine/train/trainer.js';
import { loadTemplate } from './helpers/graphs.js';
import { importExportedTfjs, scratchDir } from './helpers/exports.js';

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
  ): Promise<number[] | undefined>;
}

test(
  "the captioner's TypeScript export prints the validation loss and accuracy the app computes on the same weights (padding left out)",
  { timeout: 300_000 },
  async () => {
    const { tf } = await selectBackend({ backend: 'wasm' });
    const graph = loadTemplate('sat-digit-captions.attn.json');
    const mod = await importExportedTfjs<ExportedModule>(exportTfjs(graph));
    const npz = path.join(scratchDir('captions-validation-'), 'captions.npz');
    await writeDataFile(graph, 'digit-captions', npz, LIMIT);

    let trained: tfjs.LayersModel | undefined;
    const logged: string[] = [];
    const log = console.log;
    console.log = (line: string) => void logged.push(line);
    try {
      await mod.main(() => (trained = mod.buildModel()), mod.train, ['sparseCategoricalCrossentropy'], { epochs: 1, batchSize: 16 }, ['--data', npz]);
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
    } finally {
      app.dispose();
      trained.dispose();
    }
  },
);
