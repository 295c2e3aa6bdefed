// The Hierarchical Attention Network trained briefly on the built-in spam corpus from
// the CLI, as a user runs it: it learns more than the class priors, the run folder
// holds a sentence-splitting vocabulary and word and sentence attention, and its
// exports (PyTorch, tfjs) tokenise and predict as `attn predict` does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { attn } from './helpers/cli.js';
import { skipWithoutTorch } from './helpers/torch.js';
import { prepareData } from '../engine/data/index.js';
import { encodeTexts } from '../engine/data/text.js';
import { runPythonTextEntry, trainOnSpam } from './helpers/text-runs.js';

const TEMPLATE = fileURLToPath(new URL('../../templates/han-spam.attn.json', import.meta.url));
const SCRATCH = fileURLToPath(new URL('../../exports-under-test/', import.meta.url));
const LIMIT = 500;
const [SENTENCES, WORDS] = [8, 16];
/** Several sentences (and a blank line), one sentence of more words than fit, a word no vocabulary holds. */
const TEXTS = [
  'FREE money!!! Click here now. You have won a $1,000 prize.\n\nReply today to claim it… café',
  'Hi Bob. The patch fixes the build on Debian; can you review it before the meeting tomorrow? zzqxv',
  Array.from({ length: 40 }, (_, i) => `word${i % 7}`).join(' '),
];

test('han-spam: a short run beats the class priors; word and sentence attention in the run; PyTorch and tfjs exports predict as attn does', async (t) => {
  const { dir, run, done, vocabulary } = await trainOnSpam(TEMPLATE, { epochs: 2, limit: LIMIT });
  assert.equal(vocabulary.maxSentences, SENTENCES, "the run's vocabulary splits sentences as the graph's input wants");
  assert.equal(vocabulary.maxLength, WORDS);

  const { validation } = await prepareData({ name: 'spam', limit: LIMIT, sentences: SENTENCES, length: WORDS, vocab: 8000 });
  const spam = Array.from({ length: validation.size }, (_, i) => validation.labels[validation.row(i)]).filter((l) => l === 1).length / validation.size;
  const majority = Math.max(spam, 1 - spam);
  const { val_accuracy } = done.metrics;
  console.log(`# han-spam: val_accuracy ${val_accuracy.toFixed(3)} (majority ${majority.toFixed(3)}), ${done.samplesPerSec.toFixed(1)} samples/s`);
  assert.ok(val_accuracy >= majority + 0.05, `val_accuracy ${val_accuracy} is not clearly above the majority share ${majority}`);

  // The probes' word attention, one row per sentence, and sentence attention, one weight per sentence.
  const snapshots = readdirSync(path.join(run, 'attention')).sort();
  const last = path.join(run, 'attention', snapshots.at(-1)!);
  const meta = (name: string) => JSON.parse(readFileSync(path.join(last, `${name}.json`), 'utf8')) as { fullShape: number[] };
  assert.deepEqual(meta('wordAttention.weights').fullShape.slice(1), [SENTENCES, WORDS]);
  assert.deepEqual(meta('sentenceAttention.weights').fullShape.slice(1), [SENTENCES]);
  const sentenceWeights = new Float32Array(Uint8Array.from(readFileSync(path.join(last, 'sentenceAttention.weights.f32'))).buffer);
  for (let b = 0; b < sentenceWeights.length / SENTENCES; b++) {
    const row = sentenceWeights.subarray(b * SENTENCES, (b + 1) * SENTENCES);
    assert.ok(Math.abs(row.reduce((a, w) => a + w, 0) - 1) < 1e-4, `probe ${b}: sentence weights sum to 1`);
  }

  const predicted = await attn('predict', TEMPLATE, '--weights', run, '--text', ...TEXTS, '--json');
  assert.equal(predicted.code, 0, predicted.stderr);
  const want = JSON.parse(predicted.stdout) as { shape: number[]; data: number[] };
  assert.deepEqual(want.shape, [TEXTS.length, 2]);

  // tfjs: the TypeScript text entry point, compiled with the exported model, tokenises and predicts as attn does.
  // (Exported under the repository, where its imports of @tensorflow/tfjs resolve.)
  mkdirSync(SCRATCH, { recursive: true });
  const tfjsDir = mkdtempSync(path.join(SCRATCH, 'han-'));
  const tfjsExport = await attn('export', TEMPLATE, '--to', 'tfjs', '--weights', run, '--out', path.join(tfjsDir, 'han.ts'));
  assert.equal(tfjsExport.code, 0, tfjsExport.stderr);
  const tfjsEntry = await runTfjsEntry(tfjsDir, 'han', TEXTS);
  assert.deepEqual(tfjsEntry.ids, Array.from(encodeTexts(TEXTS, vocabulary)), "the TypeScript tokenizer gives the app's ids");
  tfjsEntry.probs.forEach((p, i) => assert.ok(Math.abs(p - want.data[i]) < 1e-5, `probability ${i}: exported tfjs ${p}, attn ${want.data[i]}`));

  if (skipWithoutTorch(t, 'running the exported PyTorch HAN')) return;
  const out = path.join(dir, 'torch', 'han.py');
  const exported = await attn('export', TEMPLATE, '--to', 'pytorch', '--weights', run, '--out', out);
  assert.equal(exported.code, 0, exported.stderr);
  const got = runPythonTextEntry<number[][][]>(path.join(dir, 'torch', 'han_text.py'), TEXTS);
  assert.deepEqual(got.ids.flat(2), Array.from(encodeTexts(TEXTS, vocabulary)), "Python's tokenizer splits sentences and gives the ids attn's gives");
  got.probs.forEach((p, i) => assert.ok(Math.abs(p - want.data[i]) < 1e-4, `probability ${i}: PyTorch ${p}, tfjs (attn predict) ${want.data[i]}`));
});

/** Transpiles the exported module and its text entry point beside them and runs the entry: its ids (encode, in this process) and its printed probabilities. */
async function runTfjsEntry(dir: string, name: string, texts: string[]): Promise<{ ids: number[]; probs: number[] }> {
  for (const file of [name, `${name}_text`]) {
    const js = ts.transpileModule(readFileSync(path.join(dir, `${file}.ts`), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    writeFileSync(path.join(dir, `${file}.js`), js.outputText);
  }
  const entry = path.join(dir, `${name}_text.js`);
  const run = spawnSync(process.execPath, [entry, ...texts], { encoding: 'utf8', timeout: 240_000 });
  assert.equal(run.status, 0, run.stderr);
  const printed = JSON.parse(run.stdout) as { shape: number[]; data: number[] };
  assert.deepEqual(printed.shape, [texts.length, 2]);
  const mod = (await import(pathToFileURL(entry).href)) as { encode(t: string[], v: unknown): Int32Array; loadVocabulary(): Promise<unknown> };
  return { ids: Array.from(mod.encode(texts, await mod.loadVocabulary())), probs: printed.data };
}
