// The checks a run's caption records must pass, whichever trainer wrote them (tfjs or
// PyTorch): each probe sample's greedy caption in the data's words, one map per word
// summing to 1, the true captions, the record stored in the run folder as sent, and the
// last probe equal to the final checkpoint's own greedy caption and attention (tfjs).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Tensor, TF } from '../../engine/blocks/contract.js';
import type { CompiledGraph } from '../../engine/compile/compile.js';
import { captionWords, DIGIT_CAPTION_CLASSES, END } from '../../engine/data/captions.js';
import { prepareData, type PreparedData } from '../../engine/data/index.js';
import type { GraphFile } from '../../engine/graph/types.js';
import { RunFolder } from '../../engine/runs/index.js';
import { wordMap, type CaptionRecord } from '../../engine/schemas/caption.js';
import type { TrainEventOf } from '../../engine/schemas/train-events.js';
import { captionRecord } from '../../engine/train/caption-record.js';
import { inputHint } from '../../engine/train/setup.js';
import { loadTrainedModel } from '../../engine/worker/run-model.js';
import { relativeGap } from './numeric.js';

export interface CheckedCaptions {
  /** The probe samples' true captions. */
  truth: string[][];
  /** The last probe's record. */
  last: CaptionRecord;
  data: PreparedData;
  compiled: CompiledGraph;
  /** The probe samples, [samples, ...input]. */
  x: Tensor;
}

/**
 * Checks the caption records of `probes` (a run of `graph` into `dir` with `samples` probe samples) and that the
 * last agrees with the final checkpoint to `tolerance` of its peak. The caller disposes `compiled` and `x`.
 */
export async function checkCaptionProbes(
  tf: TF,
  graph: GraphFile,
  dir: string,
  probes: readonly Pick<TrainEventOf<'attention'>, 'step' | 'caption'>[],
  samples: number,
  tolerance = 1e-4,
): Promise<CheckedCaptions> {
  assert.ok(probes.length >= 2, `probes at steps ${probes.map((p) => p.step)}`);
  const { compiled } = await loadTrainedModel(tf, graph, dir);
  const data = await prepareData(JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')).dataset, inputHint(graph));
  const { x, labels } = data.validation.batch(
    tf,
    Array.from({ length: samples }, (_, i) => i),
  );
  // The decoder's grid: [B, steps, rows, cols].
  const decoder = compiled.attention.find((a) => a.nodeId === 'decoder')!;
  const [, steps, rows, cols] = decoder.shape as number[];
  const truth = Array.from({ length: samples }, (_, s) => captionWords(labels.subarray(s * steps, (s + 1) * steps), data.classNames));
  const folder = RunFolder.open(dir);
  for (const p of probes) {
    const c = p.caption!;
    assert.ok(c, `the probe at step ${p.step} sent a caption`);
    assert.deepEqual([c.nodeId, c.port, c.steps, c.rows, c.cols], ['decoder', 'attention', steps, rows, cols]);
    assert.equal(c.words.length, samples);
    assert.equal(c.data.length, samples * steps * rows * cols);
    for (const words of c.words) {
      assert.ok(words.length >= 1 && words.length <= steps, `${words.length} words`);
      assert.ok(
        words.every((w) => DIGIT_CAPTION_CLASSES.includes(w)),
        words.join(' '),
      );
      assert.ok(!words.slice(0, -1).includes(END), `nothing after <end>: ${words.join(' ')}`);
    }
    for (let s = 0; s < samples; s++)
      for (let t = 0; t < steps; t++) {
        const m = wordMap(c, s, t);
        const sum = m.reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - 1) < 1e-4 && m.every((v) => v >= 0), `sample ${s}, word ${t}: weights sum to ${sum}`);
      }
    assert.deepEqual(c.truth, truth, 'the probe samples’ true captions');
    // Stored with the snapshot as sent; the maps beside it stay the attention outputs alone.
    assert.deepEqual(await folder.readCaption(p.step), c);
    assert.deepEqual(
      (await folder.readSnapshot(p.step)).map((m) => `${m.nodeId}.${m.port}`),
      ['decoder.attention'],
    );
  }

  // The last probe ran on the final weights: its words are their greedy caption and its maps their attention.
  const last = probes[probes.length - 1].caption!;
  const both = tf.model({ inputs: compiled.model.inputs, outputs: [compiled.model.outputs[0], decoder.tensor] });
  const [probs, attention] = both.predict(x) as Tensor[];
  const direct = captionRecord(
    { nodeId: 'decoder', port: 'attention' },
    { data: (await probs.data()) as Float32Array, shape: probs.shape },
    { data: (await attention.data()) as Float32Array, shape: attention.shape },
    data.classNames,
  );
  tf.dispose([probs, attention]);
  assert.deepEqual(last.words, direct.words);
  const gap = relativeGap(direct.data, last.data);
  assert.ok(gap < tolerance, `the probe's maps differ from the model's own attention by ${gap} of the peak`);
  return { truth, last, data, compiled, x };
}

/** A finished run's probes as its folder holds them: each attention snapshot's step and caption record. */
export async function storedCaptionProbes(dir: string): Promise<Pick<TrainEventOf<'attention'>, 'step' | 'caption'>[]> {
  const folder = RunFolder.open(dir);
  return Promise.all((await folder.snapshots()).map(async (step) => ({ step, caption: await folder.readCaption(step) })));
}
