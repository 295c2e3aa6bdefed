// The wasm kernels added for the templates of the zoo benchmark (Tile, batch
// norm forward and its one-pass gradient, ...) give the cpu backend's values to the bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../engine/backends/select.js';
import type { Tensor } from '../engine/blocks/contract.js';
import { onBackends, seededUniform } from './helpers/numeric.js';

const ready = selectBackend({ backend: 'wasm' });
const random = seededUniform(1919);

/** Runs `f` on the cpu backend and on wasm. */
const onBoth = async (f: () => Tensor[]) => onBackends((await ready).tf, ['cpu', 'wasm'], f);

function assertSame(cpu: Awaited<ReturnType<typeof onBoth>>['cpu'], wasm: typeof cpu, what: string) {
  assert.equal(wasm.length, cpu.length);
  cpu.forEach((c, i) => assert.deepEqual(wasm[i], c, `${what} case ${i}`));
}

test('Tile of every rank and dtype, a batch norm spread among them: wasm matches cpu exactly', async () => {
  const { tf } = await ready;
  const xd = random(2 * 3 * 4 * 5);
  const { cpu, wasm } = await onBoth(() => {
    const x4 = tf.tensor4d(xd, [2, 3, 4, 5]);
    return [
      tf.tile(tf.tensor4d(xd.subarray(0, 16), [1, 1, 1, 16]), [64, 28, 28, 1]),
      tf.tile(x4, [1, 1, 1, 1]),
      tf.tile(x4, [2, 1, 3, 1]),
      tf.tile(x4, [1, 2, 1, 3]),
      tf.tile(x4.reshape([120]), [3]),
      tf.tile(x4.reshape([6, 20]), [2, 2]),
      tf.tile(x4.reshape([2, 3, 20, 1]), [1, 1, 1, 4]),
      tf.tile(x4.reshape([2, 3, 4, 5, 1]), [2, 1, 2, 1, 3]),
      tf.tile(x4.mul(100).toInt(), [1, 2, 2, 1]),
      tf.tile(tf.greater(x4, 0.5), [2, 1, 1, 2]).toFloat(),
    ];
  });
  assertSame(cpu, wasm, 'tile');
});

test('batch norm forward, and its gradient for x, mean, variance, scale and offset (alone and through moments): wasm matches cpu exactly', async () => {
  const { tf } = await ready;
  const shapes = [
    [4, 5, 6, 16],
    [3, 7, 5],
    [9, 12],
    [2, 3, 3, 1],
  ];
  for (const shape of shapes) {
    const c = shape[shape.length - 1];
    const xd = random(shape.reduce((a, b) => a * b, 1)).map((v) => v * 4 - 1);
    const dyd = random(xd.length).map((v) => v * 2 - 1);
    const md = random(c);
    const vd = random(c).map((v) => v + 0.01);
    const sd = random(c).map((v) => v * 2 - 1);
    const od = random(c);
    const { cpu, wasm } = await onBoth(() => {
      const x = tf.tensor(xd, shape);
      const dy = tf.tensor(dyd, shape);
      const [m, v, s, o] = [md, vd, sd, od].map((d) => tf.tensor1d(d));
      const bn = (a: Tensor, mm: Tensor, vv: Tensor, ss: Tensor, oo: Tensor) => tf.batchNorm(a, mm, vv, oo, ss, 1e-3);
      const direct = tf.grads(bn as never)([x, m, v, s, o], dy);
      // As a BatchNormalization layer trains: the batch's own moments. (With one channel the moments
      // are sums over the last axis, where wasm's own Sum adds in another order than cpu: left out.)
      const throughMoments =
        c === 1
          ? []
          : tf.grads(((a: Tensor, ss: Tensor, oo: Tensor) => {
              const { mean, variance } = tf.moments(
                a,
                shape.slice(0, -1).map((_, i) => i),
              );
              return tf.batchNorm(a, mean, variance, oo, ss, 1e-5);
            }) as never)([x, s, o], dy);
      return [bn(x, m, v, s, o), ...direct, ...throughMoments, tf.batchNorm(x, m, v)];
    });
    assertSame(cpu, wasm, `batch norm ${shape}`);
  }
});

test("Tile's gradient (replicas added in order, float32): wasm matches cpu exactly, ranks 1 to 4", async () => {
  const { tf } = await ready;
  const xd = random(2 * 3 * 4 * 5);
  const cases: [number[], number[]][] = [
    [
      [1, 10, 12],
      [64, 1, 1],
    ],
    [[120], [3]],
    [
      [6, 20],
      [2, 3],
    ],
    [
      [2, 3, 4, 5],
      [2, 1, 3, 2],
    ],
    [
      [1, 1, 1, 5],
      [4, 3, 2, 1],
    ],
  ];
  for (const [shape, reps] of cases) {
    const size = shape.reduce((a, b) => a * b, 1);
    const dyd = random(size * reps.reduce((a, b) => a * b, 1)).map((v) => v * 3 - 1);
    const { cpu, wasm } = await onBoth(() => {
      const x = tf.tensor(xd.subarray(0, size), shape);
      const dy = tf.tensor(
        dyd,
        shape.map((d, i) => d * reps[i]),
      );
      return tf.grads(((a: Tensor) => tf.tile(a, reps)) as never)([x], dy);
    });
    assertSame(cpu, wasm, `tile grad ${shape} x ${reps}`);
  }
});

