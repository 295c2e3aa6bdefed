// Attention flow (Abnar & Zuidema 2020) against a 2-layer example computed by
// hand, beside rollout's product on the same matrices.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attentionFlow, maxFlow } from '../engine/explain/flow.js';
import { rollout, type HeadMatrices } from '../engine/explain/rollout.js';

/** One head's [T, T] attention as the model gives it (rows sum to 1). */
const layer = (rows: number[][]): HeadMatrices => ({
  nodeId: 'a',
  port: 'attention',
  heads: 1,
  queries: rows.length,
  keys: rows.length,
  data: Float32Array.from(rows.flat()),
});

const close = (got: ArrayLike<number>, want: number[], what: string) =>
  want.forEach((w, i) => assert.ok(Math.abs(got[i] - w) < 1e-6, `${what}[${i}]: ${got[i]}, by hand ${w}`));

test('attention flow of two layers equals the hand-computed maximum flows, and differs from rollout', () => {
  // With the residual, Ã = (A + I) / 2: Ã1 = [[0.6, 0.4], [0.3, 0.7]], Ã2 = [[0.5, 0.5], [0.25, 0.75]].
  const layers = [
    layer([
      [0.2, 0.8],
      [0.6, 0.4],
    ]),
    layer([
      [0, 1],
      [0.5, 0.5],
    ]),
  ];
  // Input j reaches output i through middle token 0 or 1; the two paths share no edge, so each carries its narrower
  // edge: F[i][j] = Σ_k min(Ã2[i][k], Ã1[k][j]). F[0][0] = min(.5, .6) + min(.5, .3) = 0.8,
  // F[0][1] = min(.5, .4) + min(.5, .7) = 0.9, F[1][0] = min(.25, .6) + min(.75, .3) = 0.55, F[1][1] = min(.25, .4) + min(.75, .7) = 0.95.
  close(attentionFlow(layers), [0.8, 0.9, 0.55, 0.95], 'flow');
  // Rollout multiplies along the paths: R = Ã2 Ã1.
  close(rollout(layers), [0.45, 0.55, 0.375, 0.625], 'rollout');
});

test('through one layer the flow is the residual attention itself; a shared edge is a bottleneck', () => {
  close(
    attentionFlow([
      layer([
        [0.2, 0.8],
        [0.6, 0.4],
      ]),
    ]),
    [0.6, 0.4, 0.3, 0.7],
    'one layer',
  );
  // s → a (1), s → b (1), a → c (1), b → c (1), c → t (1.5): the edge into t holds 1.5 of the 2 that reach c.
  const n = 5;
  const cap = new Float64Array(n * n);
  for (const [u, v, c] of [
    [0, 1, 1],
    [0, 2, 1],
    [1, 3, 1],
    [2, 3, 1],
    [3, 4, 1.5],
  ])
    cap[u * n + v] = c;
  assert.equal(maxFlow(cap, n, 0, 4), 1.5);
});
