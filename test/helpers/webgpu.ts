// The webgpu backend where this machine has an adapter Dawn accepts (in CI:
// Mesa's lavapipe from bookworm-backports), forced so that a software adapter
// counts; tests skip with a notice naming what goes unchecked where there is none.
import type { TestContext } from 'node:test';
import { selectBackend, type SelectedBackend } from '../../engine/backends/select.js';

let loading: Promise<SelectedBackend | string> | undefined;

/** tfjs on webgpu, or why it cannot run here. */
export function webgpuBackend(): Promise<SelectedBackend | string> {
  loading ??= selectBackend({ backend: 'webgpu' }).catch((e: Error) => `${e.message} (in CI: apt-get install -t bookworm-backports mesa-vulkan-drivers)`);
  return loading;
}

/** Skips `t`, with a notice naming what goes unchecked, where webgpu cannot run; else tfjs on it. */
export async function webgpuOrSkip(t: TestContext, what: string): Promise<SelectedBackend | undefined> {
  const got = await webgpuBackend();
  if (typeof got !== 'string') return got;
  console.log(`NOTICE: skipping ${what}: ${got}`);
  t.skip(got);
  return undefined;
}
