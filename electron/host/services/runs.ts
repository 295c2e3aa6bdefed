// The runs folder as the Runs list sees it: every run's summary, one run in detail,
// and its stored attention snapshots (the folder itself is engine/runs').
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { HostRequestParsed, RunDetail, RunSnapshot, RunSummary } from '../../../common/host-api/api.js';
import { checkGraphSchema } from '../../../engine/graph/schema.js';
import { readSummary, RUN_FILES, RunFolder } from '../../../engine/runs/index.js';

/** A run folder's name as the renderer may give it: no separators, no leading dot. */
export const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export class RunService {
  constructor(private readonly runsDir: string) {}

  async listRuns(): Promise<RunSummary[]> {
    let names: string[];
    try {
      names = await readdir(this.runsDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const runs: RunSummary[] = [];
    for (const n of names.filter((x) => RUN_ID.test(x))) {
      const s = await readSummary(this.run(n));
      if (s) runs.push(s);
    }
    return runs.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  async openRun({ runId }: HostRequestParsed<'openRun'>): Promise<RunDetail> {
    const run = this.run(runId);
    const summary = await readSummary(run);
    if (!summary) throw new Error(`no run "${runId}"`);
    const config = ((await run.readJson(RUN_FILES.config)) ?? {}) as Record<string, unknown>;
    const graphJson = await run.readJson(RUN_FILES.graph);
    const graph = graphJson === undefined ? undefined : checkGraphSchema(graphJson).graph;
    return {
      ...summary,
      config,
      graph,
      metrics: await run.metrics(),
      batches: await run.batches(),
      checkpoints: await run.checkpoints(),
      snapshots: await run.snapshots(),
    };
  }

  async readSnapshot({ runId, step }: HostRequestParsed<'readSnapshot'>): Promise<RunSnapshot> {
    const run = this.run(runId);
    const [explanation, caption] = await Promise.all([run.readExplanation(step), run.readCaption(step)]);
    return { step, maps: await run.readSnapshot(step), ...(explanation && { explanation }), ...(caption && { caption }) };
  }

  private run(runId: string): RunFolder {
    return RunFolder.open(path.join(this.runsDir, runId));
  }
}
