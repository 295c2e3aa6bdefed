// Every block's example on another backend against the cpu backend: the
// outputs (through a loss that weighs every element differently) and the
// gradient of that loss with respect to every weight and float input. This is
// how missing or wrong kernels and gradient kernels of a backend show up.
import assert from 'node:assert/strict';
import { registry } from '../../engine/blocks/registry.js';
import { portsOf, type BlockDef, type SymbolicTensor, type Tensor, type TF } from '../../engine/blocks/contract.js';
import { resolveParams } from '../../engine/blocks/params.js';
import { nodeInitializers } from '../../engine/blocks/initializers.js';

const concrete = (s: (number | null)[]) => s.map((d, i) => (i === 0 ? 2 : (d ?? 3)));

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/**
 * Largest difference relative to the tensor's largest magnitude, or to a
 * thousandth of the largest gradient in the example where that is more. The
 * floor is for gradients that are zero in exact arithmetic, which float32 gives
 * as rounding noise of the terms that cancel (about 1e-7 of the other
 * gradients): the key bias of every softmax attention (softmax(q·(k + b)) does
 * not depend on b, since q·b shifts all of a query's scores alike), and so the
 * φ bias of the non-local block.
 */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>, exampleScale: number): number {
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
  return diff / Math.max(maxAbs(a), 1e-3 * exampleScale, 1e-6);
}

export interface BlockExample {
  block: BlockDef;
  index: number;
  /** "core.dense example 1" */
  name: string;
}

/** Every block example with an input to feed (the io blocks have none worth testing). */
export function blockExamples(): BlockExample[] {
  return registry
    .all()
    .filter((b) => b.type !== 'io.output' && b.type !== 'io.input')
    .flatMap((block) => block.examples.map((_, index) => ({ block, index, name: `${block.type} example ${index + 1}` })));
}

/**
 * The loss and its gradients (weights, then float inputs) of one block example
 * on `backend` and on cpu; asserts they agree within `tolerance` (relative).
 */
export async function checkBlockParity(tf: TF, backend: string, { block, index }: BlockExample, tolerance = 1e-3): Promise<void> {
  const ex = block.examples[index];
  await tf.setBackend('cpu');
  const { values } = resolveParams(block, ex.params as Record<string, unknown>);
  const inPorts = portsOf(block, values, 'inputs').filter((p) => ex.inputs[p.name]);
  if (!inPorts.length) return;
  const inputs: Record<string, SymbolicTensor> = {};
  for (const p of inPorts) inputs[p.name] = tf.input({ shape: ex.inputs[p.name].slice(1) as number[], dtype: p.dtype ?? 'float32' });
  const name = `${backend}_${index}_${block.type.replace(/\W/g, '_')}`;
  const built = block.build(tf, { params: values, inputs, inputShapes: ex.inputs, name, init: nodeInitializers(tf, 1, 'n') });
  const outPorts = portsOf(block, values, 'outputs');
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
    return tf.addN(
      (Array.isArray(ys) ? ys : [ys]).map((y, i) =>
        tf.sum(
          tf.mul(
            y,
            tf.sin(
              tf
                .range(1, y.size + 1)
                .reshape(y.shape)
                .mul(0.37 + i),
            ),
          ),
        ),
      ),
    );
  };
  const grads = async (on: string) => {
    await tf.setBackend(on);
    const results = tf.tidy(() => {
      const value = lossOf(...floatFeeds);
      const gw = weights.length ? Object.values(tf.variableGrads(() => lossOf(...floatFeeds) as ReturnType<TF['scalar']>, weights as never).grads) : [];
      const gx = floatFeeds.length ? tf.grads((...xs: Tensor[]) => lossOf(...xs))(floatFeeds) : [];
      return [value, ...gw, ...gx];
    });
    // Read back asynchronously: a GPU backend's synchronous read stalls (and warns).
    const read = await Promise.all(results.map(async (t) => Float32Array.from((await t.data()) as Float32Array)));
    tf.dispose(results);
    return read;
  };
  try {
    const onCpu = await grads('cpu');
    const onOther = await grads(backend);
    assert.equal(onOther.length, onCpu.length);
    assert.ok(onCpu.length > 1, 'something to differentiate');
    const scale = Math.max(...onCpu.slice(1).map(maxAbs));
    onCpu.forEach((c, i) => {
      const err = relErr(c, onOther[i], scale);
      assert.ok(err < tolerance, `${i === 0 ? 'loss' : `gradient ${i}`}: relative error ${err.toExponential(2)}`);
    });
  } finally {
    await tf.setBackend('cpu');
    tf.dispose(feeds);
    model.layers.forEach((l) => l.dispose?.());
  }
}
