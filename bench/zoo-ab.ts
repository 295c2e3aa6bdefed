// CPU time per training step of one template with the wasm batch norm's fast
// path and with its exact one, alternating in one process (so the machine's
// load falls on both alike), and the batch norm kernels' share of each:
//   node dist/bench/zoo-ab.js TEMPLATE [rounds] [steps]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '../engine/backends/select.js';
import { setWasmBatchNormPrecision, type BatchNormPrecision } from '../engine/backends/wasm-moments.js';
import { prepareData } from '../engine/data/index.js';
import { graphTrainingConfig } from '../engine/graph/training-section.js';
import { parseGraphText } from '../engine/graph/schema.js';
import type { TrainConfigInput } from '../engine/schemas/train-config.js';
import { inputHint } from '../engine/train/setup.js';
import { profileOurs } from './zoo.js';

/** The kernels of a training batch norm, fused or not (the rest of the step is the same in both modes). */
const BATCH_NORM_KERNELS = [
  'BatchNormGrads',
  'FusedBatchNorm',
  'ChannelMoments',
  'ChannelMomentsGrad',
  'Mean',
  'Sub',
  'Square',
  'Multiply',
  'Sum',
  'Tile',
  'Add',
  'Neg',
  'RealDiv',
];

const [name, rounds = '3', steps = '3'] = process.argv.slice(2);
const { tf } = await selectBackend({ backend: 'wasm' });
const graph = parseGraphText(readFileSync(fileURLToPath(new URL(`../../templates/${name}.attn.json`, import.meta.url)), 'utf8')).graph!;
const spec = (graph as { dataset?: Record<string, unknown> }).dataset ?? {};
const limit = 256;
const data = await prepareData({ ...spec, name: String(spec.name), limit, size: spec.size ? limit : undefined, seed: 1 } as never, inputHint(graph));
const config = { ...graphTrainingConfig(graph.training), epochs: 1 } as TrainConfigInput & { batchSize: number };
config.batchSize ??= 32;
const modes: BatchNormPrecision[] = ['exact', 'fast'];
const runs: Record<string, { cpuMsPerStep: number[]; batchNormMs: number[]; kernels: Record<string, number>[] }> = {};
for (let r = 0; r < Number(rounds); r++)
  for (const mode of r % 2 ? [...modes].reverse() : modes) {
    setWasmBatchNormPrecision(mode);
    const p = await profileOurs(tf, graph, data, config, Number(steps));
    const run = (runs[mode] ??= { cpuMsPerStep: [], batchNormMs: [], kernels: [] });
    const bn = p.kernels.filter((k) => BATCH_NORM_KERNELS.includes(k.kernel));
    run.cpuMsPerStep.push(p.cpuMsPerStep);
    run.batchNormMs.push(Math.round(bn.reduce((a, k) => a + k.msPerStep, 0) * 10) / 10);
    run.kernels.push(Object.fromEntries(bn.map((k) => [k.kernel, k.msPerStep])));
  }
setWasmBatchNormPrecision('fast');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  JSON.stringify(
    {
      template: name,
      batchSize: config.batchSize,
      load: Math.round((await import('node:os')).loadavg()[0] * 10) / 10,
      medianCpuMsPerStep: Object.fromEntries(modes.map((m) => [m, median(runs[m].cpuMsPerStep)])),
      runs,
    },
    null,
    1,
  ),
);
