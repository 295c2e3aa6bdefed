// Heap kernels for wasm added for training speed (PadV2, Cast, Add of a bias row, Im2ColRows, Unpack, ...) give the cpu backend's values exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../engine/backends/select.js';
import type { Tensor } from '../engine/blocks/contract.js';
import { IM2COL_ROWS } from '../engine/backends/wasm-heap-kernels.js';
import { FLIP_FILTER } from '../engine/backends/wasm-flip-filter.js';
import { simdKernels } from '../engine/backends/wasm-simd-kernels.js';
import { onBackends, seededUniform } from './helpers/numeric.js';

const ready = selectBackend({ backend: 'wasm' });

const random = seededUniform(4242);

/** Runs `f` on the cpu backend and on wasm. */
const onBoth = async (f: () => Tensor[]) => onBackends((await ready).tf, ['cpu', 'wasm'], f);

test('PadV2 of every rank, dtype, padding and constant: wasm matches cpu exactly', async () => {
  const { tf } = await ready;
  const xd = random(2 * 3 * 4 * 5);
  const { cpu, wasm } = await onBoth(() => {
    const x4 = tf.tensor4d(xd, [2, 3, 4, 5]);
    return [
      tf.pad(x4, [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ]),
      tf.pad(
        x4,
        [
          [0, 0],
          [0, 2],
          [3, 0],
          [0, 0],
        ],
        -1.5,
      ),
      tf.pad(x4, [
        [1, 0],
        [0, 0],
        [0, 0],
        [0, 0],
      ]),
      tf.pad(
        x4,
        [
          [0, 0],
          [0, 0],
          [0, 0],
          [2, 1],
        ],
        7,
      ),
      tf.pad(x4, [
        [1, 2],
        [0, 1],
        [2, 0],
        [1, 1],
      ]),
      tf.pad(x4, [
        [0, 0],
        [0, 0],
        [0, 0],
        [0, 0],
      ]),
      tf.pad(x4.reshape([120]), [[3, 4]]),
      tf.pad(x4.reshape([6, 20]), [
        [1, 0],
        [0, 2],
      ]),
      tf.pad(x4.reshape([2, 3, 4, 5, 1]), [
        [0, 0],
        [1, 1],
        [0, 0],
        [1, 1],
        [0, 0],
      ]),
      tf.pad(tf.tensor4d(xd.subarray(0, 64 * 1), [4, 4, 4, 1]), [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ]),
      tf.pad(
        x4.mul(100).toInt(),
        [
          [0, 1],
          [1, 0],
          [0, 0],
          [2, 2],
        ],
        3,
      ),
      tf
        .pad(tf.greater(x4, 0), [
          [1, 1],
          [0, 0],
          [1, 0],
          [0, 0],
        ])
        .toFloat(),
    ];
  });
  assert.equal(wasm.length, cpu.length);
  cpu.forEach((c, i) => assert.deepEqual(wasm[i], c, `pad case ${i}`));
});

