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
import { countBlockParams, countParts, type ParamCounts } from '../renderer/src/params/count.js';
import { summarize } from '../renderer/src/store/summary.js';
import { loadTemplate } from './helpers/graphs.js';
import { tfReady } from './helpers/tf.js';

test('summary: trainable / frozen / all for a frozen backbone equal the trainer’s split', async () => {
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

  const sizes = new Map<string, number>();
  const counts: ParamCounts = (id, only) =>
    parts.get(id)?.reduce((sum, p) => {
      if (!sizes.has(p.key)) sizes.set(p.key, countBlockParams(tf, registry.get(p.type)!, p));
      return sum + (!only || only(p.node) ? sizes.get(p.key)! : 0);
    }, 0);
  const fine = { freeze: ['conv', 'bn', 'stage'], frozenBatchNorm: 'inference' as const, lrMultipliers: { stage3: 0.1, gap: 0 } };
  const summary = summarize(graph, analysis, counts, (key) => isFrozen(key, fine));
  const compiled = compileGraph(tf, graph);
  try {
    const { summary: trainer } = applyFineTuning(compiled, fine);
    assert.equal(summary.totalParams, compiled.params);
    assert.equal(summary.frozenParams, trainer.frozen.params);
    assert.equal(summary.totalParams - summary.frozenParams, trainer.trainable.params);
    assert.equal(summary.totalParams - summary.frozenParams, 64 * 10 + 10, 'only the head trains');
    const row = (id: string) => summary.rows.find((r) => r.id === id)!;
    assert.equal(row('stage2').frozen, row('stage2').params);
    assert.equal(row('head').frozen, 0);
  } finally {
    compiled.model.dispose();
  }
  // One block inside a composite, in every copy.
  const partial = summarize(graph, analysis, counts, (key) => isFrozen(key, { freeze: ['stage1/rest/conv1'], lrMultipliers: {} }));
  const stage1 = partial.rows.find((r) => r.id === 'stage1')!;
  assert.equal(stage1.frozen, 2 * 3 * 3 * 16 * 16);
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
