// Attention flow (Abnar & Zuidema, ACL 2020), rollout's sibling: the layers'
// residual attention matrices Ã (fused and renormalised as rollout does them)
// are the capacities of a layered graph, token k of layer ℓ−1 → token q of
// layer ℓ with capacity Ã_ℓ[q][k], and F[i][j] is the maximum flow from input
// token j to output token i. Where rollout multiplies the weights along every
// path and sums, flow lets each path carry only what its narrowest edge holds,
// and paths that share an edge share its capacity.
import type { HeadMatrices, RolloutOptions } from './rollout.js';
import { residualAttention } from './rollout.js';

/** Edmonds–Karp on a dense capacity matrix [n × n] (left unchanged): the maximum flow from `source` to `sink`. */
export function maxFlow(capacity: Float64Array, n: number, source: number, sink: number): number {
  const residual = Float64Array.from(capacity);
  const parent = new Int32Array(n);
  let total = 0;
  for (;;) {
    parent.fill(-1);
    parent[source] = source;
    const queue = [source];
    for (let head = 0; head < queue.length && parent[sink] < 0; head++) {
      const u = queue[head];
      for (let v = 0; v < n; v++)
        if (parent[v] < 0 && residual[u * n + v] > 1e-12) {
          parent[v] = u;
          queue.push(v);
        }
    }
    if (parent[sink] < 0) return total;
    let push = Infinity;
    for (let v = sink; v !== source; v = parent[v]) push = Math.min(push, residual[parent[v] * n + v]);
    for (let v = sink; v !== source; v = parent[v]) {
      residual[parent[v] * n + v] -= push;
      residual[v * n + parent[v]] += push;
    }
    total += push;
  }
}

/** F [tokens × tokens] over layers given first to last: F[i][j] is the flow from input token j to output token i. */
export function attentionFlow(layers: readonly HeadMatrices[], opts: RolloutOptions = {}): Float64Array {
  const t = layers[0].queries;
  const ratio = opts.discardRatio ?? 0;
  const a = layers.map((m) => residualAttention(m, opts.fusion ?? 'mean', ratio));
  // Node ℓ·t + k is token k after ℓ layers (ℓ = 0: the input tokens).
  const n = (layers.length + 1) * t;
  const capacity = new Float64Array(n * n);
  a.forEach((m, l) => {
    for (let q = 0; q < t; q++) for (let k = 0; k < t; k++) capacity[(l * t + k) * n + (l + 1) * t + q] = m[q * t + k];
  });
  const out = layers.length * t;
  const flow = new Float64Array(t * t);
  for (let i = 0; i < t; i++) for (let j = 0; j < t; j++) flow[i * t + j] = maxFlow(capacity, n, j, out + i);
  return flow;
}
