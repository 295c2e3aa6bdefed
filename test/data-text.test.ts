// Text datasets: the word tokenizer, CSV and folder corpora, the stratified split,
// the built-in SpamAssassin corpus, and the errors that name the file and row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildVocabulary, encodeTexts, sentences, tokenIds, tokensOf, UNK_ID, words } from '../engine/data/text.js';
import { loadTextCsv, loadTextFolder, stratifiedSplit } from '../engine/data/text-corpus.js';
import { loadSpam, messageBody } from '../engine/data/spam.js';
import { prepareData } from '../engine/data/index.js';
import { previewData } from '../engine/data/preview.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'attn-text-'));

test('words: lower-cased, punctuation split off, inner apostrophes kept', () => {
  assert.deepEqual(words("FREE money!!! Don't wait: click www.x.com"), [
    'free',
    'money',
    '!',
    '!',
    '!',
    "don't",
    'wait',
    ':',
    'click',
    'www',
    '.',
    'x',
    '.',
    'com',
  ]);
  assert.deepEqual(words('Ünïcode ÄPFEL 42'), ['ünïcode', 'äpfel', '42']);
  assert.deepEqual(sentences('One. Two! Three?\n\nFour'), ['One.', 'Two!', 'Three?', 'Four']);
});

test('the vocabulary: commonest first, minimum count, size cap, PAD and UNK; encoding pads and truncates', () => {
  const v = buildVocabulary(['b a a c', 'a b d', 'e'], { size: 5, minCount: 1, maxLength: 4 }, 'toy');
  assert.deepEqual(v.tokens, ['<pad>', '<unk>', 'a', 'b', 'c']);
  const rare = buildVocabulary(['b a a c', 'a b d'], { size: 100, minCount: 2, maxLength: 4 }, 'toy');
  assert.deepEqual(rare.tokens, ['<pad>', '<unk>', 'a', 'b']);
  assert.deepEqual([...encodeTexts(['a zz b', 'a a a a a a'], v)], [2, UNK_ID, 3, 0, 2, 2, 2, 2]);
  assert.deepEqual(tokensOf(tokenIds(v)('c b'), v), ['c', 'b']);
});

test('an empty vocabulary is refused with a message naming the data', () => {
  assert.throws(() => buildVocabulary(['', '   '], { size: 10, minCount: 1, maxLength: 4 }, 'notes.csv'), /notes\.csv: the training texts hold no words/);
  assert.throws(
    () => buildVocabulary(['a b c'], { size: 10, minCount: 5, maxLength: 4 }, 'notes.csv'),
    /notes\.csv: no word occurs at least 5 times .* lower the minimum count/,
  );
});

test('a text CSV: text and label columns by name, classes sorted; errors name the file, the line and the columns', async () => {
  const dir = tmp();
  const file = path.join(dir, 'reviews.csv');
  writeFileSync(file, 'id,body,verdict\n1,"Great, loved it",pos\n2,"Awful ""film""\nreally",neg\n3,fine,pos\n');
  const c = await loadTextCsv(file, { text: 'body', label: 'verdict' });
  assert.deepEqual(c.classNames, ['neg', 'pos']);
  assert.deepEqual([...c.labels], [1, 0, 1]);
  assert.equal(c.texts[1], 'Awful "film"\nreally');
  await assert.rejects(
    loadTextCsv(file, { text: 'body', label: 'stars' }),
    (e: Error) => e.message.includes(file) && /no label column "stars" .*columns: id, body, verdict/.test(e.message),
  );
  await assert.rejects(loadTextCsv(file, { text: 'review', label: 'verdict' }), /no text column "review"/);
  const short = path.join(dir, 'short.csv');
  writeFileSync(short, 'text,label\nhello,a\nworld\n');
  await assert.rejects(loadTextCsv(short), (e: Error) => e.message.startsWith(`${short}, line 3:`));
});

