// `npm run bench`: every benchmark, one JSON object on stdout.
import { benchEngine } from './engine.js';

const only = process.argv.slice(2);
const suites: Record<string, () => Promise<unknown>> = {
  engine: benchEngine,
};

const result: Record<string, unknown> = { node: process.version, cpus: (await import('node:os')).cpus().length, date: new Date().toISOString() };
for (const [name, run] of Object.entries(suites)) {
  if (only.length && !only.includes(name)) continue;
  try {
    result[name] = await run();
  } catch (err) {
    result[name] = { error: (err as Error).message };
  }
}
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
