// `attn train`: trains a graph file in a training process, with a progress bar on
// a terminal or one JSON event per line with --json.
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadGraphFile } from './shapes/load.js';
import { formatDiagnostic, hasErrors } from './graph/types.js';
import { TrainingClient } from './worker/client.js';
import type { TrainEvent } from './worker/protocol.js';
import { type TrainConfigInput } from './schemas/train-config.js';
import { graphTrainingConfig, savedDatasetSettings } from './graph/training-section.js';
import { datasetNames, datasetSpecSchema, type DatasetSpec } from './data/index.js';
import { adapterLabel, TRAINING_BACKEND_OPTIONS, type TrainingBackendOption } from './schemas/backends.js';
import { RunFolder, RunJournal } from './runs/index.js';
import { PytorchRun, TORCH_DEVICES, type TorchDevice } from './pytorch/run.js';
import { finalizeTorchrun } from './pytorch/finalize.js';
import { liveExplainPlan } from './explain/live.js';

type Out = { log: (s: string) => void; err: (s: string) => void };

interface TrainOptions {
  dataset?: string;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  limit?: number;
  backend: TrainingBackendOption;
  device?: TorchDevice;
  nproc?: number;
  python?: string;
  /** false with --no-sync-batch-norm (commander's default for a --no- flag is true). */
  syncBatchNorm: boolean;
  printLaunch?: boolean;
  nnodes?: number;
  nodeRank?: number;
  master?: string;
  seed?: number;
  out?: string;
  json?: boolean;
  optimizer?: 'sgd' | 'adam' | 'adamw';
  checkpointEvery?: number;
  cpuWorkers?: number | 'auto';
  resume?: string;
}

const int = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${what} must be a whole number`);
  return n;
};
const atLeastOne = (what: string) => (v: string) => {
  const n = int(what)(v);
  if (n < 1) throw new InvalidArgumentError(`${what} must be at least 1`);
  return n;
};
const positive = (v: string) => {
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError('must be a positive number');
  return n;
};

const fmtTime = (s: number) => (Number.isFinite(s) ? `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, '0')}` : '?');
const fmtMetrics = (m: Record<string, number>) =>
  Object.entries(m)
    .map(([k, v]) => `${k} ${v.toFixed(4)}`)
    .join('  ');

/** Attention maps are written to the run folder; on stdout they are described, not dumped. */
function jsonLine(e: TrainEvent): string {
  if (e.type !== 'attention') return JSON.stringify(e);
  return JSON.stringify({ ...e, maps: e.maps.map(({ data: _data, ...m }) => m) });
}

/** Human output: a redrawn bar on a terminal, otherwise one line per epoch. */
function humanReporter(out: Out, tty: boolean): (e: TrainEvent) => void {
  let barShown = false;
  const clearBar = () => {
    if (barShown) process.stderr.write('\r\x1b[2K');
    barShown = false;
  };
  return (e) => {
    switch (e.type) {
      case 'started': {
        const skipped = e.skipped.length ? ` (skipped ${e.skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')})` : '';
        const torch = e.torch ? ` (torch ${e.torch} at ${e.python}; ${e.device}, ${e.ranks} rank${e.ranks === 1 ? '' : 's'})` : '';
        out.log(`backend ${e.backend}${e.adapter ? ` — ${adapterLabel(e.adapter)}` : ''}${torch}${skipped}`);
        out.log(
          `${e.params.toLocaleString('en')} parameters; ${e.trainSamples} training and ${e.validationSamples} validation samples; ${e.epochs} epoch(s) of ${e.batchesPerEpoch} batches${e.resumedFrom ? `; resumed from ${e.resumedFrom}` : ''}`,
        );
        if (e.cpuWorkers && e.cpuWorkers.workers > 1) out.log(`data-parallel over ${e.cpuWorkers.workers} worker threads (${e.cpuWorkers.reason})`);
        if (e.runDir) out.log(`run folder ${e.runDir}`);
        break;
      }
      case 'progress': {
        if (!tty) break;
        const frac = (e.epoch * e.batches + e.batch) / (e.epochs * e.batches);
        const width = 24;
        const bar = '█'.repeat(Math.round(frac * width)).padEnd(width, '·');
        const acc = e.accuracy === undefined ? '' : `  acc ${e.accuracy.toFixed(3)}`;
        process.stderr.write(
          `\r\x1b[2K${bar} epoch ${e.epoch + 1}/${e.epochs} batch ${e.batch}/${e.batches}  loss ${e.loss.toFixed(4)}${acc}  ${Math.round(e.samplesPerSec)} samples/s  ETA ${fmtTime(e.etaSec)}`,
        );
        barShown = true;
        break;
      }
      case 'epoch':
        clearBar();
        out.log(`epoch ${e.epoch + 1}: ${fmtMetrics(e.metrics)}  (${e.seconds.toFixed(1)} s)`);
        break;
      case 'checkpoint':
        if (e.reason === 'stop') {
          clearBar();
          out.log(`stopped; checkpoint ${e.path}`);
        }
        break;
      case 'done': {
        clearBar();
        const on = e.adapter ? ` (${adapterLabel(e.adapter)})` : e.device ? ` (${e.device}${e.ranks && e.ranks > 1 ? `, ${e.ranks} ranks` : ''})` : '';
        out.log(`done (${e.reason}) on ${e.backend}${on}: ${Math.round(e.samplesPerSec)} samples/s; ${fmtMetrics(e.metrics)}`);
        break;
      }
      default:
        break;
    }
  };
}

