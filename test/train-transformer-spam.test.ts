// The Transformer text classifier trained briefly on the built-in spam corpus from
// the CLI: it learns more than the class priors (a short run, so the bar is the
// priors, not the BiGRU's 95% of test/train-spam.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { attnTrain } from './helpers/cli.js';
import { prepareData } from '../engine/data/index.js';

const TEMPLATE = fileURLToPath(new URL('../../templates/transformer-spam.attn.json', import.meta.url));
const LIMIT = 300;

test('transformer-spam: one short epoch on spam beats the class priors on validation', async () => {
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'attn-transformer-spam-')), 'run');
  const done = await attnTrain(TEMPLATE, '--dataset', 'spam', '--epochs', '1', '--limit', String(LIMIT), '--out', out);

  // The validation split's class shares: always answering the commoner class, and the loss of predicting the shares.
  const { validation } = await prepareData({ name: 'spam', limit: LIMIT, length: 64, vocab: 8000 });
  const spam = Array.from({ length: validation.size }, (_, i) => validation.labels[validation.row(i)]).filter((l) => l === 1).length / validation.size;
  const majority = Math.max(spam, 1 - spam);
  const priorLoss = -(spam * Math.log(spam) + (1 - spam) * Math.log(1 - spam));
  const { val_accuracy, val_loss } = done.metrics;
  console.log(
    `# transformer-spam: val_accuracy ${val_accuracy.toFixed(3)} (majority ${majority.toFixed(3)}), val_loss ${val_loss.toFixed(3)} (priors ${priorLoss.toFixed(3)}), ${done.samplesPerSec.toFixed(1)} samples/s`,
  );
  assert.ok(val_loss < priorLoss, `val_loss ${val_loss} is not below the priors' ${priorLoss}`);
  assert.ok(val_accuracy >= majority, `val_accuracy ${val_accuracy} is below the majority share ${majority}`);
});