test('Cast: to another dtype matches cpu; to its own dtype shares the data, which outlives its source', async () => {
  const { tf } = await ready;
  const xd = random(24).map((v) => v * 10);
  const { cpu, wasm } = await onBoth(() => {
    const x = tf.tensor3d(xd, [2, 3, 4]);
    const i = x.toInt();
    return [i, x.toBool(), i.toFloat(), tf.cast(x, 'float32'), tf.cast(i, 'int32'), tf.cast(x.toBool(), 'bool')];
  });
  cpu.forEach((c, i) => assert.deepEqual(wasm[i], c, `cast case ${i}`));

  await tf.setBackend('wasm');
  const before = tf.memory().numTensors;
  const a = tf.tensor1d([1.5, -2, 3]);
  const b = tf.cast(a, 'float32');
  a.dispose();
  assert.deepEqual(Array.from(b.dataSync()), [1.5, -2, 3]);
  b.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('Reverse of filters and sequences, on any axes, three dtypes, long and short runs: wasm matches cpu exactly', async () => {
  const { tf } = await ready;
  const fd = random(3 * 3 * 20 * 24);
  const { cpu, wasm } = await onBoth(() => {
    const f = tf.tensor4d(fd, [3, 3, 20, 24]);
    const seq = tf.tensor3d(fd.subarray(0, 2 * 7 * 5), [2, 7, 5]);
    return [
      tf.reverse(f, [0, 1]),
      tf.reverse(f, [1]),
      tf.reverse(f, [3]),
      tf.reverse(f, [0, 2]),
      tf.reverse(f, [-1, 0, 1, 2]),
      tf.reverse(seq, 1),
      tf.reverse(seq.toInt(), [1, 2]),
      tf.reverse(tf.greater(seq, 0.5), [0]),
      tf.reverse(f.reshape([1, 9, 480]), [0]),
      tf.reverse(tf.tensor1d(fd.subarray(0, 40)), 0),
    ];
  });
  assert.equal(wasm.length, cpu.length);
  cpu.forEach((c, i) => assert.deepEqual(wasm[i], c, `reverse case ${i}`));
});

test('FlipFilter on wasm: every phase of strides 1..3, turned and channel-swapped, as the cpu makes it with a strided slice, reverse and transpose', async () => {
  const { tf } = await ready;
  const [kh, kw, ci, co] = [3, 5, 6, 7];
  const fd = random(kh * kw * ci * co);
  const cases: [number, number, number, number][] = [];
  for (const [sh, sw] of [
    [1, 1],
    [2, 2],
    [3, 2],
    [1, 3],
  ])
    for (let ph = 0; ph < sh; ph++) for (let pw = 0; pw < sw; pw++) cases.push([ph, pw, sh, sw]);
  const { cpu, wasm } = await onBoth(() => {
    const f = tf.tensor4d(fd, [kh, kw, ci, co]);
    return cases.map(([phaseHeight, phaseWidth, strideHeight, strideWidth]) =>
      tf.getBackend() === 'wasm'
        ? (tf.engine().runKernel(FLIP_FILTER, { filter: f }, { phaseHeight, phaseWidth, strideHeight, strideWidth } as never) as Tensor)
        : tf.transpose(
            tf.reverse(tf.stridedSlice(f, [phaseHeight, phaseWidth, 0, 0], [kh, kw, ci, co], [strideHeight, strideWidth, 1, 1]), [0, 1]),
            [0, 1, 3, 2],
          ),
    );
  });
  cpu.forEach((c, i) => assert.deepEqual(wasm[i], c, `flip case ${cases[i].join(',')}`));
});

test('the ReLU gradient (Step, then a same-dtype Cast) matches cpu on wasm', async () => {
  const { tf } = await ready;
  const xd = random(2 * 5 * 5 * 3);
  const { cpu, wasm } = await onBoth(() => {
    const x = tf.tensor4d(xd, [2, 5, 5, 3]);
    return [tf.grad((x: Tensor) => tf.sum(tf.mul(tf.relu(x), x)))(x)];
  });
  assert.deepEqual(wasm, cpu);
});

test('Add of a row along the last axis (a bias), either operand first, and its gradient: wasm matches cpu exactly', async () => {
  const { tf } = await ready;
  const big = random(64 * 28 * 28 * 16);
  const xd = random(2 * 3 * 4 * 5);
  const rd = random(16);
  const { cpu, wasm } = await onBoth(() => {
    const x = tf.tensor4d(xd, [2, 3, 4, 5]);
    const r = tf.tensor1d(rd.subarray(0, 5));
    const out: Tensor[] = [
      tf.add(x, r),
      tf.add(r, x),
      tf.add(x, r.reshape([1, 1, 1, 5])),
      tf.add(r.reshape([1, 5]), x.reshape([24, 5])),
      tf.add(x.reshape([24, 5]), r.reshape([1, 1, 5])),
      tf.add(x, x),
      tf.add(x, tf.scalar(2)),
      tf.add(tf.tensor4d(big, [64, 28, 28, 16]), tf.tensor1d(rd)),
      tf.add(x.toInt(), r.toInt()).toFloat(),
      tf.add(tf.zeros([0, 4, 4, 5]), r), // an empty batch
      tf.add(tf.zeros([3, 0, 5]), r),
    ];
    const [dx, dr] = tf.grads((x: Tensor, r: Tensor) => tf.sum(tf.mul(tf.add(x, r), x)))([x, r]);
    return [...out, dx, dr];
  });
  cpu.forEach((c, i) => assert.deepEqual(wasm[i], c, `add case ${i}`));
});

test('Im2ColRows on wasm: the taps of a stride-1 window, padded and dilated, as the cpu builds them from a pad, slices and a stack', async () => {
  const { tf } = await ready;
  for (const [n, h, w, ci, k, dil, top, left, ho, wo] of [
    [2, 5, 6, 1, 3, 1, 1, 1, 5, 6], // 'same'
    [2, 5, 6, 3, 3, 1, 1, 1, 5, 6],
    [3, 6, 5, 2, 2, 1, 0, 0, 5, 4], // 'valid'
    [1, 7, 7, 1, 3, 2, 2, 2, 7, 7], // dilated 'same'
    [2, 4, 4, 2, 1, 1, 0, 0, 4, 4],
  ]) {
    const xd = random(n * h * w * ci);
    await tf.setBackend('cpu');
    const expected = tf.tidy(() => {
      const x = tf.tensor4d(xd, [n, h, w, ci]);
      const span = (k - 1) * dil;
      const xp = tf.pad(x, [
        [0, 0],
        [top, Math.max(0, ho + span - h - top)],
        [left, Math.max(0, wo + span - w - left)],
        [0, 0],
      ]);
      const taps: Tensor[] = [];
      for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) taps.push(tf.slice(tf.transpose(xp, [3, 0, 1, 2]), [0, 0, a * dil, b * dil], [ci, n, ho, wo]));
      return Array.from(
        tf
          .stack(taps)
          .reshape([k * k * ci, n * ho * wo])
          .dataSync(),
      );
    });
    await tf.setBackend('wasm');
    const attrs = { filterHeight: k, filterWidth: k, dilationHeight: dil, dilationWidth: dil, padTop: top, padLeft: left, outHeight: ho, outWidth: wo };
    const actual = tf.tidy(() => {
      const rows = tf.engine().runKernel(IM2COL_ROWS, { x: tf.tensor4d(xd, [n, h, w, ci]) }, attrs as never) as Tensor;
      assert.deepEqual(rows.shape, [k * k * ci, n * ho * wo]);
      return Array.from(rows.dataSync());
    });
    assert.deepEqual(actual, expected, JSON.stringify(attrs));
  }
});

test('MaxPoolGrad 2x2/2 without branches (JS, 2 channels; wasm SIMD, 4 and 8): every order, tie, NaN and -Infinity pattern of a window goes where the cpu sends it', async () => {
  const { tf } = await ready;
  assert.ok(simdKernels(tf.backend()), 'the SIMD kernels compile on this wasm backend');
  // Every window from 4 values, 4 taps: 256 windows side by side, each channel a permutation of the taps.
  // With a NaN a SIMD row falls back to the general rule; without, the SIMD lanes decide ties and -Infinity alone.
  for (const values of [
    [-Infinity, 0, 1, NaN],
    [-Infinity, 0, 1, 2],
  ]) {
    for (const channels of [2, 4, 8]) {
      const windows = 256;
      const xd = new Float32Array(2 * 2 * windows * channels);
      for (let k = 0; k < windows; k++) {
        const taps = [0, 1, 2, 3].map((t) => values[(k >> (2 * t)) & 3]);
        for (let ch = 0; ch < channels; ch++) {
          const v = [0, 1, 2, 3].map((t) => taps[ch & 1 ? 3 - ((t + (ch >> 1)) & 3) : (t + (ch >> 1)) & 3]);
          xd[(0 * 2 * windows + 2 * k) * channels + ch] = v[0];
          xd[(0 * 2 * windows + 2 * k + 1) * channels + ch] = v[1];
          xd[(1 * 2 * windows + 2 * k) * channels + ch] = v[2];
          xd[(1 * 2 * windows + 2 * k + 1) * channels + ch] = v[3];
        }
      }
      const { cpu, wasm } = await onBoth(() => {
        const input = tf.tensor4d(xd, [1, 2, 2 * windows, channels]);
        const output = tf.maxPool(input, 2, 2, 'valid');
        const dy = tf.range(1, output.size + 1).reshape(output.shape);
        return [tf.engine().runKernel('MaxPoolGrad', { dy, input, output }, { filterSize: 2, strides: 2, pad: 'valid' }) as Tensor];
      });
      assert.deepEqual(wasm, cpu, `values ${values}, ${channels} channels`);
    }
  }
});

test('MaxPoolGrad 2x2/2 by SIMD rows where windows leave a row and a column out, with ties and a NaN row: wasm matches cpu to the bit', async () => {
  const { tf } = await ready;
  const xd = random(3 * 7 * 9 * 8).map((v) => Math.round(v * 3));
  xd[5 * 9 * 8 + 11] = NaN; // image 0, row 5: the third output row of image 0 takes the general rule
  const dyd = random(3 * 3 * 4 * 8);
  const { cpu, wasm } = await onBoth(() => {
    const input = tf.tensor4d(xd, [3, 7, 9, 8]);
    const output = tf.maxPool(input, 2, 2, 'valid');
    const dy = tf.tensor4d(dyd, [3, 3, 4, 8]);
    return [tf.engine().runKernel('MaxPoolGrad', { dy, input, output }, { filterSize: 2, strides: 2, pad: 'valid' }) as Tensor];
  });
  assert.deepEqual(wasm, cpu);
});

test('Mean over contiguous axes gives the cpu result to the bit on wasm, in JS and in wasm SIMD (each element divided, then summed in float64)', async () => {
  const { tf } = await ready;
  const cases: [number[], number[]][] = [
    [
      [64, 14, 14, 32],
      [1, 2],
    ],
    [
      [4, 5, 6, 7],
      [0, 1, 2],
    ],
    [[4, 5, 6, 7], [1]],
    [
      [4, 1, 6, 7],
      [1, 2],
    ],
    [
      [3, 5, 1, 6, 1],
      [-4, -3],
    ],
    // wasm SIMD divides and adds 16, 8 and 4 columns per pass: 29 = 16 + 8 + 4 + 1.
    [[3, 5, 29], [1]],
    [
      [2, 3, 4, 12],
      [1, 2],
    ],
  ];
  for (const [shape, axes] of cases) {
    const xd = random(shape.reduce((a, b) => a * b)).map((v) => v * 1000);
    for (const keepDims of [false, true]) {
      const { cpu, wasm } = await onBoth(() => [tf.mean(tf.tensor(xd, shape), axes, keepDims)]);
      assert.deepEqual(wasm, cpu, `mean of ${shape} over ${axes}, keepDims ${keepDims}`);
    }
  }
});

test('Concat and SplitV on every axis, with short and long runs, empty parts and three dtypes: wasm matches cpu exactly', async () => {
  const { tf } = await ready;
  const a = random(2 * 3 * 5 * 2);
  const b = random(2 * 3 * 5 * 3);
  const long = random(2 * 70);
  const { cpu, wasm } = await onBoth(() => {
    const x = tf.tensor4d(a, [2, 3, 5, 2]);
    const y = tf.tensor4d(b, [2, 3, 5, 3]);
    const twin = tf.slice(y, [0, 0, 0, 1], [2, 3, 5, 2]);
    const joined = [3, 2, 1, 0].map((axis) => tf.concat([x, twin, x], axis));
    return [
      // CBAM's join of two single-channel maps: runs of one element.
      tf.concat([x.slice([0, 0, 0, 0], [2, 3, 5, 1]), y.slice([0, 0, 0, 2], [2, 3, 5, 1])], 3),
      tf.concat([x, y], -1),
      ...joined,
      tf.concat([tf.tensor2d(long, [2, 70]), tf.tensor2d(long.slice(0, 2 * 65), [2, 65]), tf.zeros([2, 0])], 1),
      tf.concat([tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), tf.tensor2d([5, 6], [2, 1], 'int32')], 1),
      tf.concat([tf.tensor1d([1, 0, 1], 'bool'), tf.tensor1d([0, 1], 'bool')]),
      ...tf.split(y, [1, 2], 3),
      ...tf.split(y, [1, 0, 2], 3),
      ...tf.split(y, 3, 1),
      ...tf.split(tf.tensor2d(long, [2, 70]), [64, 6], 1),
      ...tf.split(tf.tensor3d([1, 2, 3, 4, 5, 6], [1, 3, 2], 'int32'), [2, 1], 1),
      // Columns of every row, in a loop of their own: bool, and a vector.
      ...tf.split(tf.tensor2d([1, 0, 1, 1, 0, 0], [3, 2], 'bool'), 2, 1),
      tf.slice(tf.tensor1d(long), [3], [5]),
    ];
  });
  assert.deepEqual(wasm, cpu);
});

