// `attn sweep`: trains a graph over a grid or random sample of block parameters
// and training settings, and ranks the trials; `attn compare`: what differs
// between run folders.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadGraphFile } from './shapes/load.js';
import { formatDiagnostic, hasErrors } from './graph/types.js';
import { datasetNames } from './data/index.js';
import { TRAINING_BACKEND_OPTIONS, type TrainingBackendOption } from './schemas/backends.js';
import { compareRuns, slug } from './runs/index.js';
import { runSettings } from './schemas/train-config.js';
import {
  DEFAULT_GRID_POINTS,
  describeValues,
  EARLY_STOP_RULES,
  goalOf,
  ranking,
  STRATEGIES,
  Sweep,
  SweepFileError,
  SweepParamError,
  type EarlyStopRule,
  type Strategy,
  type SweepEvent,
  type SweepManifest,
} from './sweep/index.js';

type Out = { log: (s: string) => void; err: (s: string) => void };

interface SweepCliOptions {
  param: string[];
  trials?: number;
  strategy: Strategy;
  metric: string;
  goal?: 'max' | 'min';
  earlyStop: EarlyStopRule;
  parallel?: number;
  out?: string;
  dataset: string;
  limit?: number;
  epochs?: number;
  batchSize?: number;
  optimizer?: string;
  backend: TrainingBackendOption;
  seed: number;
  json?: boolean;
}

