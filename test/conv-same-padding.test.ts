// Explicit (PyTorch-style) conv padding that equals TensorFlow's "same" at stride 1
// builds as a "same" convolution, with no zero-padding layer before it: a training
// step then pads no copy of the input and cuts no larger input gradient back down.
// Outputs and gradients are the padded "valid" convolution's to the bit, on wasm and cpu.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../engine/backends/select.js';
import type { Tensor, TF } from '../engine/blocks/contract.js';
import { convPadding } from '../engine/blocks/window2d.js';
import { compileGraph } from '../engine/compile/compile.js';
import { chain, graph } from './helpers/graphs.js';
import { onBackends, relativeGap, seededUniform } from './helpers/numeric.js';

const ready = selectBackend({ backend: 'wasm' });
const random = seededUniform(1919);

test('explicit pads build as "same" exactly where they are "same"\'s at stride 1', () => {
  const w = (kernel: number, pads: number[], stride = 1, dilation = 1) => convPadding({ kernel, stride, dilation, padding: 'explicit', pads });
  assert.deepEqual(w(3, [1]), { sides: null, padding: 'same' });
  assert.deepEqual(w(3, [2], 1, 2), { sides: null, padding: 'same' });
  assert.deepEqual(w(2, [0, 1, 0, 1]), { sides: null, padding: 'same' });
  assert.deepEqual(w(3, [0]), { sides: null, padding: 'valid' });
  // Stride 2: "same" would pad 0 above and 1 below a 28-pixel input, PyTorch's padding=1 pads 1 and 1.
  assert.deepEqual(w(3, [1], 2), { sides: [1, 1, 1, 1], padding: 'valid' });
  assert.deepEqual(w(3, [1, 0]), { sides: [1, 1, 0, 0], padding: 'valid' });
  assert.deepEqual(w(2, [1, 0, 1, 0]), { sides: [1, 0, 1, 0], padding: 'valid' });
  assert.deepEqual(convPadding({ kernel: 3, stride: 1, padding: 'same' }), { sides: null, padding: 'same' });
});

const CASES = [
  { what: 'conv2d 3×3, pads 1', type: 'core.conv2d', params: { filters: 4, kernel: 3, padding: 'explicit', pads: [1], useBias: true } },
  { what: 'conv2d 3×3 dilated 2, pads 2', type: 'core.conv2d', params: { filters: 3, kernel: 3, dilation: 2, padding: 'explicit', pads: [2], useBias: false } },
  { what: 'depthwise 3×3, pads 1', type: 'core.depthwiseConv2d', params: { kernel: 3, padding: 'explicit', pads: [1], depthMultiplier: 2, useBias: true } },
];

for (const { what, type, params } of CASES) {
  test(`${what}: no padding layer; output and gradients are the padded "valid" convolution's, on wasm and cpu`, async () => {
    const { tf } = await ready;
    const input = [2, 7, 6, 3];
    const g = graph(
      [
        ['x', 'io.input', { kind: 'image', height: input[1], width: input[2], channels: input[3] }],
        ['conv', type, params],
        ['out', 'io.output', {}],
      ],
      chain('x', 'conv', 'out'),
    );
    const xs = random(
      input.reduce((a, b) => a * b, 1),
      2,
    );
    const run = () =>
      onBackends(tf, ['wasm', 'cpu'], () => {
        const { model } = compileGraph(tf, g);
        assert.deepEqual(
          model.layers.map((l) => l.getClassName()).filter((c) => c === 'ZeroPadding2D'),
          [],
          'no zero-padding layer',
        );
        const layer = model.getLayer('conv');
        layer.setWeights(layer.getWeights().map((w) => tf.tensor(random(w.size, 1), w.shape)));
        const weights = layer.trainableWeights.map((v) => v.read() as ReturnType<TF['variable']>);
        const x = tf.tensor(xs, input);
        const p = params as { kernel: number; pads: number[]; dilation?: number };
        // The reference: the input padded explicitly, then a "valid" convolution with the same weights.
        const reference = (image: Tensor, kernel: Tensor, bias?: Tensor) => {
          const padded = tf.pad(image as ReturnType<TF['tensor4d']>, [
            [0, 0],
            [p.pads[0], p.pads[0]],
            [p.pads[0], p.pads[0]],
            [0, 0],
          ]);
          const k = kernel as ReturnType<TF['tensor4d']>;
          // As the layers run them: tfjs's Conv2D fuses its bias (the sums start there), DepthwiseConv2D adds it after.
          if (type === 'core.conv2d' && bias) return tf.fused.conv2d({ x: padded, filter: k, strides: 1, pad: 'valid', bias });
          const y = type === 'core.conv2d' ? tf.conv2d(padded, k, 1, 'valid', 'NHWC', p.dilation ?? 1) : tf.depthwiseConv2d(padded, k, 1, 'valid');
          return bias ? tf.add(y, bias) : y;
        };
        const y = model.apply(x) as Tensor;
        const dys = tf.tensor(random(y.size, 1), y.shape);
        const loss = (f: () => Tensor) => () => tf.sum(tf.mul(f(), dys)) as ReturnType<TF['scalar']>;
        const mine = tf.variableGrads(
          loss(() => model.apply(x) as Tensor),
          weights as never,
        );
        const imageGrad = tf.grad((image: Tensor) => tf.sum(tf.mul(model.apply(image) as Tensor, dys)))(x);
        const [kernel, bias] = weights.map((w) => tf.clone(w));
        const refGrads = tf.grads((image: Tensor, k: Tensor, ...b: Tensor[]) => tf.sum(tf.mul(reference(image, k, b[0]), dys)))([
          x,
          kernel,
          ...(bias ? [bias] : []),
        ]);
        return [y, reference(x, kernel, bias), imageGrad, refGrads[0], ...weights.flatMap((w, i) => [mine.grads[w.name], refGrads[i + 1]])];
      });
    const out = await run();
    for (const backend of ['wasm', 'cpu'] as const) {
      const r = out[backend];
      const names = ['output', 'dx', 'dkernel', 'dbias'];
      for (let i = 0; i < r.length; i += 2) {
        assert.deepEqual(r[i].shape, r[i + 1].shape, `${backend} ${names[i / 2]} shape`);
        const gap = relativeGap(r[i].data, r[i + 1].data);
        assert.equal(gap, 0, `${backend} ${names[i / 2]}: relative gap ${gap.toExponential(2)}`);
      }
    }
  });
}
