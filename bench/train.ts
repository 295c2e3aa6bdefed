// Training throughput and what the attention probes cost. Trains the issue's
// benchmark net (conv-SE CNN, 21,042 parameters, batch 64, Adam) on MNIST with
// probes off, at the default rate, and after every batch; prints JSON.
//   node dist/bench/train.js [--backend auto|wasm|cpu|...] [--samples N]
import { selectBackend, type BackendOption } from '../engine/backends/select.js';
import { prepareData } from '../engine/data/index.js';
import { trainConfigSchema, type TrainConfigInput } from '../engine/train/config.js';
import { Trainer } from '../engine/train/trainer.js';
import { GRAPH_FORMAT } from '../engine/graph/schema.js';
import type { GraphFile } from '../engine/graph/types.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

const chain: [string, string, Record<string, unknown>][] = [
  ['in', 'io.input', { kind: 'image', height: 28, width: 28, channels: 1 }],
  ['c1', 'core.conv2d', { filters: 16, kernel: 3, padding: 'same', activation: 'relu' }],
  ['p1', 'core.pool2d', { mode: 'max', size: 2 }],
  ['c2', 'core.conv2d', { filters: 32, kernel: 3, padding: 'same', activation: 'relu' }],
  ['se', 'attention.squeezeExcitation', { reduction: 4 }],
  ['p2', 'core.pool2d', { mode: 'max', size: 2 }],
  ['flat', 'core.flatten', {}],
  ['fc', 'core.dense', { units: 10, activation: 'softmax' }],
  ['out', 'io.output', { loss: 'categoricalCrossentropy' }],
];
const graph: GraphFile = {
  format: GRAPH_FORMAT,
  version: 1,
  name: 'bench-se-cnn',
  nodes: chain.map(([id, type, params], i) => ({ id, type, params, position: { x: 200 * i, y: 0 } })),
  edges: chain.slice(1).map(([id], i) => ({ from: { node: chain[i][0], port: 'out' }, to: { node: id, port: 'in' } })),
};

const { tf, backend, skipped } = await selectBackend({ backend: arg('backend', 'auto') as BackendOption });
const samples = Number(arg('samples', '2048'));
const data = await prepareData({ name: 'mnist', limit: Math.round(samples / 0.9), seed: 1 });

async function measure(probe: TrainConfigInput['probe']) {
  const trainer = new Trainer({ tf, graph, data, config: trainConfigSchema.parse({ epochs: 1, batchSize: 64, lr: 1e-3, probe }) });
  const done = await trainer.run();
  const { runs, ms } = trainer.probeStats;
  trainer.dispose();
  return { samplesPerSec: Math.round(done.samplesPerSec), probeRuns: runs, probeMsPerRun: runs ? +(ms / runs).toFixed(2) : 0, valAccuracy: +done.metrics.val_accuracy.toFixed(4) };
}

await measure({ enabled: false }); // warm-up: kernels, JIT
const off = await measure({ enabled: false });
const defaultRate = await measure({});
const everyBatch = await measure({ everyBatches: 1, minIntervalMs: 0 });
const off2 = await measure({ enabled: false });
const base = (off.samplesPerSec + off2.samplesPerSec) / 2;
console.log(
  JSON.stringify(
    {
      bench: 'train',
      backend,
      skipped,
      trainSamples: data.train.size,
      batchSize: 64,
      probesOff: { ...off, samplesPerSecRepeat: off2.samplesPerSec },
      probesDefaultRate: { ...defaultRate, slowdown: +(1 - defaultRate.samplesPerSec / base).toFixed(3) },
      probesEveryBatch: { ...everyBatch, slowdown: +(1 - everyBatch.samplesPerSec / base).toFixed(3) },
      note: 'samplesPerSec counts the time of the batch loop (steps, probes), not validation. slowdown is relative to the mean of the two probes-off runs; compare it with their spread.',
    },
    null,
    2,
  ),
);
