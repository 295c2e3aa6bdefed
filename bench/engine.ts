// Engine benchmarks: shape inference on a 500-node graph (it runs on every edit
// in the editor) and compile time of the templates.
import { analyzeGraph } from '../engine/shapes/analyze.js';
import { compileGraph } from '../engine/compile/compile.js';
import { loadTf } from '../engine/backends/load-tf.js';
import { residualStack } from '../test/helpers/big-graph.js';
import { loadTemplate, templateFiles } from '../test/helpers/graphs.js';
import { resnet50Composite } from '../test/helpers/composites.js';

function timeIt(fn: () => void, minMs = 300): { meanMs: number; runs: number } {
  fn(); // warm-up
  let runs = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs || runs < 5) {
    fn();
    runs++;
  }
  return { meanMs: +((performance.now() - t0) / runs).toFixed(3), runs };
}

export async function benchEngine() {
  const big = residualStack(500);
  const shapeInference500 = timeIt(() => analyzeGraph(big));
  const resnet50 = resnet50Composite();
  const shapeInferenceResnet50Composites = timeIt(() => analyzeGraph(resnet50));
  const tf = await loadTf();
  const compileMs: Record<string, number> = {};
  for (const file of templateFiles()) {
    const g = loadTemplate(file);
    try {
      const t0 = performance.now();
      const c = compileGraph(tf, g);
      compileMs[file] = +(performance.now() - t0).toFixed(1);
      c.model.dispose();
    } catch {
      compileMs[file] = NaN;
    }
  }
  return {
    shapeInference500Nodes: { ...shapeInference500, nodes: big.nodes.length, edges: big.edges.length },
    shapeInferenceResnet50Composites: { ...shapeInferenceResnet50Composites, topLevelNodes: resnet50.nodes.length },
    compileMs,
  };
}
