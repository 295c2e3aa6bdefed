// The inspector's trainable / frozen counts for a node inside an opened
// composite: the node in every use of the composite (each instance, each copy
// of a repeat), split as the tfjs trainer splits the compiled model's layers
// (a frozen node's parameters, BatchNorm statistics included, count as frozen).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeGraph } from '../engine/shapes/analyze.js';
import { compileGraph, layerOwner } from '../engine/compile/compile.js';
import { applyFineTuning } from '../engine/train/fine-tune.js';
import { isFrozen } from '../engine/graph/fine-tune-patterns.js';
import { registry } from '../engine/blocks/registry.js';
import { countBlockParams, insideParts, sumParts } from '../renderer/src/params/count.js';
import { loadTemplate } from './helpers/graphs.js';
import { tfReady } from './helpers/tf.js';

test('a node inside a composite: trainable / frozen over every use, equal to the trainer’s split', async () => {
  const tf = await tfReady;
  const graph = loadTemplate('se-resnet20-mnist.attn.json');
  const inside = insideParts(analyzeGraph(graph));
  const sizes = new Map<string, number>();
  const count = (composite: string, node: string, only?: (key: string) => boolean) => sumParts(inside.get(composite)?.get(node), (key) => sizes.get(key), only);
  for (const byNode of inside.values())
    for (const parts of byNode.values()) for (const p of parts ?? []) if (!sizes.has(p.key)) sizes.set(p.key, countBlockParams(tf, registry.get(p.type)!, p));

  // block1 is stage1's `rest`, repeated twice: its conv1 is two 3×3 16→16 convolutions.
  assert.deepEqual(
    inside
      .get('block1')!
      .get('conv1')!
      .map((p) => p.node),
    ['stage1/rest#1/conv1', 'stage1/rest#2/conv1'],
  );
  const fine = { freeze: ['stage1/rest#2', 'stage2'], frozenBatchNorm: 'inference' as const, lrMultipliers: { stage3: 0 } };
  const frozen = (key: string) => isFrozen(key, fine);
  assert.equal(count('block1', 'conv1'), 2 * 3 * 3 * 16 * 16);
  assert.equal(count('block1', 'conv1', frozen), 3 * 3 * 16 * 16, 'one copy of two frozen');
  assert.equal(count('stage1', 'rest', frozen), frozenInside('block1'), 'a composite inside a composite: the sum of its nodes');

  // Every node of every composite against the compiled model: its weights in all uses, and those the trainer froze.
  const compiled = compileGraph(tf, graph);
  try {
    applyFineTuning(compiled, fine);
    const byKey = new Map<string, { all: number; frozen: number }>();
    for (const layer of compiled.model.layers) {
      const key = layerOwner(layer.name, compiled.layerKeys);
      if (key === undefined) continue;
      const c = byKey.get(key) ?? { all: 0, frozen: 0 };
      for (const w of layer.weights) {
        const size = w.shape.reduce((a: number, b) => a * (b ?? 1), 1);
        c.all += size;
        if (!layer.trainable) c.frozen += size; // the trainer marks a frozen node's layers not trainable
      }
      byKey.set(key, c);
    }
    let checked = 0;
    for (const [composite, byNode] of inside)
      for (const [node, parts] of byNode) {
        const keys = parts!.map((p) => p.node);
        const want = keys.reduce((s, k) => ({ all: s.all + (byKey.get(k)?.all ?? 0), frozen: s.frozen + (byKey.get(k)?.frozen ?? 0) }), { all: 0, frozen: 0 });
        assert.equal(count(composite, node), want.all, `${composite}/${node}: all`);
        assert.equal(count(composite, node, frozen), want.frozen, `${composite}/${node}: frozen`);
        if (want.frozen > 0 && want.frozen < want.all) checked++;
      }
    assert.ok(checked >= 6, `${checked} nodes partly frozen across their uses`);
  } finally {
    compiled.model.dispose();
  }

  function frozenInside(composite: string): number {
    let s = 0;
    for (const parts of inside.get(composite)!.values()) s += sumParts(parts, (key) => sizes.get(key), frozen)!;
    return s;
  }
});
