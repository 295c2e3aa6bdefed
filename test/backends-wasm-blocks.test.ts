// Every block's example trains on the wasm backend: the gradient of a loss over
// its outputs, with respect to every weight and float input, matches the cpu
// backend's. This is how missing or wrong wasm gradient kernels show up.
import { test } from 'node:test';
import { selectBackend } from '../engine/backends/select.js';
import { blockExamples, checkBlockParity } from './helpers/block-parity.js';

const ready = selectBackend({ backend: 'wasm' });

for (const ex of blockExamples()) {
  test(`${ex.name}: gradients on wasm match cpu`, async () => {
    const { tf } = await ready;
    await checkBlockParity(tf, 'wasm', ex);
  });
}
