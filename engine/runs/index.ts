// The run folder: everything a training run leaves behind, and the one module
// that writes and reads it (the trainer, `attn train`, `attn export`, the
// app's host and any other backend go through here).
//
//   <run>/graph.attn.json   the graph as trained             RunFolder.create
//        /config.json       settings, dataset, backend        RunFolder.create
//        /run.json          state and final numbers (Runs)    RunJournal, readSummary
//        /metrics.jsonl     one MetricRow per finished epoch  appendMetrics, resetMetrics, metrics
//        /batches.jsonl     BatchRow per streamed batch       RunJournal, batches
//        /checkpoints/step-NNNNNN/  files + checkpoint.json   writeCheckpoint, readCheckpoint
//        /checkpoints/latest.json   hint: the newest's name   (written by writeCheckpoint)
//        /attention/step-NNNNNN/<node>.<port>.{f32,json,png} writeAttention, readSnapshot
//
// A writer (a trainer for any framework):
//   const run = await RunFolder.create({ base, name, graph, config });
//   await run.writeCheckpoint({ step, epoch, files: [['weights.bin', bytes], ...], keep: 3 });
//   await run.appendMetrics({ epoch, step, seconds, loss, ... });   // after that epoch's checkpoint
// To continue: `RunFolder.forResume(from)` cleans up after a killed write and
// names the newest complete checkpoint; read it with `readCheckpoint(dir)`
// (every file verified against its sha256), then `run.resetMetrics(rows)`
// with the rows the checkpoint holds, so metrics.jsonl has one row per epoch.
// Continuing from an earlier checkpoint than the newest rewinds the run: the
// metrics rows after it go at once, the checkpoints after it at the next write.
//
// Checkpoint contents are the writer's: engine/train/checkpoint.ts stores the
// tfjs format (model.json + weights.bin, optimizer.bin, trainer.json).
// Every name read from a run folder is checked to stay inside it (`inside`).
export {
  CHECKPOINT_MANIFEST,
  listCheckpoints,
  locateCheckpoint,
  newestCheckpoint,
  readCheckpoint,
  recover,
  type CheckpointFiles,
  type CheckpointManifest,
  type CheckpointWrite,
} from './checkpoints.js';
export { attentionGrid, heatmap, NON_FINITE } from './heatmap.js';
export { inside, RUN_FILES, runFolderName, RunFolderError, slug, stepName, stepOf } from './layout.js';
export { compareRuns } from './compare.js';
export { RunFolder, writeAtomic } from './run-folder.js';
export { readSummary, RunJournal, type JournalEvent } from './summary.js';
export {
  isFinal,
  RUN_STATES,
  type BatchRow,
  type MetricRow,
  type RunState,
  type RunSummary,
  type SnapshotMap,
  type ComparedRun,
  type RunComparison,
} from './types.js';
export { WRITE_POINTS, type WritePoint } from './test-pause.js';
