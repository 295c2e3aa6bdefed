// Attention over a document's sentences and words (Yang et al. 2016's figure): each
// sentence shaded by its sentence attention (the bar at its left), each word by its
// word attention within the sentence. Drawn for hierarchical text models, whose input
// is [sentences, words] ids, from the two maps a HAN produces: word weights
// [B, S, W] and sentence weights [B, S].
import type { ReactElement } from 'react';
import type { AttentionMap } from '../../../common/host-api/api.js';
import { range, sampleValues } from './maps.js';

/** The words of each sentence row of [S × W] ids, padding left out, and the empty rows after the last sentence too. */
export function sentencesOf(ids: ArrayLike<number>, shape: readonly number[], vocabulary: readonly string[]): string[][] {
  const [rows, cols] = shape;
  const out: string[][] = [];
  for (let r = 0; r < rows; r++) {
    const row: string[] = [];
    for (let c = 0; c < cols && ids[r * cols + c] !== 0; c++) row.push(vocabulary[ids[r * cols + c]] ?? '<unk>');
    out.push(row);
  }
  while (out.length > 1 && out[out.length - 1].length === 0) out.pop();
  return out;
}

const shade = (v: number, [lo, hi]: [number, number]) => (hi > lo ? (v - lo) / (hi - lo) : 0);

/** The document: a row per sentence, its bar shaded by the sentence's weight, its words by theirs (each sentence on its own scale). */
export function ShadedDocument({
  sentences,
  cols,
  wordWeights,
  sentenceWeights,
  testId = 'attention-document',
}: {
  sentences: string[][];
  /** W: words per sentence row of the input (padding included). */
  cols: number;
  /** [S × W] word weights, row-major; absent: words unshaded. */
  wordWeights?: ArrayLike<number>;
  /** [S] sentence weights; absent: sentences unshaded. */
  sentenceWeights?: ArrayLike<number>;
  testId?: string;
}) {
  const sentenceRange = sentenceWeights ? range(Array.from(sentences, (_, s) => sentenceWeights[s])) : undefined;
  return (
    <div className="shaded-document" data-testid={testId}>
      {sentences.map((words, s) => {
        const own = wordWeights && Array.from(words, (_, w) => wordWeights[s * cols + w]);
        const ownRange = own ? range(own) : undefined;
        const weight = sentenceWeights?.[s];
        return (
          <p
            key={s}
            className="shaded-sentence"
            data-testid={`${testId}-sentence-${s}`}
            data-weight={weight}
            title={weight !== undefined ? `sentence ${s + 1}: ${weight.toPrecision(3)}` : undefined}
          >
            <span
              className="shaded-sentence__bar"
              style={{ background: weight !== undefined ? `rgba(220, 40, 90, ${(0.1 + 0.9 * shade(weight, sentenceRange!)).toFixed(3)})` : 'transparent' }}
            />
            {words.map((w, i) => (
              <span
                key={i}
                className="shaded-word"
                style={own ? { background: `rgba(255, 140, 0, ${shade(own[i], ownRange!).toFixed(3)})` } : undefined}
                title={own ? `${w}: ${own[i].toPrecision(3)}` : w}
                data-weight={own?.[i]}
              >
                {w}
              </span>
            ))}
            {words.length === 0 && <span className="hint">(empty)</span>}
          </p>
        );
      })}
    </div>
  );
}

/** A map over a document's [S, W] words (rank 3 with the batch) or over its S sentences (rank 2). */
const overWords = (m: AttentionMap, s: number, w: number) => m.fullShape.length === 3 && m.fullShape[1] === s && m.fullShape[2] === w;
const overSentences = (m: AttentionMap, s: number) => m.fullShape.length === 2 && m.fullShape[1] === s;
const whole = (m: AttentionMap) => m.shape.join() === m.fullShape.join();

/**
 * The document view of map `m` for a probe (or inspected) sample whose input is [S, W] ids:
 * a word map is drawn with the sentence map of the same snapshot (the first over S), and
 * a sentence map with the first word map; null when `m` is over neither.
 */
export function documentView({
  m,
  maps,
  sample,
  sentences,
  shape,
}: {
  m: AttentionMap;
  maps: readonly AttentionMap[];
  sample: number;
  sentences: string[][];
  /** The input's [S, W]. */
  shape: readonly number[];
}): ReactElement | null {
  const [s, w] = shape;
  if (!whole(m)) return null;
  const words = overWords(m, s, w) ? m : overSentences(m, s) ? maps.find((o) => whole(o) && overWords(o, s, w)) : undefined;
  const sents = overSentences(m, s) ? m : overWords(m, s, w) ? maps.find((o) => whole(o) && overSentences(o, s)) : undefined;
  if (m !== words && m !== sents) return null;
  return (
    <ShadedDocument
      sentences={sentences}
      cols={w}
      wordWeights={words && sampleValues(words, sample)}
      sentenceWeights={sents && sampleValues(sents, sample)}
      testId={`attention-document-${m.nodeId}-${m.port}`}
    />
  );
}
