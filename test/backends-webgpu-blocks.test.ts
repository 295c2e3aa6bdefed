// Every block's example on tfjs' WebGPU backend (Dawn) against the cpu backend:
// outputs and gradients. Missing or wrong WebGPU kernels show up here.
import { test } from 'node:test';
import { blockExamples, checkBlockParity } from './helpers/block-parity.js';
import { webgpuOrSkip } from './helpers/webgpu.js';

for (const ex of blockExamples()) {
  test(`${ex.name}: outputs and gradients on webgpu match cpu`, async (t) => {
    const got = await webgpuOrSkip(t, `${ex.name} on webgpu (its outputs and gradients against cpu)`);
    if (got) await checkBlockParity(got.tf, 'webgpu', ex);
  });
}
