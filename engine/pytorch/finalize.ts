// A PyTorch run that a bare torchrun trained (the command of `attn train
// --print-launch` or of the Training panel; no attn reading rank 0), brought
// into the run folder's layout. Rank 0 then wrote only what Python can write
// without a second copy of engine/runs: its safetensors in pytorch/staging and
// its protocol events in pytorch/events.jsonl. This replays those events
// through the writer attn uses while it drives a run (TorchRunWriter, RunJournal),
// so the folder ends up as a driven run's: tfjs checkpoints with the
// safetensors inside, metrics, attention snapshots, run.json. Safe to call
// while torchrun is still going and again later: events already applied are
// counted in pytorch/events.applied and skipped.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { selectBackend } from '../backends/select.js';
import { compileGraph } from '../compile/compile.js';
import { exportPytorch } from '../export/pytorch.js';
import { parseGraphText } from '../graph/schema.js';
import { RUN_FILES, RunFolder, RunJournal, type JournalEvent } from '../runs/index.js';
import type { RunSpec } from './prepare.js';
import type { TorchCheckpoint } from './run-files.js';
import { TorchRunWriter, type TorchAttention } from './run-writer.js';

const readText = (file: string) => readFile(file, 'utf8').catch(() => undefined);

/** Applies the events rank 0 logged since the last call; says how many of each, and whether the run has ended. */
export async function finalizeTorchrun(runDir: string): Promise<{ checkpoints: number; snapshots: number; ended: boolean }> {
  const run = RunFolder.open(runDir);
  const torchDir = path.join(run.path, 'pytorch');
  const specText = await readText(path.join(torchDir, 'spec.json'));
  if (specText === undefined) throw new Error(`${run.path} is not a PyTorch run folder (no pytorch/spec.json)`);
  const spec = JSON.parse(specText) as RunSpec;
  const parsed = parseGraphText((await readText(path.join(run.path, RUN_FILES.graph))) ?? '');
  if (!parsed.graph) throw new Error(`${path.join(run.path, RUN_FILES.graph)}: ${parsed.diagnostics[0]?.message ?? 'unreadable'}`);
  const lines = ((await readText(spec.events)) ?? '').split('\n');
  // The last line may still be being written: only whole lines count.
  const whole = lines.slice(0, -1).filter((l) => l.trim());
  const appliedFile = path.join(torchDir, 'events.applied');
  const applied = Number((await readText(appliedFile)) ?? 0) || 0;
  const todo = whole.slice(applied).map((l, i) => {
    try {
      return JSON.parse(l) as { type: string } & Record<string, unknown>;
    } catch {
      throw new Error(`${spec.events}:${applied + i + 1}: not a JSON event`);
    }
  });
  const result = { checkpoints: 0, snapshots: 0, ended: todo.some((e) => e.type === 'done' || e.type === 'error') };
  if (!todo.length) return result;

  // tfjs (its plain CPU backend) only holds the compiled model for the checkpoint conversion.
  const { tf } = await selectBackend({ backend: 'cpu' });
  const compiled = compileGraph(tf, parsed.graph, { seed: spec.config.seed });
  const writer = new TorchRunWriter(tf, run, compiled.model, exportPytorch(parsed.graph, { probes: true }), spec.config, spec.caption);
  const journal = await RunJournal.begin(run, { name: parsed.graph.name, epochs: spec.config.epochs, continued: applied > 0 });
  try {
    for (const [i, e] of todo.entries()) {
      if (e.type === 'ready') await journal.follow({ type: 'started', backend: 'pytorch' } as JournalEvent);
      else if (e.type === 'torch-checkpoint') {
        await writer.checkpoint(e as unknown as TorchCheckpoint);
        result.checkpoints++;
      } else if (e.type === 'attention') {
        await writer.attention(e as unknown as TorchAttention);
        result.snapshots++;
      } else if (e.type === 'error') await journal.setState('failed', String(e.message));
      else await journal.follow(e as JournalEvent);
      await writeFile(appliedFile, String(applied + i + 1));
    }
    await journal.settled();
  } finally {
    compiled.model.dispose();
  }
  return result;
}
