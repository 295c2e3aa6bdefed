// `attn predict` on a captioner: the greedy captions (the model's output read up to
// <end>) as text and as JSON, and beam search with --beam, whose width 1 is greedy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { attn } from './helpers/cli.js';
import { templatesDir } from './helpers/graphs.js';
import { captionWords, digitCaptions, DIGIT_CAPTION_CLASSES, DIGIT_WORDS, END_ID } from '../engine/data/captions.js';
import { writeNpy } from '../engine/weights/npy.js';

const TEMPLATE = `${templatesDir}sat-digit-captions.attn.json`;
const SAMPLES = 5;

interface Predicted {
  shape: number[];
  data: number[];
  captions: string[];
  beam?: number;
  logProbs?: number[];
}

/** Per sample of the output [n, T, V], the argmax words up to <end> and their summed log-probability (<end> included). */
function greedy({ shape: [n, steps, vocab], data }: Predicted): { captions: string[]; logProbs: number[] } {
  const captions: string[] = [];
  const logProbs: number[] = [];
  for (let s = 0; s < n; s++) {
    const ids: number[] = [];
    let logProb = 0;
    for (let t = 0; t < steps && ids.at(-1) !== END_ID; t++) {
      const row = data.slice((s * steps + t) * vocab, (s * steps + t + 1) * vocab);
      const best = row.indexOf(Math.max(...row));
      ids.push(best);
      logProb += Math.log(row[best]);
    }
    captions.push(captionWords(ids, DIGIT_CAPTION_CLASSES).join(' '));
    logProbs.push(logProb);
  }
  return { captions, logProbs };
}

test('attn predict on a captioner: greedy captions as text and JSON; --beam 1 gives them with their log-probabilities', { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-captions-predict-'));
  try {
    const run = path.join(dir, 'run');
    const trained = await attn('train', TEMPLATE, '--dataset', 'digit-captions', '--limit', '256', '--epochs', '1', '--out', run);
    assert.equal(trained.code, 0, trained.stderr);
    const { validation } = await digitCaptions({ size: 256, seed: 0 });
    const input = path.join(dir, 'x.npy');
    writeFileSync(input, writeNpy({ shape: [SAMPLES, ...validation.inputShape], data: (validation.x as Float32Array).slice(0, SAMPLES * 16 * 96) }));

    const json = await attn('predict', TEMPLATE, '--weights', run, '--input', input, '--json');
    assert.equal(json.code, 0, json.stderr);
    const predicted = JSON.parse(json.stdout) as Predicted;
    assert.deepEqual(predicted.shape, [SAMPLES, 6, DIGIT_CAPTION_CLASSES.length]);
    const want = greedy(predicted);
    assert.deepEqual(predicted.captions, want.captions, "the captions are the output's argmax words up to <end>");
    for (const c of predicted.captions)
      assert.ok(
        c.split(' ').every((w) => w === '' || DIGIT_WORDS.includes(w)),
        `"${c}" is made of digit names`,
      );

    const text = await attn('predict', TEMPLATE, '--weights', run, '--input', input);
    assert.equal(text.code, 0, text.stderr);
    assert.deepEqual(text.stdout.split('\n').slice(0, SAMPLES), want.captions, 'one caption a line');

    const beam1 = await attn('predict', TEMPLATE, '--weights', run, '--input', input, '--beam', '1', '--json');
    assert.equal(beam1.code, 0, beam1.stderr);
    const b1 = JSON.parse(beam1.stdout) as Predicted;
    assert.deepEqual(b1.captions, want.captions, 'beam 1 is greedy decoding');
    b1.logProbs!.forEach((lp, s) => assert.ok(Math.abs(lp - want.logProbs[s]) < 1e-3, `sample ${s}: beam 1 log-probability ${lp}, greedy ${want.logProbs[s]}`));

    const bad = await attn('predict', TEMPLATE, '--weights', run, '--input', input, '--beam', '0');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--beam must be a positive integer, not "0"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
