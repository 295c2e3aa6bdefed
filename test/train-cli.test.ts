// `attn train` end to end: the CLI forks the training process and prints one
// JSON event per line, the last one `done` with the validation accuracy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../engine/cli.js';
import { tinyMlp } from './train-fixtures.js';
import { flags } from './helpers/cli.js';

test('attn train --json: one event per line, done last with backend, samples/s and validation accuracy', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-cli-'));
  const file = path.join(dir, 'mlp.attn.json');
  writeFileSync(file, JSON.stringify(tinyMlp()));
  const lines: string[] = [];
  const errs: string[] = [];
  const run = path.join(dir, 'run');
  const code = await main(
    ['train', file, ...flags({ dataset: 'mnist', limit: 300, epochs: 2, batchSize: 25, lr: 0.01, backend: 'cpu', seed: 3, out: run, json: true })],
    {
      log: (s) => lines.push(s),
      err: (s) => errs.push(s),
    },
  );
  assert.equal(code, 0, errs.join('\n'));
  const events = lines.map((l) => JSON.parse(l));
  assert.equal(events[0].type, 'started');
  assert.equal(events[0].trainSamples, 270);
  assert.equal(events.filter((e) => e.type === 'epoch').length, 2);
  const done = events.at(-1);
  assert.equal(done.type, 'done');
  assert.equal(done.backend, 'cpu');
  assert.ok(done.samplesPerSec > 0);
  assert.ok(done.metrics.val_accuracy > 0.3, `val_accuracy ${done.metrics.val_accuracy}`);
  for (const f of ['graph.attn.json', 'config.json', 'metrics.jsonl', 'checkpoints/latest.json']) assert.ok(existsSync(path.join(run, f)), f);
});

test('attn train: a graph with errors or an unknown dataset exits 1 with the reason', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-cli-'));
  const file = path.join(dir, 'bad.attn.json');
  const g = tinyMlp();
  g.nodes[2].type = 'core.dens';
  writeFileSync(file, JSON.stringify(g));
  const errs: string[] = [];
  assert.equal(await main(['train', file, '--dataset', 'mnist'], { log: () => {}, err: (s) => errs.push(s) }), 1);
  assert.match(errs.join('\n'), /unknown block type "core.dens"/);
  writeFileSync(file, JSON.stringify(tinyMlp()));
  const lines: string[] = [];
  assert.equal(await main(['train', file, '--dataset', 'imagenet', '--backend', 'cpu', '--json'], { log: (s) => lines.push(s), err: () => {} }), 1);
  assert.match(JSON.parse(lines.at(-1)!).message, /unknown dataset "imagenet"/);
});
