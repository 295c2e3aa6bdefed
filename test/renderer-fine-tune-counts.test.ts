// Trainable and frozen counts for the inspector and the summary: the count parts
// carry the inlined node keys that fine-tuning's patterns name, and the summary's
// split equals the one the tfjs trainer makes on the compiled model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeGraph } from '../engine/shapes/analyze.js';
import { inlineGraph } from '../engine/shapes/inline.js';
import { compileGraph } from '../engine/compile/compile.js';
import { applyFineTuning } from '../engine/train/fine-tune.js';
import { isFrozen } from '../engine/graph/fine-tune-patterns.js';
import { registry } from '../engine/blocks/registry.js';
import { paramApplies } from '../engine/blocks/contract.js';
import { countBlockWeights, countParts, type ParamCounts, type WeightCounts } from '../renderer/src/params/count.js';
import { summarize } from '../renderer/src/store/summary.js';
import { loadTemplate } from './helpers/graphs.js';
import { tfReady } from './helpers/tf.js';

test('summary: trainable / frozen / non-trainable / all for a frozen backbone equal the trainer’s split', async () => {
  const tf = await tfReady;
  const graph = loadTemplate('se-resnet20-mnist.attn.json');
  const analysis = analyzeGraph(graph);
  const parts = countParts(analysis);
  // The parts' node keys are the inlined keys ("stage1/rest#2/conv1") the trainer matches patterns against.
  const keys = [...parts.values()].flat().map((p) => p.node);
  assert.deepEqual(new Set(keys), new Set(inlineGraph(graph, analysis).map((n) => n.key)));
  assert.ok(
    keys.some((k) => /^stage\d\/rest#2\//.test(k)),
    keys.join(' '),
  );

  const sizes = new Map<string, { all: number; trainable: number }>();
  const counter =
    (which: 'all' | 'trainable'): ParamCounts =>
    (id, only) =>
      parts.get(id)?.reduce((sum, p) => {
        if (!sizes.has(p.key)) sizes.set(p.key, countBlockWeights(tf, registry.get(p.type)!, p));
        return sum + (!only || only(p.node) ? sizes.get(p.key)![which] : 0);
      }, 0);
  const counts: WeightCounts = { all: counter('all'), trainable: counter('trainable') };
  const fine = { freeze: ['conv', 'bn', 'stage'], frozenBatchNorm: 'inference' as const, lrMultipliers: { stage3: 0.1, gap: 0 } };
  const summary = summarize(graph, analysis, counts, (key) => isFrozen(key, fine));
  const plain = summarize(graph, analysis, counts);
  const compiled = compileGraph(tf, graph);
  try {
    // Nothing frozen: the compiler's trainable count; BatchNorm's moving statistics are the rest.
    assert.equal(plain.frozenParams, 0);
    assert.equal(plain.trainableParams, compiled.trainableParams);
    assert.equal(plain.nonTrainableParams, compiled.params - compiled.trainableParams);
    assert.ok(plain.nonTrainableParams > 0, 'the BatchNorms have moving statistics');

    const { summary: trainer } = applyFineTuning(compiled, fine);
    assert.equal(summary.totalParams, compiled.params);
    assert.equal(summary.trainableParams, trainer.trainable.params);
    // The trainer counts every weight that does not train as frozen, the statistics among them.
    assert.equal(summary.frozenParams + summary.nonTrainableParams, trainer.frozen.params);
    assert.equal(summary.nonTrainableParams, plain.nonTrainableParams);
    assert.equal(summary.trainableParams, 64 * 10 + 10, 'only the head trains');
    const row = (id: string) => summary.rows.find((r) => r.id === id)!;
    // All of stage2 is frozen but its BatchNorms' moving statistics, which never train.
    assert.equal(row('stage2').frozen! + row('stage2').nonTrainable!, row('stage2').params);
    assert.equal(row('head').frozen, 0);
  } finally {
    compiled.model.dispose();
  }
  // One block inside a composite, in every copy.
  const partial = summarize(graph, analysis, counts, (key) => isFrozen(key, { freeze: ['stage1/rest/conv1'], lrMultipliers: {} }));
  const stage1 = partial.rows.find((r) => r.id === 'stage1')!;
  assert.equal(stage1.frozen, 2 * 3 * 3 * 16 * 16);
  assert.equal(partial.trainableParams, plain.trainableParams - 2 * 3 * 3 * 16 * 16);
});

test('Input: the inspector shows only the parameters of the chosen kind', () => {
  const input = registry.get('io.input')!;
  const shown = (kind: string) =>
    Object.entries(input.params)
      .filter(([, def]) => paramApplies(def, { kind }))
      .map(([k]) => k);
  assert.deepEqual(shown('tokens'), ['kind', 'length', 'vocabSize', 'sentences']);
  assert.deepEqual(shown('image'), ['kind', 'height', 'width', 'channels']);
  assert.deepEqual(shown('sequence'), ['kind', 'length', 'features']);
  assert.deepEqual(shown('vector'), ['kind', 'features']);
  // Every shownWhen names an enum parameter of its block and some of its options.
  for (const block of registry.all())
    for (const [name, def] of Object.entries(block.params))
      for (const [on, values] of Object.entries(def.shownWhen ?? {})) {
        const target = block.params[on];
        assert.ok(target?.type === 'enum', `${block.type}.${name}: shownWhen names ${on}, not an enum parameter`);
        for (const v of values) assert.ok(target.options.includes(v), `${block.type}.${name}: ${on} has no option ${v}`);
      }
});
