// Texts as sentences of words for hierarchical models (HAN): the tokenizer keeps the
// first sentences that hold words, one row of ids each, and the dataset takes its
// [sentences, words] from the graph's input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildVocabulary, encodeTexts, sentenceTokens, textShape, tokensOf } from '../engine/data/text.js';
import { prepareData } from '../engine/data/index.js';

test('sentences: a row of ids per sentence that holds words, cut and padded; the rows read back as the words', () => {
  const v = buildVocabulary(['free money now. click here'], { size: 20, minCount: 1, maxLength: 3, maxSentences: 3 }, 'toy');
  assert.deepEqual(textShape(v), [3, 3]);
  const id = (w: string) => v.tokens.indexOf(w);
  // "!!!" ends a sentence; the blank line too; " . " holds a word of its own (the full stop), the third sentence.
  const ids = encodeTexts(['FREE money now please!!! Click\n\nhere . zz', 'x'], v);
  assert.deepEqual(
    [...ids.subarray(0, 9)],
    [id('free'), id('money'), id('now'), id('click'), 0, 0, id('here'), id('.'), 0],
    'four words cut to three; "!!!" is its own tokens of sentence 1, so it is cut; the fourth sentence is left out',
  );
  assert.deepEqual([...ids.subarray(9)], [1, 0, 0, 0, 0, 0, 0, 0, 0], 'one unknown word, then padding rows');
  assert.deepEqual(sentenceTokens(ids.subarray(0, 9), v), [['free', 'money', 'now'], ['click'], ['here', '.']]);
  assert.deepEqual(sentenceTokens(ids.subarray(9), v), [['<unk>']], 'empty rows after the last sentence are dropped');
  assert.deepEqual(tokensOf(ids.subarray(0, 9), v), ['free', 'money', 'now', 'click', 'here', '.']);
});

test('spam as [sentences, words]: the shape from the graph input, the vocabulary records it, and a text too long for the limit is refused', async () => {
  const data = await prepareData({ name: 'spam', limit: 60, vocab: 500 }, { shape: [4, 6], vocab: 500 });
  assert.deepEqual(data.train.inputShape, [4, 6]);
  assert.equal(data.vocabulary?.maxSentences, 4);
  assert.equal(data.vocabulary?.maxLength, 6);
  const row = data.train.x.subarray(0, 24);
  assert.ok(
    row.subarray(0, 6).some((t) => t !== 0),
    'the first sentence holds words',
  );
  await assert.rejects(
    prepareData({ name: 'spam', limit: 60, sentences: 100, length: 100 }),
    /100 sentences of 100 words are 10000 tokens per text, over the limit of 4096/,
  );
});
