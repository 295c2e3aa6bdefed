// Memory is estimated before the first batch: a batch that cannot fit is refused
// with "this needs about N GB at batch B; try batch ≤ K" (and batch K trains),
// and memory that still runs out ends the run with a message that says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../engine/cli.js';
import {
  ACTIVATION_FACTOR,
  activationsPerSample,
  BUDGET_ENV,
  checkMemory,
  isOutOfMemory,
  maxBatch,
  memoryBudget,
  trainingNeed,
  WASM_HEAP_BYTES,
} from '../engine/train/memory.js';
import { selectBackend } from '../engine/backends/select.js';
import { tinyMlp } from './train-fixtures.js';
import { tfReady } from './helpers/tf.js';
import { flags } from './helpers/cli.js';

test('the estimate: weights, gradients and optimizer slots, plus layer outputs per sample times the batch', async () => {
  const tf = await tfReady;
  const input = tf.input({ shape: [784] });
  const hidden = tf.layers.dense({ units: 100 }).apply(input) as ReturnType<typeof tf.input>;
  const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 10 }).apply(hidden) as ReturnType<typeof tf.input> });
  try {
    assert.equal(activationsPerSample(model), 784 + 100 + 10);
    const params = 784 * 100 + 100 + 100 * 10 + 10;
    const adam = trainingNeed(model, 2);
    assert.equal(adam.fixedBytes, params * 4 * 4, 'weights, gradients, two Adam moments');
    assert.equal(adam.perSampleBytes, 894 * 4 * ACTIVATION_FACTOR);
    assert.equal(trainingNeed(model, 0).fixedBytes, params * 4 * 2, 'plain SGD keeps no slots');

    const budget = 1e7;
    const k = maxBatch(adam, budget);
    assert.ok(adam.fixedBytes + k * adam.perSampleBytes <= budget && adam.fixedBytes + (k + 1) * adam.perSampleBytes > budget);
    assert.doesNotThrow(() => checkMemory(adam, k, budget, 'cpu'));
    assert.throws(() => checkMemory(adam, 4096, budget, 'cpu'), {
      message: `this needs about 0.045 GB at batch 4096; try batch ≤ ${k} (the cpu backend's budget is about 0.010 GB (${BUDGET_ENV} sets it))`,
    });
    assert.throws(
      () => checkMemory(adam, 1, 1e6, 'wasm'),
      /this needs about 0.0013 GB at batch 1, and even batch 1 needs about 0.0013 GB; the wasm backend's budget/,
    );
  } finally {
    model.dispose();
  }
  assert.equal(memoryBudget('wasm', 2 ** 30, {}), WASM_HEAP_BYTES - 2 ** 30, 'wasm: its 4 GiB heap less what is in use');
  assert.ok(memoryBudget('cpu', 0, {}) > 0.1e9);
  assert.equal(memoryBudget('wasm', 0, { [BUDGET_ENV]: '8' }), 8e9);
  assert.throws(() => memoryBudget('cpu', 0, { [BUDGET_ENV]: 'lots' }), /ATTN_MEMORY_BUDGET_GB must be a positive number of GB, got "lots"/);
});

test('attn train refuses a batch over the budget before the first batch, and trains at the batch it suggests', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-memory-'));
  const file = path.join(dir, 'mlp.attn.json');
  writeFileSync(file, JSON.stringify(tinyMlp()));
  const train = async (batch: number) => {
    const lines: string[] = [];
    const code = await main(
      ['train', file, ...flags({ dataset: 'mnist', limit: 400, epochs: 1, batchSize: batch, backend: 'cpu', out: path.join(dir, `run-${batch}`), json: true })],
      {
        log: (s) => lines.push(s),
        err: (s) => lines.push(s),
      },
    );
    return { code, events: lines.flatMap((l) => (l.startsWith('{') ? [JSON.parse(l) as { type: string; message?: string }] : [])), text: lines.join('\n') };
  };
  process.env[BUDGET_ENV] = '0.002'; // 2 MB, inherited by the training process
  try {
    const refused = await train(1_000_000);
    assert.equal(refused.code, 1, refused.text);
    const error = refused.events.find((e) => e.type === 'error');
    const m = /this needs about ([\d.]+) GB at batch 360; try batch ≤ (\d+) \(the cpu backend's budget is about 0.0020 GB/.exec(error?.message ?? '');
    assert.ok(m, `the error event: ${error?.message ?? refused.text}`);
    assert.ok(!refused.events.some((e) => e.type === 'progress'), 'refused before the first batch');
    const k = Number(m[2]);
    assert.ok(k >= 1 && k < 360, `suggested batch ${k}`);
    const ok = await train(k);
    assert.equal(ok.code, 0, ok.text);
    assert.equal(ok.events.at(-1)?.type, 'done');
  } finally {
    delete process.env[BUDGET_ENV];
  }
});

test('running out of memory anyway is recognised in what each runtime throws', async () => {
  const { tf } = await selectBackend({ backend: 'wasm' });
  // Past the wasm heap: the backend's own allocation failure, not one we made up.
  const real = (() => {
    try {
      tf.zeros([1100 * 2 ** 20]).dispose();
    } catch (err) {
      return err;
    }
  })();
  assert.ok(real instanceof Error, 'a 4.3 GB tensor does not fit the wasm heap');
  assert.ok(isOutOfMemory(real), String(real));
  assert.ok(isOutOfMemory(new Error('Aborted(). Build with -sASSERTIONS for more info.')), "wasm's abort");
  assert.ok(!isOutOfMemory(new Error('the graph has errors')));
});
