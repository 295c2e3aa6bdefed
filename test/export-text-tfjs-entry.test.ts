// The TypeScript text entry point of a tfjs export (NAME_text.ts): its tokenizer gives
// the ids the app gives, for flat texts and for sentences (hierarchical models). The
// trained model's predictions through it are checked in test/train-han-spam.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { tfjsTextEntry } from '../engine/export/text-entry.js';
import { buildVocabulary, encodeTexts, type Vocabulary } from '../engine/data/text.js';

const SCRATCH = fileURLToPath(new URL('../../exports-under-test/', import.meta.url));
const TEXTS = [
  "FREE money!!! Don't wait: click here… café. Reply now?\n\nThanks, Bob",
  'Ünïcode ÄPFEL 42 zzqxv',
  Array.from({ length: 30 }, (_, i) => `word${i % 7}${i % 5 === 4 ? '.' : ''}`).join(' '),
  '',
];

test('the tfjs text entry point tokenises as the app does, flat and by sentence', async () => {
  mkdirSync(SCRATCH, { recursive: true });
  const dir = mkdtempSync(path.join(SCRATCH, 'text-entry-'));
  // The entry imports the exported model only to register its layers: an empty module stands in.
  writeFileSync(path.join(dir, 'model.js'), '');
  const code = tfjsTextEntry({ model: 'model.ts', modelDir: 'model-tfjs-model', vocabulary: 'model.vocabulary.json' }, 'model_text.ts');
  const js = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
  writeFileSync(path.join(dir, 'model_text.js'), js.outputText);
  const entry = (await import(pathToFileURL(path.join(dir, 'model_text.js')).href)) as { encode(texts: string[], v: Vocabulary): Int32Array };
  const corpus = ['free money click here now', "don't wait bob thanks reply", 'word0 word1 word2 word3 äpfel'];
  for (const layout of [{ maxLength: 12 }, { maxLength: 4, maxSentences: 3 }]) {
    const vocabulary = buildVocabulary(corpus, { size: 100, minCount: 1, ...layout }, 'toy');
    assert.deepEqual(Array.from(entry.encode(TEXTS, vocabulary)), Array.from(encodeTexts(TEXTS, vocabulary)), JSON.stringify(layout));
  }
});
