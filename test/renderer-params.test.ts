// The summary's per-node parameter counts (built block by block, as the
// editor's worker does) equal what the compiler attributes to each node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { analyzeGraph } from '../engine/shapes/analyze.js';
import { compileGraph } from '../engine/compile/compile.js';
import { registry } from '../engine/blocks/registry.js';
import { countBlockParams, countRequests } from '../renderer/src/params/count.js';
import { openGraphText } from '../renderer/src/store/load.js';
import { tfReady } from './helpers/tf.js';

const templates = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'templates');

for (const name of ['mnist-cnn', 'mlp', 'gru-tagger']) {
  test(`${name}: per-node counts equal the compiled model's`, async () => {
    const tf = await tfReady;
    const opened = openGraphText(readFileSync(join(templates, `${name}.attn.json`), 'utf8'));
    assert.ok(opened.ok);
    const analysis = analyzeGraph(opened.graph);
    const requests = countRequests(opened.graph, analysis);
    assert.equal(requests.size, opened.graph.nodes.length, 'every node of a valid graph gets a request');
    const compiled = compileGraph(tf, opened.graph);
    try {
      let total = 0;
      for (const [id, req] of requests) {
        const n = countBlockParams(tf, registry.get(req.type)!, req);
        assert.equal(n, compiled.nodeParams.get(id)?.params ?? 0, `${id} (${req.type})`);
        total += n;
      }
      assert.equal(total, compiled.params);
      assert.ok(total > 0);
    } finally {
      compiled.model.dispose();
    }
  });
}

test('requests are keyed by what decides the count', () => {
  const opened = openGraphText(readFileSync(join(templates, 'mlp.attn.json'), 'utf8'));
  assert.ok(opened.ok);
  const a = countRequests(opened.graph, analyzeGraph(opened.graph));
  const moved = { ...opened.graph, nodes: opened.graph.nodes.map((n) => ({ ...n, position: { x: n.position.x + 50, y: 0 } })) };
  const b = countRequests(moved, analyzeGraph(moved));
  for (const [id, r] of a) assert.equal(b.get(id)?.key, r.key, `moving ${id} keeps its key`);
});
