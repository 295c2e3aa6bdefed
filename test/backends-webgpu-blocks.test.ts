// Every block's example on tfjs' WebGPU backend (Dawn) against the cpu backend:
// outputs and gradients. Missing or wrong WebGPU kernels show up here.
//
// On a software adapter (lavapipe in CI: a CPU compiling every shader) the
// examples listed in SLOW_ON_SOFTWARE run only with ATTN_LONG_TESTS=1; the
// block's other examples still run.
import { test } from 'node:test';
import { blockExamples, checkBlockParity } from './helpers/block-parity.js';
import { webgpuOrSkip } from './helpers/webgpu.js';

/** Over a minute each on lavapipe on a loaded 2-core machine (the whole rest takes about as long). */
const SLOW_ON_SOFTWARE = new Set(['attention.localSelfAttention2d example 1']);
const long = process.env.ATTN_LONG_TESTS === '1';

for (const ex of blockExamples()) {
  test(`${ex.name}: outputs and gradients on webgpu match cpu`, async (t) => {
    const got = await webgpuOrSkip(t, `${ex.name} on webgpu (its outputs and gradients against cpu)`);
    if (!got) return;
    if (got.adapter?.software && SLOW_ON_SOFTWARE.has(ex.name) && !long) {
      console.log(`NOTICE: skipping ${ex.name} on webgpu on a software adapter (slow): set ATTN_LONG_TESTS=1 to check it`);
      return t.skip('slow on a software adapter; ATTN_LONG_TESTS=1 runs it');
    }
    await checkBlockParity(got.tf, 'webgpu', ex);
  });
}
