// The Training panel's pytorch backend in headless Chromium against browser
// mode: the host's Python with torch is shown (or why none), the backend is
// offered, and a run trains on it with its interpreter, torch and device named.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { browserModeSuite, copyTemplates, openFile, skipReason, textIs, withEditor } from './harness.js';
import { torchAvailable } from '../helpers/torch.js';
import { assertDrawn, selectOutput } from './training-page.js';

const torch = torchAvailable();
const skip = skipReason() ?? (torch === true ? undefined : torch);
if (skip) console.log(`# NOTICE: skipping the PyTorch panel: ${skip}`);

const BENCH = 'bench-se-cnn.attn.json';

describe('PyTorch in the Training panel (browser mode, headless Chromium)', { skip, timeout: 300_000 }, () => {
  const env = browserModeSuite((workspace) => copyTemplates(workspace, [BENCH]));

  test('the panel shows the Python with torch, trains on pytorch, and says why when the interpreter has none', async () => {
    await withEditor(env, async ({ context, page, errors }) => {
      await openFile(page, BENCH, 'node-image');
      await page.getByTestId('dock-tab-training').click();
      const info = page.getByTestId('train-pytorch-info');
      await page.waitForFunction(
        () =>
          /PyTorch \S+ at /.test(
            (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document.querySelector(
              '[data-testid="train-pytorch-info"]',
            )?.textContent ?? '',
          ),
        undefined,
        { timeout: 60_000 },
      );
      assert.match((await info.textContent()) ?? '', /PyTorch [\d.]+\S* at \S+python3 \(Python 3[\d.]+\) · .*cpu/);

      await page.getByTestId('train-backend').selectOption('pytorch');
      // The torchrun command for a multi-node job, as attn train --print-launch prints it; no run folder yet.
      const command = page.getByTestId('train-torchrun-command');
      assert.match(
        await command.inputValue(),
        /^\S*python3 -m torch\.distributed\.run --nnodes=2 --nproc_per_node=1 --node_rank=0 --master_addr=127\.0\.0\.1 --master_port=29500 --redirects 2 --tee 1 --log_dir RUN_FOLDER\/pytorch\/logs \/\S+\/engine\/pytorch\/train_worker\.py RUN_FOLDER\/pytorch\/spec\.json$/,
      );
      await page.getByTestId('train-torchrun-nnodes').fill('3');
      await page.getByTestId('train-torchrun-master').fill('node0.lab:29400');
      assert.match(await command.inputValue(), /--nnodes=3 .*--master_addr=node0\.lab --master_port=29400 /);
      // Synchronised BatchNorm: a setting of several ranks only, on by default.
      assert.equal(await page.getByTestId('train-syncBatchNorm').count(), 0);
      await page.getByTestId('train-nproc').fill('2');
      assert.equal(await page.getByTestId('train-syncBatchNorm').isChecked(), true);
      await page.getByTestId('train-nproc').fill('1');
      await page.getByTestId('train-torchDevice').selectOption('cpu');
      await page.getByTestId('train-dataset').selectOption('mnist');
      await page.getByTestId('train-limit').fill('600');
      await page.getByTestId('train-epochs').fill('1');
      await page.getByTestId('train-start').click();
      await page.waitForFunction(textIs, ['train-state', 'done'] as [string, string], { timeout: 180_000 });
      assert.match((await page.getByTestId('train-backend-info').first().textContent()) ?? '', /Backend pytorch — torch \S+ at \S+python3, cpu/);
      // Now it names the run's prepared files, and copies.
      const launch = await command.inputValue();
      assert.match(launch, /--log_dir \/\S+\/pytorch\/logs \S+train_worker\.py \/\S+\/pytorch\/spec\.json$/);
      assert.doesNotMatch(launch, /RUN_FOLDER/);
      const specFile = launch.split(' ').at(-1)!;
      await access(specFile);
      await context.grantPermissions(['clipboard-read', 'clipboard-write']);
      await page.getByTestId('train-torchrun-copy').click();
      await page.getByTestId('train-torchrun-copy').filter({ hasText: 'Copied' }).waitFor();
      assert.equal(
        await page.evaluate(() => (globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }).navigator.clipboard.readText()),
        launch,
      );

      // The PyTorch run's folder opens from the Runs tab like any run: its charts and its attention snapshots.
      const runId = ((await page.getByTestId('train-run-id').first().textContent()) ?? '').trim();
      await page.getByTestId('dock-tab-runs').click();
      await page.getByTestId(`run-open-${runId}`).click();
      assert.ok(Number(await page.getByTestId('run-detail-snapshots').first().textContent()) >= 1, 'attention snapshots stored');
      await page.getByTestId('dock-tab-training').click();
      assert.ok(Number(await page.getByTestId('chart-batch').getAttribute('data-points')) > 1, 'the per-batch chart is drawn again');
      await page.getByTestId('dock-tab-attention').click();
      await selectOutput(page, 'se.weights');
      await page.getByTestId('attention-map-se-weights').waitFor();
      await assertDrawn(page, '[data-testid="attention-panels"]', 4, 'the stored SE weights are drawn');
      await page.getByTestId('dock-tab-training').click();

      // An interpreter without torch: the reason, and pytorch stays selectable only while chosen.
      await page.getByTestId('train-pythonPath').fill('/no/such/python3');
      await page.getByTestId('train-pythonPath').press('Enter');
      await page.waitForFunction(
        () =>
          /PyTorch unavailable: .*no Python at \/no\/such\/python3/.test(
            (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document.querySelector(
              '[data-testid="train-pytorch-info"]',
            )?.textContent ?? '',
          ),
        undefined,
        { timeout: 30_000 },
      );
      assert.deepEqual(errors, []);
    });
  });
});
