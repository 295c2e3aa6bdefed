// Profile one template's training step on the backend in use, without PyTorch:
//   node dist/bench/zoo-profile.js TEMPLATE [steps]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '../engine/backends/select.js';
import { prepareData } from '../engine/data/index.js';
import { graphTrainingConfig } from '../engine/graph/training-section.js';
import { parseGraphText } from '../engine/graph/schema.js';
import type { TrainConfigInput } from '../engine/schemas/train-config.js';
import { inputHint } from '../engine/train/setup.js';
import { profileOurs } from './zoo.js';

const [name, steps = '3'] = process.argv.slice(2);
const { tf } = await selectBackend({ backend: 'wasm' });
const graph = parseGraphText(readFileSync(fileURLToPath(new URL(`../../templates/${name}.attn.json`, import.meta.url)), 'utf8')).graph!;
const spec = (graph as { dataset?: Record<string, unknown> }).dataset ?? {};
const limit = 256;
const data = await prepareData({ ...spec, name: String(spec.name), limit, size: spec.size ? limit : undefined, seed: 1 } as never, inputHint(graph));
const config = { ...graphTrainingConfig(graph.training), epochs: 1 } as TrainConfigInput & { batchSize: number };
config.batchSize ??= 32;
console.log(JSON.stringify(await profileOurs(tf, graph, data, config, Number(steps)), null, 1));
