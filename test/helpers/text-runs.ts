// What the tests of text models share: a short run on the built-in spam corpus,
// and the exported PyTorch text entry point run on some texts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { vocabularySchema } from '../../engine/data/text.js';
import { attnTrain, flags } from './cli.js';
import { PYTHON } from './torch.js';

/** `attn train` of a text template on the spam corpus into a fresh folder: the run, its done event and the vocabulary it saved. */
export async function trainOnSpam(template: string, settings: { epochs: number; limit: number }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-spam-run-'));
  const run = path.join(dir, 'run');
  const done = await attnTrain(template, ...flags({ dataset: 'spam', ...settings, out: run }));
  const vocabulary = vocabularySchema.parse(JSON.parse(readFileSync(path.join(run, 'vocabulary.json'), 'utf8')));
  return { dir, run, done, vocabulary };
}

/** Runs an exported PyTorch text entry point (`*_text.py`) on `texts`: the ids its tokenizer gives and its probabilities, flat. */
export function runPythonTextEntry<Ids>(entry: string, texts: string[]): { ids: Ids; probs: number[] } {
  const script = [
    'import importlib.util, json, sys',
    'spec = importlib.util.spec_from_file_location("entry", sys.argv[1])',
    'entry = importlib.util.module_from_spec(spec); spec.loader.exec_module(entry)',
    'texts = json.loads(sys.argv[2])',
    'probs = entry.predict_texts(texts)',
    'print(json.dumps({"ids": entry.encode(texts, entry.load_vocabulary()), "probs": [float(p) for p in probs.reshape(-1)]}))',
  ].join('\n');
  const py = spawnSync(PYTHON, ['-c', script, entry, JSON.stringify(texts)], { encoding: 'utf8', timeout: 240_000 });
  assert.equal(py.status, 0, py.stderr);
  return JSON.parse(py.stdout) as { ids: Ids; probs: number[] };
}
