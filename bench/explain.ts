// Milliseconds per explanation (one sample, the predicted class, the default
// layer) on the backend in use: Grad-CAM (which computes Grad-CAM++ and
// HiResCAM from the same gradient) and attention rollout, for the small
// templates and ResNet-50 at 224×224. Weights as compiled (the cost does not
// depend on training). Median of `repeats` after one warm-up.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend, type BackendOption } from '../engine/backends/select.js';
import { compileGraph } from '../engine/compile/compile.js';
import { explain, type ExplainMethod } from '../engine/explain/index.js';
import { ExplainError } from '../engine/explain/target.js';
import type { GraphFile } from '../engine/graph/types.js';

const TEMPLATES = fileURLToPath(new URL('../../templates/', import.meta.url));
const SMALL = ['cbam-mnist-small', 'mnist-cnn', 'se-resnet20-mnist', 'vit-tiny-mnist'];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchExplain(opts: { backend?: BackendOption; repeats?: number } = {}) {
  const { tf, backend } = await selectBackend({ backend: opts.backend ?? 'auto' });
  const rows = [];
  for (const name of [...SMALL, 'resnet50']) {
    const graph = JSON.parse(readFileSync(path.join(TEMPLATES, `${name}.attn.json`), 'utf8')) as GraphFile;
    const compiled = compileGraph(tf, graph);
    const shape = compiled.inputs[0].shape.map((d, i) => (i === 0 ? 1 : (d as number)));
    const x = tf.randomUniform(shape, 0, 1, 'float32', 1);
    const repeats = opts.repeats ?? (name === 'resnet50' ? 3 : 10);
    const row: Record<string, unknown> = { template: name, input: shape.slice(1), params: compiled.params };
    for (const method of ['gradcam', 'rollout'] as ExplainMethod[]) {
      try {
        const first = await explain(tf, graph, compiled, x, { method });
        const ms: number[] = [];
        for (let i = 0; i < repeats; i++) {
          const t0 = performance.now();
          await explain(tf, graph, compiled, x, { method });
          ms.push(performance.now() - t0);
        }
        row[method] = { ms: +median(ms).toFixed(1), layer: first.layers.map((l) => `${l.nodeId}.${l.port}`).join(' → '), map: `${first.rows}×${first.cols}` };
      } catch (err) {
        if (!(err instanceof ExplainError)) throw err;
        row[method] = { skipped: err.message };
      }
    }
    x.dispose();
    compiled.model.dispose();
    rows.push(row);
  }
  return { backend, repeats: opts.repeats ?? { small: 10, resnet50: 3 }, templates: rows };
}
