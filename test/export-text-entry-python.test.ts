// The Python text entry points written beside exported text models (NAME_text.py, for
// PyTorch and for Keras alike) tokenise as the app does, flat and by sentence, also
// where Python's idea of white space is not JavaScript's (control characters, the
// byte order mark, NEL). Their tokenizer needs neither torch nor Keras, so the Keras
// entry, whose model cannot run here, is checked too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { textEntry } from '../engine/export/text-entry.js';
import { buildVocabulary, encodeTexts } from '../engine/data/text.js';
import { PYTHON } from './helpers/torch.js';

const TEXTS = [
  "FREE money!!! Don't wait: click here… café. Reply now?\n\nThanks, Bob",
  'Ünïcode ÄPFEL İstanbul ΟΔΟΣ 42 x² snake_case zzqxv',
  // Space to Python, not to JavaScript: each of these is a token of its own in the app.
  'free\u001fmoney \u001cclick\u001dhere\u001e now',
  'win.\u0085prize. claim\u0085now',
  // Space to JavaScript, not to Python: no token, and no sentence start.
  '\ufeffhello there.\ufeff Bye!\u2028next\u3000word',
  '',
];
const CORPUS = ['free money click here now win prize claim', "don't wait bob thanks reply hello there bye next word", 'äpfel 42 istanbul'];

const ENCODE = `
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("entry", sys.argv[1])
entry = importlib.util.module_from_spec(spec); spec.loader.exec_module(entry)
texts = json.loads(sys.argv[2])
print(json.dumps([entry.encode(texts, entry.load_vocabulary(path)) for path in sys.argv[3:]]))`;

test('the PyTorch and Keras text entry points encode texts to the ids the app gives, flat and by sentence', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-text-entry-'));
  const layouts = [{ maxLength: 12 }, { maxLength: 5, maxSentences: 3 }];
  const vocabularies = layouts.map((layout, i) => {
    const vocabulary = buildVocabulary(CORPUS, { size: 100, minCount: 1, ...layout }, 'toy');
    writeFileSync(path.join(dir, `vocabulary${i}.json`), JSON.stringify(vocabulary));
    return vocabulary;
  });
  const want = vocabularies.map((v) => Array.from(encodeTexts(TEXTS, v)));
  assert.ok(
    want[0].some((id) => id > 1),
    'the vocabulary knows some of the words',
  );
  for (const target of ['pytorch', 'keras'] as const) {
    const entry = path.join(dir, `${target}_text.py`);
    writeFileSync(entry, textEntry(target, { model: 'model.py', weights: 'model.safetensors', vocabulary: 'vocabulary0.json' }, `${target}_text.py`));
    const vocabularyFiles = layouts.map((_, i) => path.join(dir, `vocabulary${i}.json`));
    const got = JSON.parse(
      execFileSync(PYTHON, ['-c', ENCODE, entry, JSON.stringify(TEXTS), ...vocabularyFiles], { encoding: 'utf8', timeout: 60_000 }),
    ) as number[][][];
    layouts.forEach((layout, i) => assert.deepEqual(got[i].flat(2), want[i], `${target}, ${JSON.stringify(layout)}: Python's ids are the app's`));
  }
});
