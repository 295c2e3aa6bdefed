// ONNX export: our PyTorch export through torch.onnx.export (opset 17, dynamic
// batch axis), run with onnxruntime-node on the same weights and inputs as the
// compiled tfjs model: outputs within 1e-4, for every small template. Also the
// CLI's `--to onnx` and its message where no Python with torch is found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { exportOnnx, OnnxExportError } from '../engine/export/onnx.js';
import { TORCH_DIR } from '../engine/export/torch-sources.js';
import { tfReady } from './helpers/tf.js';
import { loadTemplate, templateFiles } from './helpers/graphs.js';
import { PYTHON, prepareTorchCase, skipWithoutTorch } from './helpers/torch.js';

test("ONNX exports of the small templates give tfjs's outputs within 1e-4 under onnxruntime", async (t) => {
  if (skipWithoutTorch(t, 'the ONNX export (torch.onnx.export)')) return;
  const tf = await tfReady;
  const cases = templateFiles().map((f) => ({ f, c: prepareTorchCase(tf, loadTemplate(f)) }));
  const jobs = cases.map(({ c }) => [join(c.dir, 'model.py'), join(c.dir, 'model.onnx'), join(c.dir, 'weights.safetensors')]);
  writeFileSync(join(cases[0].c.dir, 'jobs.json'), JSON.stringify(jobs));
  const out = execFileSync(PYTHON, [join(TORCH_DIR, 'to_onnx.py'), '--many', join(cases[0].c.dir, 'jobs.json')], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const results = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { error?: string });
  let worst = 0;
  for (const [i, { f, c }] of cases.entries()) {
    await t.test(f, async () => {
      assert.equal(results[i].error, undefined, results[i].error);
      const session = await ort.InferenceSession.create(readFileSync(jobs[i][1]));
      const feeds: Record<string, ort.Tensor> = {};
      session.inputNames.forEach((name, k) => {
        const x = c.inputs[k];
        feeds[name] =
          x.dtype === 'int32'
            ? new ort.Tensor(
                'int64',
                BigInt64Array.from(x.data, (v) => BigInt(v)),
                x.shape,
              )
            : new ort.Tensor('float32', x.data as Float32Array, x.shape);
      });
      const got = await session.run(feeds);
      assert.equal(session.outputNames.length, c.expected.length, 'outputs');
      session.outputNames.forEach((name, k) => {
        const y = got[name];
        assert.deepEqual([...y.dims], c.expected[k].shape, `${name} shape`);
        const data = y.data as Float32Array;
        let diff = 0;
        data.forEach((v, j) => (diff = Math.max(diff, Math.abs(v - c.expected[k].data[j]))));
        assert.ok(diff <= 1e-4, `${name}: max |Δ| ${diff}`);
        worst = Math.max(worst, diff);
      });
      // The batch axis is dynamic: a batch of one runs too.
      const one: Record<string, ort.Tensor> = {};
      for (const [name, x] of Object.entries(feeds)) {
        const size = x.size / x.dims[0];
        one[name] = new ort.Tensor(x.type as 'float32', (x.data as Float32Array).slice(0, size) as never, [1, ...x.dims.slice(1)]);
      }
      const single = await session.run(one);
      assert.equal(single[session.outputNames[0]].dims[0], 1);
      await session.release();
    });
  }
  console.log(`ONNX vs tfjs: largest |Δ| ${worst.toExponential(2)} over ${cases.length} templates`);
});

test('the ONNX export names the fix where no Python with torch is found', async () => {
  await assert.rejects(
    exportOnnx(loadTemplate('mlp.attn.json'), { pythons: ['/nonexistent/python3'] }),
    (e: unknown) =>
      e instanceof OnnxExportError &&
      /needs a Python with PyTorch: none of \/nonexistent\/python3 imports torch/.test(e.message) &&
      /ATTN_PYTHON/.test(e.message),
  );
});
