// Two or more run folders side by side: their curves (per epoch and per
// batch, with wall time), final metrics, the settings that differ, and each
// graph's difference from the first run's.
import path from 'node:path';
import { diffGraphs } from '../graph/diff.js';
import type { GraphFile } from '../graph/types.js';
import { RUN_FILES, RunFolderError } from './layout.js';
import { RunFolder } from './run-folder.js';
import { readSummary } from './summary.js';
import type { ComparedRun, MetricRow, RunComparison } from './types.js';

function flatten(value: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) out[prefix] = value;
  return out;
}

/**
 * Reads and compares the runs in `dirs` (two or more). `settingsOf` fills in
 * what a run's config.json leaves to defaults (the caller knows the training
 * schema), so that an lr left at its default equals the same lr given.
 */
export async function compareRuns(
  dirs: readonly string[],
  opts: { settingsOf?: (config: Record<string, unknown>) => Record<string, unknown> } = {},
): Promise<RunComparison> {
  if (dirs.length < 2) throw new RunFolderError('a comparison needs two runs or more');
  const graphs: (GraphFile | undefined)[] = [];
  const runs: ComparedRun[] = [];
  for (const dir of dirs) {
    const run = RunFolder.open(dir);
    const graph = (await run.readJson(RUN_FILES.graph)) as GraphFile | undefined;
    const config = (await run.readJson(RUN_FILES.config)) as Record<string, unknown> | undefined;
    if (!graph || !config) throw new RunFolderError(`${dir} is not a run folder (no readable ${graph ? RUN_FILES.config : RUN_FILES.graph})`);
    const summary = await readSummary(run);
    const epochs = await run.metrics();
    const { epoch: _e, step: _s, seconds: _t, ...last } = epochs.at(-1) ?? ({} as MetricRow);
    graphs.push(graph);
    runs.push({
      dir,
      runId: path.basename(path.resolve(dir)),
      name: summary?.name ?? graph.name,
      summary,
      epochs,
      batches: await run.batches(),
      finalMetrics: summary && Object.keys(summary.finalMetrics).length ? summary.finalMetrics : last,
      settings: flatten(opts.settingsOf ? opts.settingsOf(config) : config),
      snapshots: await run.snapshots(),
    });
  }
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.settings)))].sort();
  const settingsDiff = keys
    .map((key) => ({ key, values: runs.map((r) => r.settings[key]) }))
    .filter(({ values }) => values.some((v) => JSON.stringify(v) !== JSON.stringify(values[0])));
  const graphDiffs = runs.slice(1).map((r, k) => ({ runId: r.runId, against: runs[0].runId, diff: diffGraphs(graphs[0]!, graphs[k + 1]!) }));
  const metricNames = Object.keys(runs[0].finalMetrics).filter((m) => runs.every((r) => m in r.finalMetrics));
  return { runs, settingsDiff, graphDiffs, metricNames };
}
