// File › Export in headless Chromium against browser mode: the open graph as
// PyTorch, Keras and TypeScript code, highlighted, and saved as a download; and
// as an ONNX model, downloaded and run under onnxruntime.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import type { Download } from 'playwright-core';
import { browserModeSuite, copyTemplates, openFile, skipReason, textIncludes, withEditor } from './harness.js';
import { fitWhole } from './canvas-page.js';
import { torchAvailable } from '../helpers/torch.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

const TEMPLATE = 'cbam-mnist-small.attn.json';
const CAPTIONER = 'sat-digit-captions.attn.json';
const torch = torchAvailable();
const noTorch = torch === true ? undefined : torch;
if (noTorch) console.log(`# NOTICE: skipping the ONNX tab of the Export dialog: ${noTorch}`);

describe('export dialog end to end (browser mode, headless Chromium)', { skip, timeout: 240_000 }, () => {
  const env = browserModeSuite(async (workspace) => {
    await copyTemplates(workspace, [TEMPLATE, CAPTIONER]);
  });

  test('the open graph exports to every target; Save downloads the PyTorch file', async () => {
    await withEditor(env, async ({ page, errors }) => {
      await openFile(page, TEMPLATE, 'node-image');
      await fitWhole(page);
      await page.getByTestId('cmd-file.export').click();
      const code = page.getByTestId('export-code');
      await code.waitFor();
      assert.match((await code.textContent()) ?? '', /class CBAM\(nn\.Module\):[\s\S]*class Model\(nn\.Module\):/);
      assert.ok((await code.locator('.tok-keyword').count()) > 10, 'keywords are highlighted');
      assert.equal(await code.locator('.tok-def').first().textContent(), 'ChannelAttention');

      const download = page.waitForEvent('download');
      await page.getByTestId('export-save').click();
      const file = await (await download).path();
      assert.match((await download).suggestedFilename(), /\.py$/);
      assert.equal(await readFile(file!, 'utf8'), await code.textContent());

      await page.getByTestId('export-target-keras').click();
      await page.waitForFunction(textIncludes, ['export-code', 'def build_model():'] as const);
      await page.getByTestId('export-target-tfjs').click();
      await page.waitForFunction(textIncludes, ['export-code', 'export function buildModel(): tf.LayersModel'] as const);
      await page.getByTestId('export-close').click();
      assert.equal(await page.getByTestId('export-dialog').count(), 0);
      assert.deepEqual(errors, []);
    });
  });

  test("a captioner's export saves its words beside the code, which its decoders read", async () => {
    await withEditor(env, async ({ page, errors }) => {
      await openFile(page, CAPTIONER, 'node-image');
      await page.getByTestId('cmd-file.export').click();
      await page.getByTestId('export-code').waitFor();
      const names = /^(\w+)\.py \+ (\w+)\.vocabulary\.json$/.exec((await page.getByTestId('export-name').textContent()) ?? '');
      assert.ok(names && names[1] === names[2], `the footer names the code and the words beside it: ${names?.[0]}`);
      const downloads: Promise<Download>[] = [];
      const both = new Promise<void>((resolve) =>
        page.on('download', (d) => {
          downloads.push(Promise.resolve(d));
          if (downloads.length === 2) resolve();
        }),
      );
      await page.getByTestId('export-save').click();
      // unref: a timer left after the race must not keep the test's process alive.
      const late = new Promise((_, reject) => setTimeout(() => reject(new Error(`${downloads.length} of 2 downloads`)), 30_000).unref());
      await Promise.race([both, late]);
      const [code, words] = await Promise.all(downloads);
      assert.equal(code.suggestedFilename(), `${names[1]}.py`);
      assert.equal(words.suggestedFilename(), `${names[1]}.vocabulary.json`);
      const list = JSON.parse(await readFile((await words.path())!, 'utf8')) as { words: string[] };
      assert.deepEqual(list.words.slice(0, 4), ['<pad>', '<start>', '<end>', 'zero']);
      assert.deepEqual(errors, []);
    });
  });

  test('the ONNX tab exports through PyTorch; Save downloads a model onnxruntime runs', { skip: noTorch }, async () => {
    await withEditor(env, async ({ page, errors }) => {
      await openFile(page, TEMPLATE, 'node-image');
      await fitWhole(page);
      await page.getByTestId('cmd-file.export').click();
      await page.getByTestId('export-code').waitFor();
      await page.getByTestId('export-target-onnx').click();
      assert.equal(await page.getByTestId('export-target-onnx').getAttribute('aria-selected'), 'true');
      const info = page.getByTestId('export-binary');
      await info.waitFor({ timeout: 90_000 });
      assert.match((await info.textContent()) ?? '', /\.onnx: an ONNX model \(opset 17, any batch size\), [\d,]+ KB/);
      assert.equal(await page.getByTestId('export-code').count(), 0, 'no code preview for a binary model');
      assert.equal(await page.getByTestId('export-copy').isDisabled(), true, 'a binary model is not copied as text');

      const download = page.waitForEvent('download');
      await page.getByTestId('export-save').click();
      assert.match((await download).suggestedFilename(), /\.onnx$/);
      const model = await readFile((await (await download).path())!);
      // The downloaded bytes are a model: one 28×28 grey digit in (NCHW), ten class probabilities out.
      const session = await ort.InferenceSession.create(model);
      try {
        const input = new ort.Tensor('float32', new Float32Array(28 * 28).fill(0.5), [1, 1, 28, 28]);
        const out = await session.run({ [session.inputNames[0]]: input });
        const probs = out[session.outputNames[0]];
        assert.deepEqual([...probs.dims], [1, 10]);
        const sum = [...(probs.data as Float32Array)].reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - 1) < 1e-4, `probabilities sum to ${sum}`);
      } finally {
        await session.release();
      }
      assert.deepEqual(errors, []);
    });
  });

  test('a graph with errors shows its diagnostics instead of code', async () => {
    await withEditor(env, async ({ page }) => {
      await page.getByTestId('palette-item-core.dense').waitFor();
      // A new graph is empty: no Input, no Output.
      await page.keyboard.press('Control+E');
      await page.getByTestId('export-diagnostics').waitFor();
      assert.match((await page.getByTestId('export-diagnostics').textContent()) ?? '', /the graph is empty: add an Input and an Output/);
      assert.equal(await page.getByTestId('export-code').count(), 0);
    });
  });
});