const whole = (what: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${what} must be a whole number of at least ${min}`);
  return n;
};

const PARAM_HELP = `
Parameters (--param, once per parameter; quote them in the shell):
  node.param=v1,v2,...      a block parameter of a node, these values    --param 'se.reduction=2,8'
  setting=v1,v2,...         a training setting (lr, batchSize, epochs,   --param 'optimizer=adam,sgd'
                            optimizer, weightDecay, ...)
  name=lo:hi                floats, uniform in [lo, hi]                  --param 'drop.rate=0.1:0.5'
  name=lo:hi:log            floats, log-uniform                          --param 'lr=1e-3:1e-2:log'
  name=lo:hi[:log]:n        ... and n points when --strategy grid        --param 'lr=1e-4:1e-2:log:3'
                            (default ${DEFAULT_GRID_POINTS})
  name=lo..hi[:log]         whole numbers from lo to hi                  --param 'attn.heads=1..8'

Strategies: grid runs every combination (--trials N keeps the first N); random
draws --trials N samples with --seed. Each trial is a run folder under the sweep
folder (--out, default sweeps/<graph>-<hash of the settings>), listed with its
values, state, metric and error in sweep.json. Running the same command again
resumes: only trials that have not finished run. Early stopping (--early-stop):
median stops a trial whose best metric so far is below the median of the other
trials' at the same epoch; halving keeps the top third at epochs 1, 3, 9, ...

Example:
  attn sweep templates/bench-se-cnn.attn.json --dataset mnist --limit 2000 --epochs 2 \\
    --param 'se.reduction=2,8' --param 'lr=1e-3,1e-2' --strategy grid --parallel 2`;

/** The default sweep folder: the same settings give the same folder, so a rerun resumes. */
function defaultOut(file: string, o: SweepCliOptions, name: string): string {
  const { json: _json, parallel: _parallel, out: _out, ...spec } = o;
  const hash = createHash('sha256')
    .update(JSON.stringify([path.resolve(file), spec]))
    .digest('hex')
    .slice(0, 8);
  return path.join('sweeps', `${slug(name, 40)}-${hash}`);
}

const fmt = (v: number | undefined) => (v === undefined ? '—' : Number.isInteger(v) ? String(v) : v.toFixed(4));

function reporter(out: Out): (e: SweepEvent) => void {
  return (e) => {
    switch (e.type) {
      case 'resumed':
        out.log(`resuming: ${e.finished} of ${e.total} trials already finished`);
        break;
      case 'trial-start':
        out.log(`${e.trial.id} started: ${describeValues(e.trial.values)}`);
        break;
      case 'trial-epoch':
        out.log(`${e.trial.id} epoch ${e.epoch + 1}: ${fmt(e.value)}`);
        break;
      case 'trial-end':
        out.log(
          `${e.trial.id} ${e.trial.status}${e.trial.metric !== undefined ? `: ${fmt(e.trial.metric)}` : ''}${e.trial.error ? `: ${e.trial.error}` : ''} (${e.trial.seconds} s)`,
        );
        break;
    }
  };
}

/** The results, best first, then the trials without a result; the best is starred. */
function resultTable(m: SweepManifest, dir: string): string[] {
  const ranked = ranking(m);
  const rest = m.trials.filter((t) => !ranked.includes(t));
  const keys = m.trials[0] ? Object.keys(m.trials[0].values) : [];
  const rows = [...ranked, ...rest].map((t) => [
    t.id === m.best ? '*' : ' ',
    t.id,
    ...keys.map((k) => String(t.values[k])),
    t.status,
    fmt(t.metric),
    t.seconds === undefined ? '' : `${t.seconds} s`,
  ]);
  const head = [' ', 'trial', ...keys, 'state', m.spec.metric, 'time'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const lines = [head, ...rows].map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd(),
  );
  const failed = m.trials.filter((t) => t.status === 'failed');
  for (const t of failed) lines.push(`${t.id} failed: ${t.error}`);
  if (m.best) lines.push(`best: ${m.best} (${describeValues(m.trials.find((t) => t.id === m.best)!.values)}); its run folder: ${path.join(dir, m.best)}`);
  return lines;
}

async function sweep(file: string, o: SweepCliOptions, out: Out): Promise<number> {
  const r = await loadGraphFile(file);
  if (hasErrors(r.diagnostics) || !r.graph) {
    for (const d of r.diagnostics) out.err(formatDiagnostic(d, file));
    return 1;
  }
  const train = Object.fromEntries(Object.entries({ epochs: o.epochs, batchSize: o.batchSize, optimizer: o.optimizer }).filter(([, v]) => v !== undefined));
  const dir = o.out ?? defaultOut(file, o, r.graph.name);
  const log: Out = o.json ? { log: () => {}, err: out.err } : out;
  let s: Sweep;
  try {
    s = await Sweep.open(
      {
        graph: r.graph,
        graphFile: path.resolve(file),
        params: o.param,
        strategy: o.strategy,
        trials: o.trials,
        seed: o.seed,
        metric: o.metric,
        goal: o.goal ?? goalOf(o.metric),
        earlyStop: o.earlyStop,
        dataset: o.dataset,
        limit: o.limit,
        backend: o.backend,
        train,
        parallel: o.parallel,
        dir,
      },
      reporter(log),
    );
  } catch (err) {
    if (err instanceof SweepParamError || err instanceof SweepFileError) {
      out.err(`attn sweep: ${err.message}`);
      return 2;
    }
    throw err;
  }
  log.log(`sweep folder ${dir}: ${s.manifest.trials.length} trials, ${o.strategy}, metric ${o.metric} (${s.manifest.spec.goal})`);
  // First Ctrl-C: stop the running trials (a rerun runs them again); the second ends the process.
  let interrupts = 0;
  const onSigint = () => (interrupts++ === 0 ? s.stop() : process.exit(130));
  process.on('SIGINT', onSigint);
  try {
    const m = await s.run();
    if (o.json) out.log(JSON.stringify({ dir, ...m, ranking: ranking(m).map((t) => t.id) }));
    else for (const line of resultTable(m, dir)) out.log(line);
    if (m.state === 'interrupted') return 130;
    return m.trials.some((t) => t.status === 'done' || t.status === 'pruned') ? 0 : 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

const show = (v: unknown) => (v === undefined ? '—' : typeof v === 'number' ? fmt(v) : JSON.stringify(v));

async function compare(dirs: string[], o: { json?: boolean }, out: Out): Promise<number> {
  let c;
  try {
    c = await compareRuns(dirs, { settingsOf: runSettings });
  } catch (err) {
    out.err(`attn compare: ${(err as Error).message}`);
    return 1;
  }
  if (o.json) {
    out.log(JSON.stringify(c));
    return 0;
  }
  const ids = c.runs.map((r) => r.runId);
  const table = (head: string[], rows: string[][]) => {
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    for (const r of [head, ...rows])
      out.log(
        r
          .map((cell, i) => cell.padEnd(widths[i]))
          .join('  ')
          .trimEnd(),
      );
  };
  out.log('final metrics');
  table(
    ['run', ...c.metricNames],
    c.runs.map((r) => [r.runId, ...c.metricNames.map((m) => fmt(r.finalMetrics[m]))]),
  );
  out.log('\nsettings that differ');
  if (c.settingsDiff.length)
    table(
      ['setting', ...ids],
      c.settingsDiff.map((d) => [d.key, ...d.values.map(show)]),
    );
  else out.log('  none');
  for (const g of c.graphDiffs) {
    out.log(`\ngraph of ${g.runId} against ${g.against}`);
    const d = g.diff;
    const lines = [
      ...d.added.map((n) => `  + node ${n.id} (${n.type})`),
      ...d.removed.map((n) => `  - node ${n.id} (${n.type})`),
      ...d.changed.flatMap((n) => [
        ...(n.type ? [`  ~ node ${n.id}: type ${n.type.before} -> ${n.type.after}`] : []),
        ...n.params.map((p) => `  ~ node ${n.id}: ${p.param} ${show(p.before)} -> ${show(p.after)}`),
      ]),
      ...d.edgesAdded.map((e) => `  + edge ${e}`),
      ...d.edgesRemoved.map((e) => `  - edge ${e}`),
    ];
    for (const l of lines.length ? lines : ['  the same graph']) out.log(l);
  }
  return 0;
}

/** Adds `attn sweep` and `attn compare` to the program; the exit code goes to `setCode`. */
export function registerSweepCommands(program: Command, out: Out, setCode: (code: number) => void): void {
  program
    .command('sweep')
    .description('train a graph over a grid or random sample of block parameters and training settings; ranks the trials')
    .argument('<file>', 'graph file (*.attn.json)')
    .requiredOption(
      '--param <spec>',
      "a swept parameter, e.g. 'se.reduction=2,8' or 'lr=1e-3:1e-2:log' (repeat for more; syntax below)",
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .requiredOption('--dataset <name>', `${datasetNames().join(', ')}, an image folder or a .csv file`)
    .option('--trials <n>', 'random: how many trials; grid: keep the first n', whole('--trials', 1))
    .addOption(new Option('--strategy <s>', 'how trials are chosen').choices([...STRATEGIES]).default('grid'))
    .option('--metric <name>', 'the metric trials are ranked by (a final metric of the run)', 'val_accuracy')
    .addOption(new Option('--goal <g>', 'whether a higher or lower metric is better (default: min for losses, max otherwise)').choices(['max', 'min']))
    .addOption(new Option('--early-stop <rule>', 'stop trials that fall behind').choices([...EARLY_STOP_RULES]).default('median'))
    .option('--parallel <k>', 'trials at a time, each in its own process (default: the cores)', whole('--parallel', 1))
    .option('--out <dir>', 'sweep folder (default sweeps/<graph>-<hash of the settings>); the same folder resumes')
    .option('--limit <n>', 'use at most this many samples (training + validation)', whole('--limit', 1))
    .option('--epochs <n>', 'epochs of every trial', whole('--epochs', 1))
    .option('--batch-size <n>', 'samples per batch of every trial', whole('--batch-size', 1))
    .addOption(new Option('--optimizer <name>', 'optimizer of every trial').choices(['sgd', 'adam', 'adamw']))
    .addOption(new Option('--backend <b>', 'tfjs backend, or pytorch').choices([...TRAINING_BACKEND_OPTIONS]).default('auto'))
    .option('--seed <s>', 'seed for the data and for random trials', whole('--seed', 0), 0)
    .option('--json', 'print the sweep manifest (with the ranking) as JSON at the end')
    .addHelpText('after', PARAM_HELP)
    .action(async (file: string, o: SweepCliOptions) => setCode(await sweep(file, o, out)));
  program
    .command('compare')
    .description('compare run folders: final metrics, the settings that differ, and each graph against the first')
    .argument('<runs...>', 'two or more run folders')
    .option('--json', 'everything as JSON, curves (per epoch and per batch) included')
    .action(async (dirs: string[], o: { json?: boolean }) => setCode(await compare(dirs, o, out)));
}
