// A captioner's exported command line prints captions: after training, the PyTorch,
// Keras and TypeScript `main`s decode the first validation samples greedily and
// print each caption beside the true one, in the words that `attn export` writes
// beside the model (with `--data` too, not only with `--weights`), then the share of
// exact captions as the app scores them. PyTorch runs here as a user runs it; the
// TypeScript main runs in test/captions-export-tfjs-validation.test.ts (in-process on
// wasm: as a program its tfjs falls back to the pure-JS backend, ~40 CPU-s); Keras
// cannot run here (no TensorFlow for Python), so its export is compiled and read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DIGIT_CAPTION_CLASSES } from '../engine/data/captions.js';
import { exportKeras } from '../engine/export/keras.js';
import { exportPytorch } from '../engine/export/pytorch.js';
import { exportTfjs } from '../engine/export/tfjs.js';
import { reportCaptions } from '../engine/export/tfjs/captions.js';
import { appCaptions, printedCaptions } from './helpers/caption-report.js';
import { attn } from './helpers/cli.js';
import { pyCompile } from './helpers/exports.js';
import { loadTemplate, templatesDir } from './helpers/graphs.js';
import { PYTHON, skipWithoutTorch } from './helpers/torch.js';

const TEMPLATE = 'sat-digit-captions.attn.json';

// Runs the export's own `if __name__ == "__main__"` block, then reads the saved weights' greedy word ids back.
const RUN_MAIN = `
import json, runpy, sys
import numpy as np, torch
model_file, data_file, checkpoint = sys.argv[1:4]
sys.argv = [model_file, "--data", data_file, "--epochs", "1", "--batch-size", "16", "--checkpoint", checkpoint]
exported = runpy.run_path(model_file, run_name="__main__")
model = exported["Model"]()
model.load_state_dict(torch.load(checkpoint)["model"])
data = np.load(data_file)
words = model.predict(torch.from_numpy(data["x_val"]).permute(0, 3, 1, 2).contiguous())
words = words[0] if isinstance(words, tuple) else words
print(json.dumps({"predicted": words.argmax(-1).tolist(), "labels": data["y_val"].tolist()}))`;

test('python sat.py --data: after training, the PyTorch export prints validation captions in its words and the exact-caption rate', async (t) => {
  if (skipWithoutTorch(t, "the PyTorch export's main")) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-caption-main-'));
  const model = path.join(dir, 'sat.py');
  const r = await attn('export', `${templatesDir}${TEMPLATE}`, '--to', 'pytorch', '--out', model, '--data', 'digit-captions', '--samples', '64');
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.split('\n').includes(`wrote ${path.join(dir, 'sat.vocabulary.json')}`), `--data writes the words too: ${r.stdout}`);
  const out = execFileSync(PYTHON, ['-c', RUN_MAIN, model, path.join(dir, 'sat.npz'), path.join(dir, 'ck.pt')], { encoding: 'utf8', timeout: 120_000 });
  const lines = out.trimEnd().split('\n');
  const ids = JSON.parse(lines.pop()!) as { predicted: number[][]; labels: number[][] };
  const printed = printedCaptions(lines.join('\n'));
  assert.equal(printed.captions.length, 5);
  assert.deepEqual(printed, appCaptions(ids.predicted, ids.labels), 'the trained weights’ greedy captions and the truth, read as the app reads them');
  assert.ok(
    printed.captions.every((c) => /^[a-z]+( [a-z]+)*$/.test(c.truth)),
    'words, not ids',
  );
});

// Five validation samples: exact; one word wrong; the right words but no <end> in 5 steps; <end> too early; a
// special token (start) mid-caption, left out as the app leaves it out. Labels are -1 past <end>.
const PREDICTED = [
  [5, 6, 2, 0, 0],
  [5, 7, 2, 2, 2],
  [5, 6, 8, 8, 8],
  [2, 5, 6, 2, 0],
  [5, 1, 6, 2, 2],
];
const LABELS = [
  [5, 6, 2, -1, -1],
  [5, 6, 2, -1, -1],
  [5, 6, 8, 8, 8],
  [5, 6, 2, -1, -1],
  [5, 6, 2, -1, -1],
];

const REPORT = `
import json, sys
scope = {"__file__": sys.argv[2]}
exec(open(sys.argv[1]).read(), scope)
rate = scope["report_captions"](json.loads(sys.argv[3]), json.loads(sys.argv[4]), shown=int(sys.argv[5]))
print(json.dumps(rate))`;

test('the Python and TypeScript reports count exact captions as the app scores them, and print the same lines', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-caption-report-'));
  const model = path.join(dir, 'sat.py');
  const shared = new URL('../../engine/export/shared/caption_report.py', import.meta.url).pathname;
  const python = (shown: number) =>
    execFileSync(PYTHON, ['-c', REPORT, shared, model, JSON.stringify(PREDICTED), JSON.stringify(LABELS), String(shown)], { encoding: 'utf8' });
  const typescript = async (shown: number) => {
    const logged: string[] = [];
    const log = console.log;
    console.log = (line: string) => void logged.push(line);
    try {
      const rate = await reportCaptions(PREDICTED, LABELS, DIGIT_CAPTION_CLASSES, shown);
      return `${logged.join('\n')}\n${rate}\n`;
    } finally {
      console.log = log;
    }
  };
  // Without the words beside the model, the ids.
  const ids = python(2);
  assert.match(ids, /^\(no .*sat\.vocabulary\.json: captions as word ids\)$/m);
  assert.match(ids, /^ {2}predicted: 5 7 \| truth: 5 6$/m);
  writeFileSync(path.join(dir, 'sat.vocabulary.json'), JSON.stringify({ words: DIGIT_CAPTION_CLASSES }));
  const printed = python(5);
  assert.equal(printed, await typescript(5), 'the two exports print the same report');
  assert.deepEqual(printedCaptions(printed), appCaptions(PREDICTED, LABELS));
  assert.deepEqual(
    printedCaptions(printed).captions.map((c) => c.predicted),
    ['two three', 'two four', 'two three five five five (no end)', '(nothing)', 'two three'],
  );
  assert.equal(printedCaptions(printed).exact, 2);
  assert.equal(JSON.parse(printed.trimEnd().split('\n').at(-1)!), 0.4);
});

test('only a captioner’s exported mains print captions; the Keras one compiles and hands its validation predictions to report_captions', () => {
  const captioner = loadTemplate(TEMPLATE);
  const keras = exportKeras(captioner);
  assert.match(keras, /^def report_captions\(predicted, labels, vocabulary=None/m);
  assert.match(keras, /^def predicted_classes\(model, x, y, batch_size\):/m);
  assert.match(keras, /^ {4}main\(build_model, train, LOSSES, TRAINING, report=report_captions\)$/m);
  assert.match(keras, /^ {4}if report is not None and x_val is not None:\n {8}report\(\*predicted_classes\(model, x_val, y_val, args\.batch_size\)\)$/m);
  pyCompile(captioner);
  assert.match(exportPytorch(captioner).code, /^ {4}main\(Model, compute_loss, example_inputs, TRAINING, report=report_captions\)$/m);
  assert.match(exportTfjs(captioner), /^ {2}main\(buildModel, train, LOSSES, TRAINING, process\.argv\.slice\(2\), reportCaptions\)/m);
  const other = loadTemplate('mnist-cnn.attn.json');
  for (const code of [exportKeras(other), exportPytorch(other).code, exportTfjs(other)])
    assert.doesNotMatch(code, /^def report_captions|report=report_captions|, reportCaptions\)|function reportCaptions/m);
});
