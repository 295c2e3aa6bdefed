// What an exported captioner's main() prints after training (its report of validation
// captions), read back, and what the app makes of the same word ids: the two must agree.
import assert from 'node:assert/strict';
import { captionWords, DIGIT_CAPTION_CLASSES, END_ID } from '../../engine/data/captions.js';

export interface Printed {
  captions: { predicted: string; truth: string }[];
  exact: number;
  of: number;
}

/** The captions and exact-caption count a main() printed. */
export function printedCaptions(stdout: string): Printed {
  const captions = [...stdout.matchAll(/^ {2}predicted: (.*) \| truth: (.*)$/gm)].map((m) => ({ predicted: m[1], truth: m[2] }));
  const rate = /^exact captions: (\d\.\d{4}) \((\d+) of (\d+)\)$/m.exec(stdout);
  assert.ok(rate, stdout);
  const [exact, of] = [Number(rate[2]), Number(rate[3])];
  assert.equal(Number(rate[1]), Number((exact / of).toFixed(4)), 'the rate is the count over the samples');
  assert.match(stdout, new RegExp(`^validation captions, greedy \\(the first ${captions.length} of ${of}\\):$`, 'm'));
  return { captions, exact, of };
}

/** The app's reading of greedy word ids and labels (engine/data/captions.ts): the captions, and how many are exact. */
export function appCaptions(predicted: number[][], labels: number[][]): Printed {
  const captions = predicted.map((ids, i) => {
    const [got, want] = [captionWords(ids, DIGIT_CAPTION_CLASSES), captionWords(labels[i], DIGIT_CAPTION_CLASSES)];
    const ended = ids.includes(END_ID);
    return { predicted: `${got.join(' ') || '(nothing)'}${ended ? '' : ' (no end)'}`, truth: want.join(' '), exact: ended && got.join(' ') === want.join(' ') };
  });
  return {
    captions: captions.slice(0, 5).map(({ predicted, truth }) => ({ predicted, truth })),
    exact: captions.filter((c) => c.exact).length,
    of: captions.length,
  };
}
