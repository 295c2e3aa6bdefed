// `npm run bench -- fuzz`: 1,000 mutated templates through validate, export and
// compile, each in a bounded time; reports crashes, hangs, the slowest case,
// the largest heap, and diagnostics that speak of a node without naming it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serializeGraph } from '../engine/graph/schema.js';
import { loadTf } from '../engine/backends/load-tf.js';
import { mutateGraphText } from '../test/helpers/graph-mutator.js';
import { probeGraphFile, unnamedNode } from '../test/helpers/hostile-graphs.js';
import { loadTemplate, templateFiles } from '../test/helpers/graphs.js';

/** A case slower than this counts as a hang (the unbounded cases ran for minutes). */
const HANG_MS = 10_000;

export async function benchFuzz({ cases = 1000, seed = 1 }: { cases?: number; seed?: number } = {}) {
  const tf = await loadTf();
  const sources = templateFiles().map((f) => ({ file: f, text: serializeGraph(loadTemplate(f)) }));
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-fuzz-'));
  const report = {
    cases: 0,
    valid: 0,
    compiled: 0,
    crashes: [] as string[],
    hangs: [] as string[],
    unnamed: [] as string[],
    maxMs: 0,
    maxHeapMB: 0,
    totalSeconds: 0,
  };
  const t0 = performance.now();
  try {
    for (let s = seed; s < seed + cases; s++) {
      const source = sources[s % sources.length];
      const { text, mutations } = mutateGraphText(source.text, s);
      const file = path.join(dir, `case-${s}.attn.json`);
      writeFileSync(file, text);
      const r = await probeGraphFile(file, { tf });
      const what = `seed ${s}: ${source.file} (${mutations.join(', ')})`;
      report.cases++;
      if (r.valid) report.valid++;
      if (r.compiled) report.compiled++;
      if (r.crash) report.crashes.push(`${what}: ${r.crash.split('\n')[0]}`);
      if (r.ms > HANG_MS) report.hangs.push(`${what}: ${Math.round(r.ms)} ms`);
      for (const d of r.diagnostics.filter(unnamedNode)) report.unnamed.push(`${what}: ${d.message.slice(0, 200)}`);
      report.maxMs = Math.max(report.maxMs, Math.round(r.ms));
      report.maxHeapMB = Math.max(report.maxHeapMB, Math.round(r.heapUsed / 2 ** 20));
      tf.disposeVariables();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  report.totalSeconds = +((performance.now() - t0) / 1000).toFixed(1);
  return { ...report, crashCount: report.crashes.length, hangCount: report.hangs.length, unnamedCount: report.unnamed.length };
}