test('Transpose of rank 5 with neighbouring axes merged, an identity perm, or moving only size-1 axes, and GatherV2 of rows on any axis: wasm matches cpu exactly', async () => {
  const { tf } = await ready;
  const xd = random(6 * 5 * 4 * 2 * 3);
  const ids = [4, 0, 2, 2, 1, 3, 0];
  const { cpu, wasm } = await onBoth(() => {
    const x5 = tf.tensor(xd, [6, 5, 4, 2, 3]);
    return [
      tf.transpose(x5, [2, 3, 0, 1, 4]),
      tf.transpose(x5, [4, 0, 1, 2, 3]),
      tf.transpose(x5, [0, 2, 1, 3, 4]),
      tf.transpose(x5.reshape([6, 5, 1, 8, 3]), [3, 2, 0, 4, 1]),
      tf.transpose(x5.mul(100).toInt(), [3, 4, 0, 1, 2]),
      // Only size-1 axes move: the output shares the input's data, which the tidy then disposes.
      tf.transpose(x5.reshape([30, 24]), [0, 1]),
      tf.transpose(x5.reshape([6, 5, 1, 24]), [0, 2, 1, 3]),
      tf.transpose(x5.reshape([6, 1, 5, 24]).mul(3).toInt(), [0, 2, 1, 3]),
      tf.gather(x5.reshape([30, 24]), tf.tensor1d(ids, 'int32')),
      tf.gather(x5, tf.tensor2d([1, 0, 3, 3], [2, 2], 'int32'), 2),
      tf.gather(x5.reshape([6, 5, 24]).mul(10).toInt(), tf.tensor1d([4, 4, 0], 'int32'), 1),
      tf.gather(x5.reshape([720]), tf.tensor1d(ids, 'int32')),
    ];
  });
  assertSame(cpu, wasm, 'transpose/gather');
});

test('the gradient of Max and Min over any axes, ties included (JS, and wasm SIMD for 8 channels): wasm matches cpu exactly', async () => {
  const { tf } = await ready;
  for (const channels of [3, 8]) {
    // Values on a coarse grid, so that ties are common; a NaN in x, infinities in dy (dy · 0 is NaN there).
    const xd = random(4 * 5 * 6 * channels).map((v) => Math.round(v * 4) / 4);
    xd[7] = NaN;
    const dyd = random(xd.length).map((v) => v * 2 - 1);
    dyd[1] = Infinity;
    dyd[2] = -Infinity;
    const { cpu, wasm } = await onBoth(() => {
      const x = tf.tensor4d(xd, [4, 5, 6, channels]);
      const cases: [(t: Tensor) => Tensor][] = [
        [(t) => tf.max(t, -1, true)],
        [(t) => tf.max(t, [1, 2], true)],
        [(t) => tf.max(t, [1, 2])],
        [(t) => tf.min(t, 0)],
        [(t) => tf.max(t)],
        [(t) => tf.min(t, [0, 3], true)],
      ];
      return cases.flatMap(([f]) => {
        const y = f(x);
        const dy = tf.tensor(dyd.subarray(0, y.size), y.shape);
        return tf.grads(f as never)([x], dy);
      });
    });
    assertSame(cpu, wasm, `max/min grad, ${channels} channels`);
  }
});

test('binary ops with one operand spread over the other (rows, per-sample rows, maps), either side: wasm matches cpu exactly', async () => {
  const { tf } = await ready;
  const xd = random(3 * 4 * 5 * 6).map((v) => v * 4 - 2);
  const sd = random(3 * 4 * 5 * 6).map((v) => v * 2 + 0.1);
  const { cpu, wasm } = await onBoth(() => {
    const x = tf.tensor4d(xd, [3, 4, 5, 6]);
    const spread = [[6], [1, 6], [3, 1, 1, 6], [1, 4, 1, 6], [3, 4, 5, 1], [4, 5, 6], [1]].map((s) =>
      tf.tensor(
        sd.subarray(
          0,
          s.reduce((a, b) => a * b, 1),
        ),
        s,
      ),
    );
    return spread.flatMap((s) => [tf.mul(x, s), tf.sub(s, x), tf.div(x, s), tf.div(s, x), tf.add(s, x), tf.sub(x.toInt(), s.toInt()).toFloat()]);
  });
  assertSame(cpu, wasm, 'spread binary');
  // wasm's SquaredDifference rounds a - b to float32 before squaring, cpu does not: compared with wasm's own on equal shapes.
  await tf.setBackend('wasm');
  const x = tf.tensor4d(xd, [3, 4, 5, 6]);
  for (const shape of [[6], [3, 1, 1, 6], [1, 4, 1, 6]]) {
    const s = tf.tensor(
      sd.subarray(
        0,
        shape.reduce((a, b) => a * b, 1),
      ),
      shape,
    );
    const whole = tf.tile(
      s.reshape([...new Array(4 - shape.length).fill(1), ...shape]),
      [3, 4, 5, 6].map((d, i) => d / [...new Array(4 - shape.length).fill(1), ...shape][i]),
    );
    assert.deepEqual(tf.squaredDifference(x, s).dataSync(), tf.squaredDifference(x, whole).dataSync(), `squaredDifference ${shape}`);
  }
});
