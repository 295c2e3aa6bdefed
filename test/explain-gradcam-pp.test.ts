// Grad-CAM++ against its definition (Chattopadhay et al., WACV 2018, eq. 10):
//   α_ij^k = ∂²Y/∂(A_ij^k)² / (2 ∂²Y/∂(A_ij^k)² + Σ_ab A_ab^k ∂³Y/∂(A_ij^k)³),  w_k = Σ_ij α_ij^k ReLU(∂Y/∂A_ij^k)
// with Y = exp(S) and S the class's pre-softmax score, every derivative taken by
// finite differences of Y itself (float64), not by the closed form the app uses.
// Divided by exp(S) (a positive constant per map), it must give the app's map;
// the same definition on the softmax probability must not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor } from '../engine/blocks/contract.js';
import { compileGraph } from '../engine/compile/compile.js';
import { gradCam } from '../engine/explain/gradcam.js';
import { chooseTarget } from '../engine/explain/index.js';
import { graphOf } from './train-fixtures.js';
import { tfReady } from './helpers/tf.js';

/** 4×4×1 → conv 3×3×3 + ReLU (the explained layer) → flatten → 3-way softmax head. */
const graph = () =>
  graphOf(
    'relu-cnn',
    [
      ['in', 'io.input', { kind: 'image', height: 4, width: 4, channels: 1 }],
      ['c1', 'core.conv2d', { filters: 3, kernel: 3, padding: 'same', activation: 'relu' }],
      ['flat', 'core.flatten'],
      ['head', 'core.classificationHead', { classes: 3 }],
      ['out', 'io.output'],
    ],
    [
      ['in.out', 'c1.in'],
      ['c1.out', 'flat.in'],
      ['flat.out', 'head.in'],
      ['head.probs', 'out.in'],
    ],
  );

const CHANNELS = 3;
const POSITIONS = 16;

/** Grad-CAM++ of A by eq. 10 on Y(A), derivatives by central differences with step h. */
function byDefinition(y: (a: Float64Array) => number, a: Float64Array, h = 1e-3): Float64Array {
  const at = (i: number, d: number) => {
    const b = Float64Array.from(a);
    b[i] += d;
    return y(b);
  };
  const y0 = y(a);
  const sums = Array.from({ length: CHANNELS }, (_, k) => a.reduce((s, v, i) => (i % CHANNELS === k ? s + v : s), 0));
  const weights = new Float64Array(CHANNELS);
  for (let i = 0; i < a.length; i++) {
    const [p1, m1, p2, m2] = [at(i, h), at(i, -h), at(i, 2 * h), at(i, -2 * h)];
    const d1 = (p1 - m1) / (2 * h);
    if (d1 <= 0) continue; // ReLU(∂Y/∂A) = 0
    const d2 = (p1 - 2 * y0 + m1) / (h * h);
    const d3 = (p2 - 2 * p1 + 2 * m1 - m2) / (2 * h ** 3);
    weights[i % CHANNELS] += (d2 / (2 * d2 + sums[i % CHANNELS] * d3)) * d1;
  }
  return Float64Array.from({ length: POSITIONS }, (_, p) =>
    Math.max(
      0,
      weights.reduce((s, w, k) => s + w * a[p * CHANNELS + k], 0),
    ),
  );
}

const gapOf = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let [peak, gap] = [0, 0];
  for (let i = 0; i < a.length; i++) {
    peak = Math.max(peak, Math.abs(a[i]), Math.abs(b[i]));
    gap = Math.max(gap, Math.abs(a[i] - b[i]));
  }
  return gap / peak;
};

for (const classIndex of [0, 1, 2])
  test(`Grad-CAM++ equals eq. 10 of the paper on exp(logit), not on the probability (class ${classIndex})`, async (t) => {
    const tf = await tfReady;
    const g = graph();
    const compiled = compileGraph(tf, g, { seed: 5 + classIndex });
    const x = tf.randomUniform([1, 4, 4, 1], 0, 1, 'float32', 13 + classIndex);
    try {
      const target = chooseTarget(g, compiled, 'c1');
      const front = tf.model({ inputs: compiled.model.inputs, outputs: target.tensor });
      const a = Float64Array.from((front.predict(x) as Tensor).dataSync());
      const [kernel, bias] = compiled.model.getLayer('head').getWeights();
      const w = kernel.arraySync() as number[][];
      const b = bias.arraySync() as number[];
      // The head in float64: A (flattened in its NHWC order) times the kernel plus the bias.
      const logits = (v: Float64Array) => b.map((bc, c) => v.reduce((s, ai, i) => s + ai * w[i][c], bc));
      const logit = (v: Float64Array) => logits(v)[classIndex];
      const probability = (v: Float64Array) => {
        const l = logits(v);
        const m = Math.max(...l);
        const e = l.map((z) => Math.exp(z - m));
        return e[classIndex] / e.reduce((s, z) => s + z, 0);
      };

      const app = await gradCam(tf, compiled, target, x, { method: 'gradcam++', classIndex });
      assert.ok(Math.max(...app.map) > 0, 'a map with something on it');
      // ∂Y/∂A = exp(S) ∂S/∂A: the definition's map is exp(S) times the app's.
      const reference = byDefinition((v) => Math.exp(logit(v)), a).map((v) => v / Math.exp(logit(a)));
      const gap = gapOf(app.map, reference);
      const onProbability = byDefinition((v) => Math.exp(probability(v)), a);
      const scale = Math.max(...onProbability) / Math.max(...app.map);
      const gapProbability = gapOf(
        app.map,
        onProbability.map((v) => v / scale),
      );
      t.diagnostic(
        `class ${classIndex}: ${gap.toExponential(1)} of the peak from eq. 10 on exp(logit); ${gapProbability.toFixed(3)} from eq. 10 on exp(probability)`,
      );
      assert.ok(gap < 1e-3, `Grad-CAM++ differs from eq. 10 by ${gap} of its peak`);
      assert.ok(gapProbability > 1e-2, `the probability's map is as close (${gapProbability}): the check could not tell them apart`);
    } finally {
      x.dispose();
      compiled.model.dispose();
    }
  });
