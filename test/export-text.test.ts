// Exporting a model trained on text: the run's vocabulary goes beside the model,
// and the PyTorch export's text entry point tokenises as Attention Studio does
// and gives the probabilities `attn predict --text` gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { attn } from './helpers/cli.js';
import { skipWithoutTorch } from './helpers/torch.js';
import { runPythonTextEntry, trainOnSpam } from './helpers/text-runs.js';
import { encodeTexts } from '../engine/data/text.js';

const TEMPLATE = fileURLToPath(new URL('../../templates/bigru-attention-spam.attn.json', import.meta.url));
/** Apostrophes, runs of punctuation, capitals, accents, digits, a word no vocabulary holds, and more words than fit. */
const TEXTS = [
  "FREE money!!! Don't wait: click here to claim your $1,000 prize now… café",
  'Hi Bob, the patch fixes the build on Debian; can you review it before the meeting tomorrow? zzqxv',
  Array.from({ length: 80 }, (_, i) => `word${i % 7}`).join(' '),
];

test('attn export --weights of a text run: vocabulary beside the model; the PyTorch text entry point encodes and predicts as attn does', async (t) => {
  const { dir, run, vocabulary } = await trainOnSpam(TEMPLATE, { epochs: 1, limit: 96 });

  for (const target of ['keras', 'tfjs'] as const) {
    const out = path.join(dir, target, target === 'tfjs' ? 'spam.ts' : 'spam.py');
    const r = await attn('export', TEMPLATE, '--to', target, '--weights', run, '--out', out);
    assert.equal(r.code, 0, r.stderr);
    const saved = path.join(dir, target, 'spam.vocabulary.json');
    assert.match(r.stdout, new RegExp(`wrote ${saved.replace(/[.\\]/g, '\\$&')}`));
    assert.deepEqual(JSON.parse(readFileSync(saved, 'utf8')), vocabulary, `${target}: the run's vocabulary is written beside the model`);
    assert.equal(existsSync(path.join(dir, target, 'spam_text.py')), target === 'keras', `${target}: a Python text entry point only for Python targets`);
  }

  const out = path.join(dir, 'torch', 'spam.py');
  const r = await attn('export', TEMPLATE, '--to', 'pytorch', '--weights', run, '--out', out);
  assert.equal(r.code, 0, r.stderr);
  const entry = path.join(dir, 'torch', 'spam_text.py');
  assert.match(r.stdout, /spam_text\.py/);

  const predicted = await attn('predict', TEMPLATE, '--weights', run, '--text', ...TEXTS, '--json');
  assert.equal(predicted.code, 0, predicted.stderr);
  const want = JSON.parse(predicted.stdout) as { shape: number[]; data: number[] };

  if (skipWithoutTorch(t, 'running the exported text entry point')) return;
  const got = runPythonTextEntry<number[][]>(entry, TEXTS);
  assert.deepEqual(got.ids.flat(), Array.from(encodeTexts(TEXTS, vocabulary)), "Python's tokenizer gives the ids attn's gives");
  assert.ok(got.ids[1].includes(1), 'an unknown word is UNK');
  assert.equal(got.probs.length, want.data.length);
  got.probs.forEach((p, i) => assert.ok(Math.abs(p - want.data[i]) < 1e-4, `probability ${i}: PyTorch ${p}, attn ${want.data[i]}`));
});
