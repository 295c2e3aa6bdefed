// A large valid graph for benchmarks and robustness tests: a stack of residual
// conv units (conv → activation → conv → add), the shape of a deep ResNet drawn flat.
import type { GraphFile } from '../../engine/graph/types.js';
import { graph } from './graphs.js';

export function residualStack(targetNodes: number): GraphFile {
  const nodes: Parameters<typeof graph>[0] = [['x', 'io.input', { kind: 'image', height: 32, width: 32, channels: 16 }]];
  const edges: Parameters<typeof graph>[1] = [];
  let prev = 'x.out';
  for (let i = 0; nodes.length + 4 < targetNodes; i++) {
    nodes.push(
      [`c${i}a`, 'core.conv2d', { filters: 16 }],
      [`r${i}`, 'core.activation', { fn: 'relu' }],
      [`c${i}b`, 'core.conv2d', { filters: 16 }],
      [`add${i}`, 'core.add'],
    );
    edges.push([prev, `c${i}a.in`], [`c${i}a.out`, `r${i}.in`], [`r${i}.out`, `c${i}b.in`], [`c${i}b.out`, `add${i}.in1`], [prev, `add${i}.in2`]);
    prev = `add${i}.out`;
  }
  while (nodes.length < targetNodes - 1) {
    const id = `act${nodes.length}`;
    nodes.push([id, 'core.activation', { fn: 'relu' }]);
    edges.push([prev, `${id}.in`]);
    prev = `${id}.out`;
  }
  nodes.push(['y', 'io.output']);
  edges.push([prev, 'y.in']);
  return graph(nodes, edges, `residual stack of ${targetNodes} nodes`);
}