test('Unpack on every axis and three dtypes, and the gradient of a sequence read step by step: wasm matches cpu exactly', async () => {
  const { tf } = await ready;
  const a = random(4 * 3 * 5);
  const w = random(4 * 5);
  const { cpu, wasm } = await onBoth(() => {
    const x = tf.tensor3d(a, [4, 3, 5]);
    // A GRU's read of its input [batch, time, features] one time step at a time, and its gradient.
    const steps = tf.grads((s: Tensor) => tf.addN(tf.unstack(s, 1).map((t, i) => t.mul(tf.tensor2d(w, [4, 5]).mul(i + 1)))).sum())([x]);
    return [
      ...[0, 1, 2].flatMap((axis) => tf.unstack(x, axis)),
      ...tf.unstack(x, -1),
      ...tf.unstack(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), 1),
      ...tf.unstack(tf.tensor1d([1, 0, 1], 'bool')),
      ...steps,
    ];
  });
  assert.deepEqual(wasm, cpu);
});

test('Concat gradient through SplitV: the two single-channel maps of CBAM get their own gradients back on wasm', async () => {
  const { tf } = await ready;
  const a = random(64);
  const b = random(64);
  const w = random(128);
  const { cpu, wasm } = await onBoth(() => {
    const x = tf.tensor4d(a, [2, 4, 8, 1]);
    const y = tf.tensor4d(b, [2, 4, 8, 1]);
    const weights = tf.tensor4d(w, [2, 4, 8, 2]);
    const grads = tf.grads((p: Tensor, q: Tensor) => tf.concat([p, q], 3).mul(weights).sum())([x, y]);
    return grads;
  });
  assert.deepEqual(wasm, cpu);
});
