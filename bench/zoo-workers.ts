// One template trained through the real trainer on one thread and data-parallel,
// alternated in one process (so both see the same machine load), without PyTorch:
//   node dist/bench/zoo-workers.js TEMPLATE [rounds] [workers]
// Prints wall samples/s and process CPU ms per step (every thread) for each run.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '../engine/backends/select.js';
import { prepareData } from '../engine/data/index.js';
import { graphTrainingConfig } from '../engine/graph/training-section.js';
import { parseGraphText } from '../engine/graph/schema.js';
import type { TrainConfigInput } from '../engine/schemas/train-config.js';
import { inputHint } from '../engine/train/setup.js';
import { measureOurs } from './zoo.js';

const [name, rounds = '3', workers = '2'] = process.argv.slice(2);
const { tf } = await selectBackend({ backend: 'wasm' });
const graph = parseGraphText(readFileSync(fileURLToPath(new URL(`../../templates/${name}.attn.json`, import.meta.url)), 'utf8')).graph!;
const spec = (graph as { dataset?: Record<string, unknown> }).dataset ?? {};
const limit = 640;
const data = await prepareData({ ...spec, name: String(spec.name), limit, size: spec.size ? limit : undefined, seed: 1 } as never, inputHint(graph));
const config = { ...graphTrainingConfig(graph.training), epochs: 1 } as TrainConfigInput & { batchSize: number };
config.batchSize ??= 32;
console.log(JSON.stringify({ template: name, batchSize: config.batchSize, load: loadavg()[0] }));
for (let r = 0; r < Number(rounds); r++) {
  for (const cpuWorkers of [1, Number(workers)]) {
    const m = await measureOurs(tf, graph, data, { ...config, cpuWorkers });
    console.log(
      JSON.stringify({ round: r, cpuWorkers, samplesPerSec: Math.round(m.samplesPerSec), cpuMsPerStep: +m.cpuMsPerStep.toFixed(1), load: loadavg()[0] }),
    );
  }
}
