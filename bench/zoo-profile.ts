// Profile one template's training step on the backend in use, without PyTorch:
//   node dist/bench/zoo-profile.js TEMPLATE [steps] [--by-shape]   (--by-shape: kernels told apart by input shapes, top 40, on the process's CPU clock)
import { selectBackend } from '../engine/backends/select.js';
import { loadZooCase, profileOurs } from './zoo.js';

const byShape = process.argv.includes('--by-shape');
const [name, steps = '3'] = process.argv.slice(2).filter((a) => a !== '--by-shape');
const { tf } = await selectBackend({ backend: 'wasm' });
const { graph, data, config } = await loadZooCase(name, 256);
// One thread, as the zoo's own profile: with cpuWorkers 'auto' a large step would be split over replicas it cannot time.
console.log(
  JSON.stringify(
    await profileOurs(tf, graph, data, { ...config, cpuWorkers: 1 }, Number(steps), { byShape, cpuClock: byShape, top: byShape ? 40 : 25 }),
    null,
    1,
  ),
);
