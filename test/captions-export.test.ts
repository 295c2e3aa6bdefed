// The captioning template exports to PyTorch: the exported decoder is greedy decoding
// (each step reads the previous step's argmax), and its words match tfjs's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { GraphFile } from '../engine/graph/types.js';
import { DIGIT_CAPTION_CLASSES } from '../engine/data/captions.js';
import { templatesDir } from './helpers/graphs.js';
import { tfReady } from './helpers/tf.js';
import { PYTHON, skipWithoutTorch, torchExportSubtests } from './helpers/torch.js';

const graph = () => JSON.parse(readFileSync(`${templatesDir}sat-digit-captions.attn.json`, 'utf8')) as GraphFile;

test('sat-digit-captions: the PyTorch export computes the same greedy words as tfjs', async (t) => {
  if (skipWithoutTorch(t, 'the PyTorch export')) return;
  const worst = await torchExportSubtests(t, await tfReady, [{ name: 'sat-digit-captions', graph: graph() }]);
  assert.ok(worst <= 1e-4);
});

test("the exported decoder's captions() reads words up to <end>, leaving the special tokens out", (t) => {
  if (skipWithoutTorch(t, 'the PyTorch helper')) return;
  const script = `
import importlib.util, json, sys, torch
spec = importlib.util.spec_from_file_location("captions", sys.argv[1])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
ids = torch.tensor([[5, 12, 2, 7], [3, 2, 2, 2], [1, 0, 4, 9]])
print(json.dumps(m.ShowAttendTell.captions(torch.nn.functional.one_hot(ids, 13).float(), json.loads(sys.argv[2]))))`;
  const file = new URL('../../engine/export/torch/caption_attention.py', import.meta.url).pathname;
  const out = execFileSync(PYTHON, ['-c', script, file, JSON.stringify(DIGIT_CAPTION_CLASSES)], { encoding: 'utf8', timeout: 60_000 });
  assert.deepEqual(JSON.parse(out), ['two nine', 'zero', 'one six']);
});
