// `npm run bench`: every benchmark, one JSON object on stdout.
//   npm run bench [-- engine backends train zoo editor canvas]   (default: all but zoo)
//   zoo's options: --templates a,b  --limit N (samples per template)  --backend NAME
import { cpus, loadavg } from 'node:os';
import { benchEngine } from './engine.js';
import { benchAll } from './backends.js';
import { benchTrain } from './train.js';
import { benchZoo } from './zoo.js';

const suites: Record<string, () => Promise<unknown>> = {
  // shape inference (500-node graph, ResNet-50 of composites), compile times
  engine: benchEngine,
  // the benchmark net written by hand in plain tfjs, on every backend that runs, and per-kernel timings
  backends: () => benchAll({ seconds: 4 }),
  // the same net compiled from templates/bench-se-cnn through the real trainer, and the probes' cost
  train: () => benchTrain({ samples: 2048 }),
  // the editor's frame time, idle and while a run streams attention maps (headless Chromium)
  editor: async () => {
    const mod = (await import('./editor.js').catch(() => null)) as { benchEditor?: () => Promise<unknown> } | null;
    return mod?.benchEditor ? mod.benchEditor() : { skipped: 'bench/editor.ts is not built' };
  },
  // a 500-node graph on the canvas: frame time while panning and zooming, and edit-to-shapes time (headless Chromium)
  canvas: async () => (await import('./canvas.js')).benchCanvas(),
  // every small template through the real trainer against its PyTorch export, same run, with per-step profiles
  zoo: () => benchZoo({ templates: option('templates')?.split(','), limit: option('limit') ? Number(option('limit')) : undefined, backend: option('backend') as never }),
};
/** Suites that run only when named (they take minutes). */
const onRequest = ['zoo'];

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const only = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
const result: Record<string, unknown> = { node: process.version, cpus: cpus().length, loadAverage: loadavg().map((l) => +l.toFixed(2)), date: new Date().toISOString() };
for (const [name, run] of Object.entries(suites)) {
  if (only.length ? !only.includes(name) : onRequest.includes(name)) continue;
  try {
    result[name] = await run();
  } catch (err) {
    result[name] = { error: (err as Error).message };
  }
}
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
