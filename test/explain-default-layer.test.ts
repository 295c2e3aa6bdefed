// Grad-CAM's default layer on every template, decided from the graph alone
// (engine/shapes/feature-map.ts): a named node whose output is a spatial map
// (or a ViT's tokens on their patch grid), never a layer that only pools an
// earlier map; and the PyTorch export's forward_features() ends at the same
// node, so the exported grad_cam() without a layer weighs the same map.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultLayer, ExplainError } from '../engine/explain/index.js';
import { exportPytorch } from '../engine/export/pytorch.js';
import { analyzeGraph } from '../engine/shapes/analyze.js';
import { isSpatialMap, onlyPoolsItsInput } from '../engine/shapes/feature-map.js';
import { inlineGraph } from '../engine/shapes/inline.js';
import { loadTemplate, templateFiles } from './helpers/graphs.js';

/** The layer chosen on some templates, as a person who knows them would choose it. */
const EXPECTED: Record<string, string> = {
  // conv → pool → CBAM → pool → flatten → dense: the CBAM output at 14×14, not pool2's 7×7 max of it.
  'cbam-mnist-small.attn.json': 'cbam 14×14',
  // Fully convolutional at 28×28 into a global-average-pooling head: the CBAM output the head pools.
  'cbam-gap-mnist.attn.json': 'cbam 28×28',
  // The last convolution (the Grad-CAM paper's choice), not the max-pool after it.
  'mnist-cnn.attn.json': 'conv2 14×14',
  'bench-se-cnn.attn.json': 'se 14×14',
  // A ResNet: its last block's output, which the head pools globally (pytorch-grad-cam's layer4[-1]).
  'resnet50.attn.json': 'stage4/rest#2/relu3 7×7',
  'se-resnet20-mnist.attn.json': 'stage3/rest#2/relu2 7×7',
  'residual-attention-56.attn.json': 'reluFinal 7×7',
  // A ViT: the tokens entering its last self-attention, on the 4×4 patch grid.
  'vit-tiny-mnist.attn.json': 'encoders#1/layer 4×4',
};

for (const file of templateFiles({ large: true })) {
  test(`${file}: the default Grad-CAM layer is a named spatial map, and forward_features() ends there`, () => {
    const graph = loadTemplate(file);
    const analysis = analyzeGraph(graph);
    const inlined = inlineGraph(graph, analysis);
    const byKey = new Map(inlined.map((n) => [n.key, n]));
    let layer;
    try {
      layer = defaultLayer(graph, analysis);
    } catch (err) {
      assert.ok(err instanceof ExplainError, String(err));
      const featureMap = (n: (typeof inlined)[number]) => n.info.outputs.filter((p) => !p.attention).some((p) => isSpatialMap(n.info.outputShapes?.[p.name]));
      const spatial = inlined.filter((n) => n.info.block.type !== 'io.input' && featureMap(n));
      assert.deepEqual(
        spatial.map((n) => n.key),
        [],
        `no default layer, yet these nodes give a spatial map: ${err.message}`,
      );
      return;
    }
    const node = byKey.get(layer.node);
    assert.ok(node, `"${layer.node}" is a node of the graph`);
    assert.ok(layer.rows * layer.cols > 1, `${layer.node} gives a map of ${layer.rows}×${layer.cols}`);
    if (layer.tokens) assert.equal(layer.shape[1], layer.rows * layer.cols + layer.tokens.skip, 'tokens fill the patch grid');
    else assert.ok(isSpatialMap(layer.shape), `${layer.node} gives [B, H, W, C], not ${layer.shape}`);
    assert.ok(!onlyPoolsItsInput(node.info.block.type), `${layer.node} (${node.info.block.type}) only pools an earlier map`);
    if (EXPECTED[file]) assert.equal(`${layer.node} ${layer.rows}×${layer.cols}`, EXPECTED[file]);

    // Images only: a text model's map (han-spam's words × sentences of embeddings) is not what its features are.
    const image = graph.nodes.some((n) => n.type === 'io.input' && n.params.kind === 'image');
    const features = exportPytorch(graph).features;
    if (image && features && !layer.tokens) {
      // A node inside a composite (a ResNet's last block) is reached through the composite on the canvas.
      assert.equal(features.nodeId, node.path[0], `forward_features() returns ${features.nodeId}'s output, Grad-CAM weighs ${layer.node}'s`);
      const top = analysis.nodes.get(features.nodeId)!;
      assert.deepEqual(top.outputShapes?.[features.port], layer.shape, 'the same map');
    }
  });
}
