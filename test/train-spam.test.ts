// The BiGRU word-attention template trained on the built-in spam corpus from the
// CLI, as a user runs it: accuracy, the vocabulary saved in the run folder, and
// whether its attention reads the words that give spam away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { attn, attnTrain } from './helpers/cli.js';
import { tfReady } from './helpers/tf.js';
import { prepareData } from '../engine/data/index.js';
import { vocabularySchema, PAD_ID } from '../engine/data/text.js';
import { loadTrainedModel } from '../engine/worker/run-model.js';
import { parseGraphText } from '../engine/graph/schema.js';

const TEMPLATE = fileURLToPath(new URL('../../templates/bigru-attention-spam.attn.json', import.meta.url));
/** Enough messages for a stable 95%, few enough for CI's two cores. */
const LIMIT = 2000;

test('bigru-attention-spam: above 95% validation accuracy on spam, and its attention favours spam words', async () => {
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'attn-spam-')), 'run');
  const done = await attnTrain(TEMPLATE, '--dataset', 'spam', '--epochs', '3', '--limit', String(LIMIT), '--out', out);
  console.log(`# spam: val_accuracy ${done.metrics.val_accuracy.toFixed(3)}, ${done.samplesPerSec.toFixed(1)} samples/s`);
  assert.ok(done.metrics.val_accuracy > 0.95, `val_accuracy ${done.metrics.val_accuracy}`);

  // attn predict tokenises typed text with the run's vocabulary.
  const spamText = 'FREE offer!!! Click here to claim your cash prize now, limited time, order today';
  const hamText = 'Hi Bob, the patch fixes the build on Debian; can you review it before the meeting tomorrow?';
  const p = await attn('predict', TEMPLATE, '--weights', out, '--text', spamText, hamText, '--json');
  assert.equal(p.code, 0, p.stderr);
  const y = JSON.parse(p.stdout) as { shape: number[]; data: number[] };
  assert.deepEqual(y.shape, [2, 2]);
  console.log(`# spam: P(spam) ${y.data[1].toFixed(3)} for the spam-like text, ${y.data[3].toFixed(3)} for the work e-mail`);
  assert.ok(y.data[1] > y.data[3], `P(spam) ${y.data[1]} vs ${y.data[3]}`);
  const neither = await attn('predict', TEMPLATE, '--weights', out);
  assert.equal(neither.code, 1);
  assert.match(neither.stderr, /give either --input x\.npy or --text/);

  const vocabulary = vocabularySchema.parse(JSON.parse(readFileSync(path.join(out, 'vocabulary.json'), 'utf8')));
  const data = await prepareData({ name: 'spam', limit: LIMIT, length: 64, vocab: 8000 });
  assert.deepEqual(vocabulary, data.vocabulary, 'the saved vocabulary is the one training built');

  // Words that occur mainly in spam: in the training split, at least 5 times, 90% of them in spam messages.
  const T = vocabulary.maxLength;
  const seen = new Map<number, [number, number]>();
  for (let i = 0; i < data.train.size; i++) {
    const r0 = data.train.row(i);
    const spam = data.train.labels[r0] === 1 ? 1 : 0;
    for (let t = 0; t < T; t++) {
      const id = data.train.x[r0 * T + t];
      if (id === PAD_ID) break;
      const c = seen.get(id) ?? [0, 0];
      c[spam]++;
      seen.set(id, c);
    }
  }
  const spammy = new Set([...seen].filter(([id, [ham, spam]]) => id > 1 && ham + spam >= 5 && spam / (ham + spam) >= 0.9).map(([id]) => id));

  const tf = await tfReady;
  const graph = parseGraphText(readFileSync(TEMPLATE, 'utf8')).graph!;
  const { compiled } = await loadTrainedModel(tf, graph, out);
  const weights = compiled.attention.find((a) => a.nodeId === 'attention' && a.port === 'weights')!;
  const probe = tf.model({ inputs: compiled.model.inputs, outputs: weights.tensor });
  const rows = Array.from({ length: data.validation.size }, (_, i) => i).filter((i) => data.validation.labels[data.validation.row(i)] === 1);
  const batch = data.validation.batch(tf, rows);
  const alpha = (await (probe.predict(batch.x) as import('@tensorflow/tfjs').Tensor).data()) as Float32Array;
  const ids = (await batch.x.data()) as Int32Array;
  batch.x.dispose();
  let mass = 0;
  let uniform = 0;
  let counted = 0;
  rows.forEach((_, k) => {
    let words = 0;
    let hits = 0;
    let m = 0;
    for (let t = 0; t < T && ids[k * T + t] !== PAD_ID; t++) {
      words++;
      if (spammy.has(ids[k * T + t])) {
        hits++;
        m += alpha[k * T + t];
      }
    }
    if (hits === 0) return;
    mass += m;
    uniform += hits / words;
    counted++;
  });
  mass /= counted;
  uniform /= counted;
  console.log(
    `# spam: ${spammy.size} spam words; on ${counted} spam messages attention puts ${(100 * mass).toFixed(1)}% on them, a uniform weighting ${(100 * uniform).toFixed(1)}%`,
  );
  assert.ok(mass > uniform, `attention mass on spam words ${mass} vs uniform ${uniform}`);
});
