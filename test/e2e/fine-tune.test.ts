// Fine-tuning from the editor in headless Chromium against browser mode: the
// ResNet-20 template, weights pretrained for a 4-class task loaded with "Load
// weights…" (the head named as of another shape), the backbone frozen, a new
// head for MNIST's 10 classes, a few batches trained in the training process.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { compileGraph } from '../../engine/compile/compile.js';
import { exportPytorch } from '../../engine/export/pytorch.js';
import { torchWeightsFile } from '../../engine/export/torch-weights.js';
import { loadTemplate } from '../helpers/graphs.js';
import { tfReady } from '../helpers/tf.js';
import { browserModeSuite, copyTemplates, openFile, skipReason, textIs, withEditor } from './harness.js';
import { fillTrainingForm } from './training-page.js';
import { runWeights, same } from '../helpers/checkpoints.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

const TEMPLATE = 'se-resnet20-mnist.attn.json';

/** Pretrained weights of the template with a 4-class head, as a safetensors file of its PyTorch names. */
async function pretrainedFile(file: string): Promise<void> {
  const tf = await tfReady;
  const base = loadTemplate(TEMPLATE);
  const graph = { ...base, nodes: base.nodes.map((n) => (n.id === 'head' ? { ...n, params: { ...n.params, classes: 4 } } : n)) };
  const compiled = compileGraph(tf, graph);
  // Not the seeded initialisation the app would draw itself (so loading them shows), and of a sane scale (logits that do not saturate the softmax).
  for (const w of compiled.model.weights) w.write(tf.tidy(() => w.read().mul(1.1)));
  await writeFile(file, torchWeightsFile(compiled.model, exportPytorch(graph)));
  compiled.model.dispose();
}

describe('fine-tuning from the editor (browser mode, headless Chromium)', { skip, timeout: 300_000 }, () => {
  const env = browserModeSuite(async (workspace) => {
    await copyTemplates(workspace, [TEMPLATE]);
    await pretrainedFile(path.join(workspace, 'pretrained.safetensors'));
  });

  test('load weights into ResNet-20, freeze the backbone, a new head, train a few batches', async () => {
    await withEditor(env, async ({ page, errors }) => {
      await openFile(page, TEMPLATE, 'node-image');
      await fillTrainingForm(page, { dataset: 'mnist', limit: 96, batchSize: 16, epochs: 1 });

      await page.getByTestId('weights-path').fill('pretrained.safetensors');
      await page.getByTestId('weights-load').click();
      await page.getByTestId('weights-report').waitFor({ timeout: 60_000 });
      const loaded = await page.getByTestId('weights-loaded').textContent();
      assert.match(loaded ?? '', /Loaded 131 arrays \(Attention Studio's PyTorch export\) into run .*-weights/);
      assert.match((await page.getByTestId('weights-mismatched').textContent()) ?? '', /^2 of another shape: head\.weight \[4×64\] vs \[10×64\], head\.bias/);
      assert.match((await page.getByTestId('weights-run').textContent()) ?? '', /starts from .*-weights/);

      await page.getByTestId('train-freeze').fill('conv, bn, stage');
      // The summary splits the counts: only the head (64 × 10 + 10) trains.
      await page.getByTestId('dock-toggle').click(); // the summary shows under a collapsed dock
      await page.waitForFunction(textIs, ['summary-trainable', '650'] as [string, string], { timeout: 30_000 });
      const all = Number((await page.getByTestId('summary-all').textContent())!.replace(/,/g, ''));
      const count = async (id: string) => Number((await page.getByTestId(id).textContent())!.replace(/,/g, ''));
      // BatchNorm's moving statistics are neither trained nor frozen: the third part of all.
      assert.equal(all, 650 + (await count('summary-frozen')) + (await count('summary-non-trainable')));
      assert.ok(all > 250_000, `${all} parameters in all`);
      // The inspector gives a frozen composite's split.
      await page.getByTestId('summary-row-stage2').dispatchEvent('click');
      await page.getByTestId('inspector-fine-tune').waitFor();
      assert.equal(await page.getByTestId('inspector-trainable').textContent(), '0');
      const stage2 = (await page.getByTestId('summary-params-stage2').textContent())!;
      assert.match(stage2, /❄$/, 'the summary marks the frozen stage');
      // All of the stage is frozen but its BatchNorm statistics, which never train.
      const frozenTitle = await page.getByTestId('summary-frozen-stage2').getAttribute('title');
      assert.equal(`${await page.getByTestId('inspector-frozen').textContent()} frozen by fine-tuning`, frozenTitle);
      await page.getByTestId('dock-toggle').click();
      await page.getByTestId('train-newHead').check();
      await page.getByTestId('train-start').click();
      await page.waitForFunction(textIs, ['train-state', 'done'] as [string, string], { timeout: 180_000 });
      assert.deepEqual(errors, []);
      // The run's weights: the backbone exactly as loaded, the head trained with 10 classes.
      const runs = path.join(path.dirname(env.server.workspace), 'state', 'runs');
      const names = await readdir(runs);
      const [imported, trained] = [names.find((n) => n.endsWith('-weights'))!, names.find((n) => !n.endsWith('-weights'))!];
      const [before, after] = await Promise.all([imported, trained].map((n) => runWeights(path.join(runs, n))));
      let backbone = 0;
      for (const [name, v] of after) {
        if (name.startsWith('head/')) assert.ok(!same(v, before.get(name)!), `${name} trained`);
        else {
          assert.ok(same(v, before.get(name)!), `${name} moved while frozen`);
          backbone++;
        }
      }
      assert.ok(backbone > 100, `${backbone} backbone weights compared`);
      assert.equal(after.get('head/kernel')?.length, 64 * 10);

      // #16: the Input shows the parameters of its kind only.
      await page.getByTestId('dock-toggle').click();
      await page.getByTestId('summary-row-image').dispatchEvent('click');
      await page.getByTestId('param-height').waitFor();
      await page.getByTestId('param-kind').selectOption('tokens');
      await page.getByTestId('param-vocabSize').waitFor();
      for (const gone of ['height', 'width', 'channels', 'features'])
        assert.equal(await page.getByTestId(`param-${gone}`).count(), 0, `${gone} shown for tokens`);
      assert.equal(await page.getByTestId('param-length').count(), 1);
    });
  });
});
