// One template trained through the real trainer on one thread and data-parallel,
// alternated in one process (so both see the same machine load), without PyTorch:
//   node dist/bench/zoo-workers.js TEMPLATE [rounds] [workers]
// Prints wall samples/s and process CPU ms per step (every thread) for each run.
import { loadavg } from 'node:os';
import { selectBackend } from '../engine/backends/select.js';
import { loadZooCase, measureOurs } from './zoo.js';

const [name, rounds = '3', workers = '2'] = process.argv.slice(2);
const { tf } = await selectBackend({ backend: 'wasm' });
const { graph, data, config } = await loadZooCase(name, 640);
console.log(JSON.stringify({ template: name, batchSize: config.batchSize, load: loadavg()[0] }));
for (let r = 0; r < Number(rounds); r++) {
  for (const cpuWorkers of [1, Number(workers)]) {
    const m = await measureOurs(tf, graph, data, { ...config, cpuWorkers });
    console.log(
      JSON.stringify({ round: r, cpuWorkers, samplesPerSec: Math.round(m.samplesPerSec), cpuMsPerStep: +m.cpuMsPerStep.toFixed(1), load: loadavg()[0] }),
    );
  }
}
