// One template trained through the real trainer on one thread and data-parallel,
// in alternated timed rounds of two paused trainers in one process (so both see
// the same machine load), without PyTorch:
//   node dist/bench/zoo-workers.js TEMPLATE [rounds] [workers] [seconds]
// Prints wall samples/s and process CPU ms per step (every thread) for each round.
import { loadavg } from 'node:os';
import { selectBackend } from '../engine/backends/select.js';
import { loadZooCase } from './zoo.js';
import { TrainerRounds } from './zoo-rounds.js';

const [name, rounds = '3', workers = '2', seconds = '2'] = process.argv.slice(2);
const { tf } = await selectBackend({ backend: 'wasm' });
const { graph, data, config } = await loadZooCase(name, 640);
console.log(JSON.stringify({ template: name, batchSize: config.batchSize, load: loadavg()[0] }));
const sides = [1, Number(workers)].map((cpuWorkers) => ({ cpuWorkers, trainer: new TrainerRounds(tf, graph, data, { ...config, cpuWorkers }) }));
for (const s of sides) await s.trainer.round(1, 2);
for (let r = 0; r < Number(rounds); r++) {
  for (const { cpuWorkers, trainer } of sides) {
    const m = await trainer.round(Number(seconds), 3);
    console.log(
      JSON.stringify({ round: r, cpuWorkers, samplesPerSec: Math.round(m.samplesPerSec), cpuMsPerStep: +m.cpuMsPerStep.toFixed(1), load: loadavg()[0] }),
    );
  }
}
for (const s of sides) await s.trainer.close();
