// Every block's example trains on the wasm backend: the gradient of a loss over
// its outputs, with respect to every weight and float input, matches the cpu
// backend's. This is how missing or wrong wasm gradient kernels show up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registry } from '../engine/blocks/registry.js';
import { portsOf, type SymbolicTensor, type Tensor } from '../engine/blocks/contract.js';
import { resolveParams } from '../engine/blocks/params.js';
import { nodeInitializers } from '../engine/compile/initializers.js';
import { selectBackend } from '../engine/backends/select.js';

const ready = selectBackend({ backend: 'wasm' });

/**
 * Where the two backends disagree and the cpu backend is the one known wrong, or
 * the cause is not yet found: reported as todo, not hidden. The cpu backend's
 * ResizeNearestNeighborGrad gives wrong sums (checked against a brute-force
 * reference; wasm's is right).
 */
const KNOWN: Record<string, string> = {
  'core.upsample2d 1': 'cpu backend ResizeNearestNeighborGrad is wrong (wasm matches a brute-force reference)',
  'attention.multiHead 1': 'disagreement not yet explained',
  'attention.transformerEncoder 1': 'disagreement not yet explained',
  'attention.transformerDecoder 1': 'disagreement not yet explained',
  'attention.nonLocal 1': 'disagreement not yet explained (sub-sampling max pool)',
  'attention.residualAttention 2': 'disagreement not yet explained (bilinear, align corners)',
};
const concrete = (s: (number | null)[]) => s.map((d, i) => (i === 0 ? 2 : (d ?? 3)));

/** Largest difference relative to the largest magnitude, per tensor. */
function relErr(a: Float32Array | Int32Array | Uint8Array, b: Float32Array | Int32Array | Uint8Array): number {
  let diff = 0;
  let scale = 1e-6;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(a[i]));
  }
  return diff / scale;
}

for (const block of registry.all()) {
  if (block.type === 'io.output' || block.type === 'io.input') continue;
  block.examples.forEach((ex, k) => {
    const known = KNOWN[`${block.type} ${k + 1}`];
    test(`${block.type} example ${k + 1}: gradients on wasm match cpu`, { todo: known }, async (t) => {
      const { tf } = await ready;
      await tf.setBackend('cpu');
      const { values } = resolveParams(block, ex.params as Record<string, unknown>);
      const inPorts = portsOf(block, values, 'inputs').filter((p) => ex.inputs[p.name]);
      const inputs: Record<string, SymbolicTensor> = {};
      for (const p of inPorts) inputs[p.name] = tf.input({ shape: ex.inputs[p.name].slice(1) as number[], dtype: p.dtype ?? 'float32' });
      const name = `wasm_${k}_${block.type.replace(/\W/g, '_')}`;
      const built = block.build(tf, { params: values, inputs, inputShapes: ex.inputs, name, init: nodeInitializers(tf, 1, 'n') });
      const outPorts = portsOf(block, values, 'outputs');
      if (!inPorts.length) return;
      const model = tf.model({ inputs: inPorts.map((p) => inputs[p.name]), outputs: outPorts.map((p) => built[p.name]) });
      const feeds = inPorts.map((p, i) => {
        const shape = concrete(ex.inputs[p.name]);
        return p.dtype === 'int32' ? tf.randomUniform(shape, 0, 2, 'int32', 3 + i) : tf.randomNormal(shape, 0, 1, 'float32', 7 + i);
      });
      const floatFeeds = feeds.filter((f) => f.dtype === 'float32');
      const weights = model.trainableWeights.map((w) => w.read() as Tensor);
      // A loss that weighs every output element differently, so no gradient cancels by symmetry.
      const lossOf = (...xs: Tensor[]) => {
        const fed = feeds.map((f) => (f.dtype === 'float32' ? xs[floatFeeds.indexOf(f)] : f));
        const ys = model.apply(fed, { training: false }) as Tensor | Tensor[];
        return tf.addN((Array.isArray(ys) ? ys : [ys]).map((y, i) => tf.sum(tf.mul(y, tf.sin(tf.range(1, y.size + 1).reshape(y.shape).mul(0.37 + i))))));
      };
      const grads = async (backend: string) => {
        await tf.setBackend(backend);
        return tf.tidy(() => {
          const value = lossOf(...floatFeeds);
          const gw = weights.length ? Object.values(tf.variableGrads(() => lossOf(...floatFeeds) as ReturnType<TF0['scalar']>, weights as never).grads) : [];
          const gx = floatFeeds.length ? tf.grads((...xs: Tensor[]) => lossOf(...xs))(floatFeeds) : [];
          return [value, ...gw, ...gx].map((g) => g.dataSync().slice());
        });
      };
      let onCpu;
      try {
        onCpu = await grads('cpu');
      } catch (e) {
        // Not a backend matter (tfjs has no gradient for the op, or the block fails on any backend).
        t.skip(`the cpu backend cannot compute it either: ${(e as Error).message}`);
        return;
      }
      const onWasm = await grads('wasm');
      assert.equal(onWasm.length, onCpu.length);
      assert.ok(onCpu.length > 1, 'something to differentiate');
      onCpu.forEach((c, i) => {
        const err = relErr(c, onWasm[i]);
        assert.ok(err < 1e-3, `${i === 0 ? 'loss' : `gradient ${i}`}: relative error ${err.toExponential(2)}`);
      });
      tf.dispose(feeds);
      model.layers.forEach((l) => l.dispose?.());
    });
  });
}
type TF0 = Awaited<typeof ready>['tf'];