test('a file that is not UTF-8 is refused, naming the file and the line', async () => {
  const dir = tmp();
  const file = path.join(dir, 'latin1.csv');
  writeFileSync(file, Buffer.concat([Buffer.from('text,label\nok,a\ncaf'), Buffer.from([0xe9]), Buffer.from(' au lait,b\n')]));
  await assert.rejects(loadTextCsv(file), (e: Error) => e.message === `${file}: not UTF-8 text (an invalid byte sequence on line 3); save it as UTF-8`);
  const folder = path.join(dir, 'docs');
  mkdirSync(path.join(folder, 'a'), { recursive: true });
  mkdirSync(path.join(folder, 'b'));
  writeFileSync(path.join(folder, 'a', 'one.txt'), 'fine text');
  writeFileSync(path.join(folder, 'b', 'two.txt'), Buffer.from([0x61, 0xff, 0x62]));
  await assert.rejects(loadTextFolder(folder), (e: Error) => e.message.includes(path.join(folder, 'b', 'two.txt')) && /not UTF-8/.test(e.message));
});

test('a folder of .txt files per class trains through prepareData, the vocabulary from the training split only', async () => {
  const dir = tmp();
  for (const [cls, word] of [
    ['cats', 'meow'],
    ['dogs', 'woof'],
  ] as const) {
    mkdirSync(path.join(dir, cls));
    for (let i = 0; i < 20; i++) writeFileSync(path.join(dir, cls, `${i}.txt`), `${word} ${word} said the pet number${cls}${i}`);
  }
  const data = await prepareData({ name: dir, length: 6, vocab: 1000, validationSplit: 0.25 });
  assert.deepEqual(data.classNames, ['cats', 'dogs']);
  assert.equal(data.train.size, 30);
  assert.equal(data.validation.size, 10);
  assert.deepEqual(data.train.inputShape, [6]);
  assert.equal(data.train.inputDtype, 'int32');
  const vocab = new Set(data.vocabulary!.tokens);
  // Every message has its own number word: those of validation messages must be unknown.
  const numbered = [...vocab].filter((t) => t.startsWith('number'));
  assert.equal(numbered.length, 30, 'one number word per training message, none from validation');
  const valRow = data.validation.row(0);
  const valIds = data.validation.x.subarray(valRow * 6, valRow * 6 + 6);
  assert.equal(valIds[5], UNK_ID, "the validation message's own word is outside the vocabulary");
});

test('the stratified split keeps the class proportions in both parts', () => {
  const labels = Int32Array.from({ length: 1000 }, (_, i) => (i % 10 < 3 ? 1 : 0));
  const { chosen, rest } = stratifiedSplit(labels, 0.1, 7);
  assert.equal(chosen.length, 100);
  assert.equal(rest.length, 900);
  assert.equal([...chosen].filter((i) => labels[i] === 1).length, 30);
  assert.equal(new Set([...chosen, ...rest]).size, 1000);
  assert.deepEqual(stratifiedSplit(labels, 0.1, 7).chosen, chosen, 'seeded');
});

test('message bodies: headers gone, quoted-printable and HTML undone', () => {
  const raw =
    'From: a@b.c\nReceived: from mx.example\nSubject: hi\n\n<html><body><b>Cheap</b> pills=\n now! 50=25 off &amp; more<style>p{}</style></body></html>';
  const body = messageBody(raw);
  assert.doesNotMatch(body, /Received|Subject|mx\.example|<b>|style|p\{\}/);
  assert.deepEqual(words(body), ['cheap', 'pills', 'now', '!', '50', '%', 'off', '&', 'more']);
});

test('the built-in spam corpus: 6,046 SpamAssassin messages, bodies only, and a fixed stratified split', async () => {
  const c = await loadSpam();
  assert.equal(c.texts.length, 6046);
  assert.deepEqual(c.classNames, ['ham', 'spam']);
  assert.equal([...c.labels].filter((l) => l === 1).length, 1896);
  const withHeaders = c.texts.filter((t) => /^(Return-Path|Received|Delivered-To): /m.test(t.slice(0, 400))).length;
  assert.ok(withHeaders < c.texts.length * 0.05, `${withHeaders} bodies start with mail headers`);
  const a = await previewData({ name: 'spam', length: 32, vocab: 500 });
  const b = await previewData({ name: 'spam', length: 32, vocab: 500 });
  assert.equal(a.trainSamples + a.validationSamples, 6046);
  assert.equal(a.validationSamples, 605);
  assert.deepEqual(a.classCounts, [4150, 1896]);
  assert.deepEqual(a.probes[0].x, b.probes[0].x, 'the same split every time');
  assert.equal(a.vocabulary?.size, 500);
});
