// The Training panel on the webgpu backend in headless Chromium against browser
// mode: a short run on MNIST with webgpu chosen (in CI the adapter is Mesa's
// lavapipe, which `auto` would skip), and the panel names the adapter it ran on.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { adapterLabel } from '../../engine/schemas/backends.js';
import { browserModeSuite, copyTemplates, openFile, skipReason, textIs, withEditor } from './harness.js';
import { fillTrainingForm } from './training-page.js';
import { webgpuBackend } from '../helpers/webgpu.js';

const MLP = 'mlp.attn.json';
const webgpu = await webgpuBackend();
const skip = skipReason() || (typeof webgpu === 'string' ? `no WebGPU adapter: ${webgpu}` : undefined);
if (skip) console.log(`# NOTICE: skipping the adapter line of the Training panel on webgpu: ${skip}`);

describe('webgpu in the Training panel (browser mode, headless Chromium)', { skip, timeout: 300_000 }, () => {
  const env = browserModeSuite((workspace) => copyTemplates(workspace, [MLP]));

  test('a run on webgpu shows the adapter next to the backend', async () => {
    await withEditor(env, async ({ page, errors }) => {
      await openFile(page, MLP);
      await fillTrainingForm(page, { backend: 'webgpu', dataset: 'mnist', limit: 256, epochs: 1, batchSize: 64 });
      await page.getByTestId('train-start').click();
      await page.getByTestId('train-adapter').waitFor({ timeout: 120_000 });
      await page.waitForFunction(textIs, ['train-state', 'done'] as [string, string], { timeout: 180_000 });

      const info = (await page.getByTestId('train-backend-info').textContent()) ?? '';
      assert.match(info, /^Backend webgpu — /);
      // The same words `attn train` prints: what the training process found, labelled as the engine labels it.
      const adapter = typeof webgpu === 'string' ? undefined : webgpu.adapter;
      assert.ok(adapter, 'the test process found an adapter too');
      assert.equal(await page.getByTestId('train-adapter').textContent(), ` — ${adapterLabel(adapter)}`);
      assert.deepEqual(errors, []);
    });
  });
});
