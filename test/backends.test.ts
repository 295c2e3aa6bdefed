// Backend selection: the automatic choice falls back past native packages that
// cannot load and says why; a forced backend runs or fails with its reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { selectBackend, BACKEND_ORDER } from '../engine/backends/select.js';

const require = createRequire(import.meta.url);
function loads(pkg: string): boolean {
  try {
    require(pkg);
    return true;
  } catch {
    return false;
  }
}

test('auto picks the best backend that runs and lists the better ones it skipped', async () => {
  const r = await selectBackend();
  assert.ok(BACKEND_ORDER.includes(r.backend));
  assert.deepEqual(
    r.skipped.map((s) => s.backend),
    BACKEND_ORDER.slice(0, BACKEND_ORDER.indexOf(r.backend)),
  );
  for (const s of r.skipped) assert.ok(s.reason.length > 5, `reason for ${s.backend}`);
  const sum = r.tf.tidy(() => r.tf.tensor1d([1, 2, 3]).sum().dataSync()[0]);
  assert.equal(sum, 6);
});

for (const [backend, pkg] of [
  ['tensorflow-gpu', '@tensorflow/tfjs-node-gpu'],
  ['tensorflow', '@tensorflow/tfjs-node'],
] as const) {
  test(`forcing ${backend} runs it, or fails naming ${pkg} and why`, async (t) => {
    if (loads(pkg)) {
      t.diagnostic(`${pkg} loads on this machine`);
      const r = await selectBackend({ backend });
      assert.equal(r.tf.getBackend(), 'tensorflow');
      return;
    }
    await assert.rejects(selectBackend({ backend }), (e: Error) => {
      assert.match(e.message, new RegExp(`backend '${backend}' is not available: .*${pkg.replace('/', '\\/')}`));
      return true;
    });
  });
}

test('forcing wasm then cpu switches the tfjs engine', async () => {
  const w = await selectBackend({ backend: 'wasm' });
  assert.equal(w.backend, 'wasm');
  assert.equal(w.tf.getBackend(), 'wasm');
  assert.deepEqual(w.skipped, []);
  const c = await selectBackend({ backend: 'cpu' });
  assert.equal(c.tf.getBackend(), 'cpu');
  assert.equal(c.tf, w.tf, 'one tfjs instance');
});

test('an unknown backend name is refused', async () => {
  await assert.rejects(selectBackend({ backend: 'metal' as never }), /unknown backend 'metal'/);
});
