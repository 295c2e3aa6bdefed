// Teacher forcing in the Show, Attend and Tell decoder: in training, step t reads the
// true word t - 1 that the trainer hands over; at inference it reads its own argmax.
// So fed its own greedy words as the truth, training mode computes the inference
// output, and fed other words, only the steps after the first change. The same for
// the engine's tfjs layer and the PyTorch export's module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { Tensor } from '../engine/blocks/contract.js';
import { compileGraph } from '../engine/compile/compile.js';
import { registry } from '../engine/blocks/registry.js';
import { exampleGraph } from './helpers/graphs.js';
import { tfReady } from './helpers/tf.js';
import { PYTHON, skipWithoutTorch } from './helpers/torch.js';

const [STEPS, VOCAB] = [4, 7];

/** Per step, the largest |a − b| of the word probabilities [B, T, V]. */
function stepDiffs(a: Float32Array, b: Float32Array, batch: number): number[] {
  return Array.from({ length: STEPS }, (_, t) => {
    let worst = 0;
    for (let s = 0; s < batch; s++)
      for (let v = 0; v < VOCAB; v++) {
        const i = (s * STEPS + t) * VOCAB + v;
        worst = Math.max(worst, Math.abs(a[i] - b[i]));
      }
    return worst;
  });
}

test('tfjs decoder: training reads the targets it is handed, inference its own argmax', async () => {
  const tf = await tfReady;
  const graph = exampleGraph(
    registry.get('attention.showAttendTell')!,
    { params: { steps: STEPS, vocab: VOCAB, embedding: 4, units: 8, attentionUnits: 5, coverage: true }, inputs: { features: [null, 3, 5, 6] } },
    { inputs: [{ name: 'features' }], outputs: [{ name: 'out' }, { name: 'attention' }] },
  );
  const { model } = compileGraph(tf, graph);
  try {
    const x = tf.randomNormal([2, 3, 5, 6], 0, 1, 'float32', 7);
    const first = (out: Tensor | Tensor[]) => (Array.isArray(out) ? out[0] : out);
    const greedy = first(model.predict(x) as Tensor | Tensor[]);
    const ids = Int32Array.from((tf.argMax(greedy, 2).dataSync() as Int32Array).map((v) => v));
    const own = first(model.apply(x, { training: true, targets: ids }) as Tensor | Tensor[]);
    const other = Int32Array.from(ids, (v) => (v + 1) % VOCAB);
    const forced = first(model.apply(x, { training: true, targets: other }) as Tensor | Tensor[]);
    const g = greedy.dataSync() as Float32Array;
    assert.ok(Math.max(...stepDiffs(g, own.dataSync() as Float32Array, 2)) < 1e-5, 'fed its own words, training computes the greedy output');
    const d = stepDiffs(g, forced.dataSync() as Float32Array, 2);
    assert.ok(d[0] < 1e-5, 'step 0 reads <start> either way');
    assert.ok(
      d.slice(1).every((v) => v > 1e-4),
      `every later step reads the true word: differences ${d}`,
    );
    tf.dispose([x, greedy, own, forced]);
  } finally {
    model.dispose();
  }
});

test('PyTorch export: runtime.train hands the targets to the decoder; eval mode decodes greedily', (t) => {
  if (skipWithoutTorch(t, 'the PyTorch decoder')) return;
  const dir = new URL('../../engine/export/torch/', import.meta.url).pathname;
  const script = `
import importlib.util, json, sys, torch
def load(name):
    spec = importlib.util.spec_from_file_location(name, sys.argv[1] + name + ".py")
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); return m
sat, runtime = load("caption_attention"), load("runtime")
torch.manual_seed(0)
dec = sat.ShowAttendTell(6, 3, 5, ${STEPS}, ${VOCAB}, 4, 8, 5, coverage=True)
x = torch.randn(2, 6, 3, 5)
dec.eval(); greedy = dec(x)[0]
ids = greedy.argmax(-1)
dec.train()
runtime._teach(dec, ids); own = dec(x)[0]
runtime._teach(dec, (ids + 1) % ${VOCAB}); forced = dec(x)[0]
dec.eval(); again = dec(x)[0]
step = lambda a, b: [float((a[:, t] - b[:, t]).abs().max()) for t in range(${STEPS})]
print(json.dumps({"own": step(greedy, own), "forced": step(greedy, forced), "eval": step(greedy, again)}))`;
  const out = JSON.parse(execFileSync(PYTHON, ['-c', script, dir], { encoding: 'utf8', timeout: 120_000 })) as Record<string, number[]>;
  assert.ok(Math.max(...out.own) < 1e-5, `fed its own words: ${out.own}`);
  assert.ok(out.forced[0] < 1e-5 && out.forced.slice(1).every((v) => v > 1e-4), `fed other words, the steps after the first change: ${out.forced}`);
  assert.ok(Math.max(...out.eval) < 1e-6, `eval mode ignores the targets: ${out.eval}`);
});
