// A PyTorch run of a captioner records captions as a tfjs run does: train_worker.py
// sends the probe samples' words with each probe, the run writes
// attention/step-N/caption.*, and the last probe is the final checkpoint's own greedy
// caption and attention, read back into tfjs. The same holds for a run that a bare
// torchrun trained (no attn reading rank 0), once `attn finalize` replays its events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { selectBackend } from '../engine/backends/select.js';
import { checkCaptionProbes, storedCaptionProbes } from './helpers/caption-probes.js';
import { loadTemplate } from './helpers/graphs.js';
import { skipWithoutTorch } from './helpers/torch.js';
import { runBareWorker } from './helpers/bare-torchrun.js';
import { PytorchRun } from '../engine/pytorch/run.js';
import { finalizeTorchrun } from '../engine/pytorch/finalize.js';
import { probeEvents } from './helpers/train-run.js';

const SAMPLES = 3;

const DATASET = { name: 'digit-captions', limit: 160 };
const CONFIG = { epochs: 1, batchSize: 16, probe: { samples: SAMPLES, everyBatches: 3, minIntervalMs: 0 } };

test('a PyTorch run of the captioner sends and stores each probe’s captions, the last equal to the final weights’ own', async (t) => {
  if (skipWithoutTorch(t, 'the PyTorch caption probes')) return;
  const graph = loadTemplate('sat-digit-captions.attn.json');
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-pytorch-caption-'));
  const probes = await probeEvents({
    graph,
    dataset: DATASET,
    config: CONFIG,
    backend: 'pytorch',
    pytorch: { device: 'cpu' },
    out: { dir },
  });
  const { tf } = await selectBackend({ backend: 'cpu' });
  // float32 in two frameworks, through a recurrent decoder: the maps agree to this share of their peak. They are
  // compared at every step, past <end> too, and each step's map follows the word fed back from the step before:
  // so the greedy words agree at every step, not only the few a short run writes before <end>.
  const { last, compiled, x } = await checkCaptionProbes(tf, graph, dir, probes, SAMPLES, 1e-3);
  x.dispose();
  compiled.model.dispose();
  t.diagnostic(`${probes.length} probes; the last captions: ${last.words.map((w) => w.join(' ')).join(' | ')}`);
  assert.ok(probes[0].maps.length === 1, 'the decoder’s attention is still sent as a map');
});

test('a captioner trained by a bare torchrun, finalized, holds the same caption records as a run attn drives', async (t) => {
  if (skipWithoutTorch(t, 'the caption records of a bare torchrun')) return;
  const graph = loadTemplate('sat-digit-captions.attn.json');
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-torchrun-caption-'));
  (await PytorchRun.setup({ graph, dataset: DATASET, config: CONFIG, out: { dir }, pytorch: { device: 'cpu' } })).dispose();
  await runBareWorker(dir);
  const { snapshots, ended } = await finalizeTorchrun(dir);
  assert.ok(ended);
  const probes = await storedCaptionProbes(dir);
  assert.equal(probes.length, snapshots, 'a snapshot per probe event');
  const { tf } = await selectBackend({ backend: 'cpu' });
  const { last, compiled, x } = await checkCaptionProbes(tf, graph, dir, probes, SAMPLES, 1e-3);
  x.dispose();
  compiled.model.dispose();
  t.diagnostic(`${probes.length} probes; the last captions: ${last.words.map((w) => w.join(' ')).join(' | ')}`);
});