async function train(file: string, o: TrainOptions, out: Out): Promise<number> {
  const r = await loadGraphFile(file);
  if (hasErrors(r.diagnostics) || !r.graph) {
    for (const d of r.diagnostics) out.err(formatDiagnostic(d, file));
    return 1;
  }
  const savedDataset = r.graph.dataset as Record<string, unknown> | undefined;
  const datasetName = o.dataset ?? (typeof savedDataset?.name === 'string' ? savedDataset.name : undefined);
  if (!datasetName) {
    out.err(`attn train: ${file} names no dataset (no "dataset" section): give one with --dataset (${datasetNames().join(', ')}, a folder or a .csv file)`);
    return 1;
  }
  // The dataset section saved in the graph file, for the same dataset, under the flags given.
  const dataset = {
    ...savedDatasetSettings(savedDataset, datasetName),
    name: datasetName,
    ...(o.limit !== undefined && { limit: o.limit }),
    ...(o.seed !== undefined && { seed: o.seed }),
  };
  const checked = datasetSpecSchema.safeParse(dataset);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    out.err(`attn train: ${file}: dataset setting "${issue.path.join('.')}": ${issue.message}`);
    return 1;
  }
  const flags: TrainConfigInput = {
    epochs: o.epochs,
    batchSize: o.batchSize,
    lr: o.lr,
    seed: o.seed,
    optimizer: o.optimizer,
    checkpointEvery: o.checkpointEvery,
    cpuWorkers: o.cpuWorkers,
  };
  // Settings saved in the graph file, overridden by the flags given.
  const config = {
    ...graphTrainingConfig(r.graph.training),
    ...Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)),
  } as TrainConfigInput;
  const torchOnly = [
    ...(['device', 'nproc', 'python', 'printLaunch'] as const).filter((k) => o[k] !== undefined).map((k) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)),
    ...(o.syncBatchNorm === false ? ['no-sync-batch-norm'] : []),
  ];
  if (o.backend === 'pytorch' && o.cpuWorkers !== undefined) {
    out.err('attn train: --cpu-workers splits batches across threads on the wasm and cpu backends; with --backend pytorch use --nproc');
    return 1;
  }
  if (o.backend !== 'pytorch' && torchOnly.length) {
    out.err(`attn train: --${torchOnly.join(', --')} ${torchOnly.length > 1 ? 'need' : 'needs'} --backend pytorch`);
    return 1;
  }
  const pytorch =
    o.backend === 'pytorch' ? { python: o.python, device: o.device ?? 'auto', nproc: o.nproc ?? 1, syncBatchNorm: o.syncBatchNorm !== false } : undefined;
  const start = {
    graph: r.graph,
    dataset: dataset as DatasetSpec,
    config,
    backend: o.backend,
    pytorch,
    out: o.out ? { dir: o.out } : undefined,
    resumeFrom: o.resume,
  };
  if (o.printLaunch) return printLaunch(start, o, out);
  const client = TrainingClient.start(start);
  const report = o.json ? (e: TrainEvent) => out.log(jsonLine(e)) : humanReporter(out, process.stderr.isTTY === true);
  // run.json and the batch log, as the app keeps them, so the app's Runs list shows this run.
  let journal: Promise<RunJournal | undefined> = Promise.resolve(undefined);
  client.on('event', (e) => {
    if (e.type === 'started' && e.runDir)
      journal = RunJournal.begin(RunFolder.open(e.runDir), {
        name: r.graph!.name,
        dataset: datasetName,
        epochs: e.epochs,
        continued: o.resume !== undefined,
      }).catch((err: Error) => {
        out.err(`attn train: cannot write run.json: ${err.message}`);
        return undefined;
      });
    void journal.then((j) => j?.follow(e));
    if (e.type !== 'error') report(e);
  });
  // First Ctrl-C: stop after this batch with a checkpoint; second: end the process.
  let interrupts = 0;
  const onSigint = () => (interrupts++ === 0 ? client.stop() : client.kill('SIGTERM'));
  process.on('SIGINT', onSigint);
  try {
    await client.done;
    await (await journal)?.settled();
    return 0;
  } catch (err) {
    const message = (err as Error).message;
    await (await journal)?.setState('failed', message);
    if (o.json) out.log(JSON.stringify({ type: 'error', message }));
    else out.err(`attn train: ${message}`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** Prepares the run folder and prints the torchrun command for each node of a multi-node job. */
async function printLaunch(start: Parameters<typeof PytorchRun.setup>[0], o: TrainOptions, out: Out): Promise<number> {
  let run: PytorchRun | undefined;
  try {
    run = await PytorchRun.setup({ ...start, explainPlan: liveExplainPlan });
    const nnodes = o.nnodes ?? 1;
    const plan = { nnodes, nprocPerNode: o.nproc ?? 1, master: o.master ?? '127.0.0.1:29500' };
    if (o.json) {
      const commands = Array.from({ length: nnodes }, (_, nodeRank) => run!.launchCommand({ ...plan, nodeRank }));
      out.log(JSON.stringify({ type: 'launch', runDir: run.folder, commands }));
      return 0;
    }
    out.log(`# run folder ${run.folder} (prepared; it must be at this path on every node, e.g. on a shared file system)`);
    const ranks = o.nodeRank === undefined ? Array.from({ length: nnodes }, (_, k) => k) : [o.nodeRank];
    for (const nodeRank of ranks) out.log(`# node ${nodeRank} of ${nnodes}:\n${run.launchCommand({ ...plan, nodeRank })}`);
    out.log(`# events come as JSON lines on stdout of node 0 and in ${path.join(run.folder, 'pytorch', 'events.jsonl')}; meanwhile or afterwards,`);
    out.log(`# attn finalize ${run.folder}   writes them into the run folder (checkpoints, metrics, attention snapshots)`);
    return 0;
  } catch (err) {
    out.err(`attn train: ${(err as Error).message}`);
    return 1;
  } finally {
    run?.dispose();
  }
}

/** Adds `attn train` to the program; the exit code goes to `setCode`. */
export function registerTrainCommand(program: Command, out: Out, setCode: (code: number) => void): void {
  program
    .command('train')
    .description('train a graph file on a dataset, in its own process; writes a run folder')
    .argument('<file>', 'graph file (*.attn.json)')
    .option(
      '--dataset <name>',
      `${datasetNames().join(', ')}, an image folder (one sub-folder per class) or a .csv file (default: the graph file's dataset, with its saved settings)`,
    )
    .option('--epochs <n>', 'epochs', int('--epochs'))
    .option('--batch-size <n>', 'samples per batch', int('--batch-size'))
    .option('--lr <x>', 'learning rate', positive)
    .option('--limit <n>', 'use at most this many samples (training + validation)', int('--limit'))
    .addOption(new Option('--backend <b>', "tfjs backend, or pytorch (your Python's torch)").choices([...TRAINING_BACKEND_OPTIONS]).default('auto'))
    .addOption(new Option('--device <d>', 'pytorch: torch device').choices([...TORCH_DEVICES]))
    .option('--nproc <n>', 'pytorch: ranks on this machine (DDP: gloo on CPU, NCCL on CUDA)', atLeastOne('--nproc'))
    .option('--python <path>', 'pytorch: the Python interpreter (default /usr/bin/python3, then python3 on PATH)')
    .option('--no-sync-batch-norm', "pytorch, several ranks: BatchNorm statistics of each rank's shard, not of the global batch")
    .option('--print-launch', 'pytorch: prepare the run folder and print the torchrun command for each node instead of training')
    .option('--nnodes <n>', 'with --print-launch: nodes in the job', atLeastOne('--nnodes'))
    .option('--node-rank <r>', "with --print-launch: print only this node's command", int('--node-rank'))
    .option('--master <host:port>', "with --print-launch: node 0's address, reachable from every node (default 127.0.0.1:29500)")
    .option('--seed <s>', 'seed for the data split and order', int('--seed'))
    .option('--out <dir>', 'run folder (default runs/<timestamp>-<name>)')
    .addOption(new Option('--optimizer <name>', 'optimizer').choices(['sgd', 'adam', 'adamw']))
    .option('--checkpoint-every <n>', 'also checkpoint every n batches', int('--checkpoint-every'))
    .option(
      '--cpu-workers <n|auto>',
      'wasm and cpu backends: threads that each train a shard of every batch (gradients averaged; BatchNorm per shard); auto: the cores, for large batches of large models',
      (v: string) => (v === 'auto' ? 'auto' : atLeastOne('--cpu-workers')(v)),
    )
    .option('--resume <dir>', 'continue from a run folder, its checkpoints/ or one checkpoint')
    .option('--json', 'one JSON event per line; the last is {"type":"done",...}')
    .action(async (file: string, o: TrainOptions) => setCode(await train(file, o, out)));
  program
    .command('finalize')
    .description('write what a bare torchrun of a PyTorch run reported (--print-launch) into its run folder: checkpoints, metrics, snapshots')
    .argument('<run>', 'the run folder')
    .action(async (run: string) => {
      try {
        const r = await finalizeTorchrun(run);
        out.log(`${run}: ${r.checkpoints} checkpoint(s), ${r.snapshots} attention snapshot(s) written${r.ended ? '; the run has ended' : ''}`);
        setCode(0);
      } catch (err) {
        out.err(`attn finalize: ${(err as Error).message}`);
        setCode(1);
      }
    });
}
