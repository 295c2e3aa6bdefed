// A captioner's words travel with its exports: the Export dialog's host path writes
// them beside the code (<model>.vocabulary.json, from the captions dataset the graph
// names), and the exported decoders read that file to write words, not ids, or say
// which file is missing. (`attn export --weights RUN` writes it from the run's data:
// test/captions-export-beam.test.ts, where a trained export decodes with it.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportFiles } from '../electron/host/exporter.js';
import { DIGIT_CAPTION_CLASSES } from '../engine/data/captions.js';
import { loadTemplate } from './helpers/graphs.js';
import { PYTHON, skipWithoutTorch } from './helpers/torch.js';

test("the host's export of a captioner writes its words beside the code; other models get the code alone", async () => {
  const graph = loadTemplate('sat-digit-captions.attn.json');
  for (const target of ['pytorch', 'keras', 'tfjs'] as const) {
    const files = await exportFiles(graph, target);
    assert.equal(files.length, 2, `${target}: ${files.map((f) => f.name)}`);
    const [code, words] = files;
    assert.equal(words.name, `${code.name.replace(/\.(py|ts)$/, '')}.vocabulary.json`);
    assert.deepEqual(JSON.parse(words.content), { words: DIGIT_CAPTION_CLASSES });
  }
  assert.equal((await exportFiles(loadTemplate('mnist-cnn.attn.json'), 'pytorch')).length, 1);
  // A captioner whose graph names no captions dataset: nothing to write the words from.
  assert.equal((await exportFiles({ ...graph, dataset: { name: 'mnist' } }, 'pytorch')).length, 1);
});

const CAPTIONS = `
import importlib.util, json, sys, torch
spec = importlib.util.spec_from_file_location("sat", sys.argv[1])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
ids = torch.tensor([[5, 12, 2, 7], [3, 2, 2, 2]])
try:
    print(json.dumps(m.ShowAttendTell.captions(torch.nn.functional.one_hot(ids, 13).float())))
except FileNotFoundError as err:
    print(json.dumps(str(err)))`;

test('the PyTorch decoder reads the words beside its file by default, and names the file when it is missing', (t) => {
  if (skipWithoutTorch(t, 'the PyTorch caption decoder')) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-caption-words-'));
  const model = path.join(dir, 'sat.py');
  copyFileSync(new URL('../../engine/export/torch/caption_attention.py', import.meta.url), model);
  const run = () => JSON.parse(execFileSync(PYTHON, ['-c', CAPTIONS, model], { encoding: 'utf8', timeout: 60_000 })) as unknown;
  assert.match(String(run()), /sat\.vocabulary\.json: no caption words beside the model; export it with `attn export --weights RUN`/);
  // Other words than digit-captions', so that the file, not a built-in list, names them.
  const words = DIGIT_CAPTION_CLASSES.map((w, i) => (i > 2 ? w.toUpperCase() : w));
  writeFileSync(path.join(dir, 'sat.vocabulary.json'), JSON.stringify({ words }));
  assert.deepEqual(run(), ['TWO NINE', 'ZERO']);
});

// The Keras decoder's words without Keras (not installed here): its methods that read them, run on their own.
const KERAS_CAPTIONS = `
import ast, json, os, sys
import numpy as np
source = open(sys.argv[1]).read()
cls = next(n for n in ast.parse(source).body if isinstance(n, ast.ClassDef) and n.name == "ShowAttendTell")
cls.bases, cls.decorator_list = [], []
cls.body = [f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name in ("vocabulary", "captions")]
scope = {"json": json, "np": np, "__file__": sys.argv[2]}
exec(compile(ast.Module(body=[cls], type_ignores=[]), sys.argv[1], "exec"), scope)
ids = np.array([[5, 12, 2, 7], [3, 2, 2, 2]])
print(json.dumps(scope["ShowAttendTell"].captions(np.eye(13)[ids])))`;

test('the Keras decoder writes captions in the words beside its file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-keras-caption-words-'));
  const words = DIGIT_CAPTION_CLASSES.map((w, i) => (i > 2 ? w.toUpperCase() : w));
  writeFileSync(path.join(dir, 'sat.vocabulary.json'), JSON.stringify({ words }));
  const source = new URL('../../engine/export/keras/caption_attention.py', import.meta.url).pathname;
  const out = execFileSync(PYTHON, ['-c', KERAS_CAPTIONS, source, path.join(dir, 'sat.py')], { encoding: 'utf8', timeout: 60_000 });
  assert.deepEqual(JSON.parse(out), ['TWO NINE', 'ZERO']);
});
