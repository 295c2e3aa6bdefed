// `npm run bench`: every benchmark, one JSON object on stdout.
//   npm run bench [-- engine backends train zoo editor canvas fuzz explain]   (default: all but zoo and explain)
//   zoo's options: --quick (3 rounds of 1 s)  --rounds R  --seconds S (per side a round)  --templates a,b  --limit N (samples per template)
//                  --backend NAME  --cpu-workers N (ours' shards instead of 'auto')
//   npm run bench -- train --backend webgpu|pytorch|... [--samples N]   (the train suite on one backend)
import { cpus, loadavg } from 'node:os';
import { benchEngine } from './engine.js';
import { benchAll } from './backends.js';
import { benchBigNets, benchPytorch, benchTrain } from './train.js';
import { benchFuzz } from './fuzz.js';
import { benchZoo } from './zoo.js';
import { benchExplain } from './explain.js';
import type { TrainingBackendOption } from '../engine/schemas/backends.js';

const args = process.argv.slice(2);
/** Takes `--name value` out of the arguments. */
function option(name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? undefined : args.splice(i, 2)[1];
}
const backend = option('backend') as TrainingBackendOption | undefined;
const samples = Number(option('samples') ?? 2048);
const templates = option('templates')?.split(',');
const limit = option('limit');
const cpuWorkers = option('cpu-workers');
const rounds = option('rounds');
const seconds = option('seconds');
/** Takes `--name` out of the arguments: whether it was there. */
function flag(name: string): boolean {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args.splice(i, 1).length > 0;
}
const quick = flag('quick');
const num = (s: string | undefined) => (s === undefined ? undefined : Number(s));

const suites: Record<string, () => Promise<unknown>> = {
  // shape inference (500-node graph, ResNet-50 of composites), compile times
  engine: benchEngine,
  // the benchmark net written by hand in plain tfjs, on every backend that runs, and per-kernel timings
  backends: () => benchAll({ seconds: 4 }),
  // the same net compiled from templates/bench-se-cnn through the real trainer (on --backend), and the probes' cost;
  // SE-ResNet-20 and ViT-tiny on every backend; the pytorch backend against a plain PyTorch loop, 1 and 2 ranks
  train: async () =>
    backend === 'pytorch'
      ? { pytorch: await benchPytorch({ samples }) }
      : {
          ...(await benchTrain({ samples, backend: backend as Exclude<TrainingBackendOption, 'pytorch'> | undefined })),
          bigNets: await benchBigNets(),
          pytorch: await benchPytorch({ samples }),
        },
  // the editor's frame time, idle and while a run streams attention maps (headless Chromium)
  editor: async () => {
    const mod = (await import('./editor.js').catch(() => null)) as { benchEditor?: () => Promise<unknown> } | null;
    return mod?.benchEditor ? mod.benchEditor() : { skipped: 'bench/editor.ts is not built' };
  },
  // a 500-node graph on the canvas: frame time while panning and zooming, and edit-to-shapes time (headless Chromium)
  canvas: async () => (await import('./canvas.js')).benchCanvas(),
  // 1,000 mutated templates through validate, export and compile: crashes, hangs, unnamed nodes, slowest case, largest heap
  fuzz: () => benchFuzz({ cases: 1000 }),
  // every small template through the real trainer against its PyTorch export in interleaved rounds, with per-step profiles
  zoo: () =>
    benchZoo({ templates, limit: num(limit), backend: backend as never, cpuWorkers: num(cpuWorkers), rounds: num(rounds), seconds: num(seconds), quick }),
  // ms per explanation (Grad-CAM, rollout) for the small templates and ResNet-50 at 224×224, on --backend (default: the best)
  explain: () => benchExplain({ backend: backend as never }),
};
/** Suites that run only when named (they take minutes). */
const onRequest = ['zoo', 'explain'];

const only = args;
const result: Record<string, unknown> = {
  node: process.version,
  cpus: cpus().length,
  loadAverage: loadavg().map((l) => +l.toFixed(2)),
  date: new Date().toISOString(),
};
for (const [name, run] of Object.entries(suites)) {
  if (only.length ? !only.includes(name) : onRequest.includes(name)) continue;
  try {
    result[name] = await run();
  } catch (err) {
    result[name] = { error: (err as Error).message };
  }
}
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
