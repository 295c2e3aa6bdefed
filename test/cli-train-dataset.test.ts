// `attn train` without --dataset trains on the graph file's own dataset section,
// with its saved settings (as the app's form does), and flags override them.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from './e2e/harness.js';
import { attn } from './helpers/cli.js';

const dir = await mkdtemp(path.join(tmpdir(), 'attn-train-dataset-'));
after(() => rm(dir, { recursive: true, force: true }));

/** The Transformer template with `dataset` as its saved section (none when undefined). */
async function graphWith(dataset: Record<string, unknown> | undefined): Promise<string> {
  const graph = JSON.parse(await readFile(path.join(ROOT, 'templates', 'transformer-encoder-seq.attn.json'), 'utf8')) as Record<string, unknown>;
  if (dataset) graph.dataset = dataset;
  else delete graph.dataset;
  const file = path.join(dir, `g-${Math.random().toString(36).slice(2)}.attn.json`);
  await writeFile(file, JSON.stringify(graph));
  return file;
}

/** Samples the run's started event reports (training + validation). */
async function samplesTrained(...args: string[]): Promise<number> {
  const r = await attn('train', ...args, '--epochs', '1', '--out', path.join(dir, `run-${Math.random().toString(36).slice(2)}`), '--json');
  assert.equal(r.code, 0, r.stderr);
  const started = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; trainSamples: number; validationSamples: number })
    .find((e) => e.type === 'started')!;
  return started.trainSamples + started.validationSamples;
}

test('with no --dataset, the saved section names the dataset and its settings; flags override them', { timeout: 300_000 }, async () => {
  const file = await graphWith({ name: 'reverse', length: 10, vocab: 10, size: 64 });
  assert.equal(await samplesTrained(file), 64);
  assert.equal(await samplesTrained(file, '--dataset', 'reverse', '--limit', '40'), 40);
});

test('a graph file with no dataset section and no --dataset is refused, naming the file', async () => {
  const file = await graphWith(undefined);
  const r = await attn('train', file, '--json');
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`${path.basename(file)} names no dataset.*--dataset`));
});

test('a bad saved setting is refused, naming the file and the setting', async () => {
  const file = await graphWith({ name: 'reverse', size: -3 });
  const r = await attn('train', file, '--json');
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`${path.basename(file)}: dataset setting "size"`));
});
