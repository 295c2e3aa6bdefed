// One run folder: created for a new run or opened to continue or read one.
// Every write into a run folder and every read out of one goes through here
// (checkpoint contents through ./checkpoints.ts).
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encodePng } from '../data/png.js';
import { listCheckpoints, locateCheckpoint, newestCheckpoint, recover, writeCheckpoint, type CheckpointWrite } from './checkpoints.js';
import { heatmap } from './heatmap.js';
import { inside, RUN_FILES, runFolderName, RunFolderError, slug, stepName, stepOf } from './layout.js';
import { writePoint } from './test-pause.js';
import type { BatchRow, MetricRow, SnapshotMap } from './types.js';
import { probeExplanationSchema, type ProbeExplanation } from '../schemas/train-events.js';
import { captionRecordSchema, type CaptionRecord } from '../schemas/caption.js';

/** A snapshot's explanation: attention/step-N/explanation.{json,f32,png} (a map's files are <node>.<port>.*, two dots). */
const EXPLANATION = 'explanation';
/** A captioning model's snapshot: the probe samples' captions, attention/step-N/caption.{json,f32,png}. */
const CAPTION = 'caption';
/** The records beside the maps in a snapshot folder. */
const RECORDS = new Set([EXPLANATION, CAPTION].map((r) => `${r}.json`));

let tmpCount = 0;

/** Writes through a temporary file and a rename, so a crash never leaves half a file. */
export async function writeAtomic(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${++tmpCount}.tmp`);
  try {
    await writeFile(tmp, text, 'utf8');
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** JSON lines; a line cut short by a kill (only ever the last) is skipped. */
function jsonLines<T>(text: string): T[] {
  return text.split('\n').flatMap((line) => {
    try {
      return line.trim() ? [JSON.parse(line) as T] : [];
    } catch {
      return [];
    }
  });
}

/** Rows by step or epoch where a later row replaces the earlier ones from that point on (a continued run). */
function superseding<T>(rows: T[], key: (r: T) => number): T[] {
  const out: T[] = [];
  for (const row of rows) {
    while (out.length && key(out[out.length - 1]) >= key(row)) out.pop();
    out.push(row);
  }
  return out;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export class RunFolder {
  private constructor(readonly path: string) {}

  /**
   * A new run folder: exactly `dir`, or a fresh <start time>-<name> under `base`
   * (default runs/). Holds the graph and the settings from the start.
   */
  static async create(opts: { base?: string; dir?: string; name: string; graph: unknown; config: unknown; vocabulary?: unknown }): Promise<RunFolder> {
    const dir = opts.dir ?? (await RunFolder.freeName(opts.base ?? 'runs', opts.name));
    await mkdir(path.join(dir, RUN_FILES.checkpoints), { recursive: true });
    await mkdir(path.join(dir, RUN_FILES.attention), { recursive: true });
    await writeFile(path.join(dir, RUN_FILES.graph), `${JSON.stringify(opts.graph, null, 2)}\n`);
    await writeFile(path.join(dir, RUN_FILES.config), `${JSON.stringify(opts.config, null, 2)}\n`);
    if (opts.vocabulary !== undefined) await writeFile(path.join(dir, RUN_FILES.vocabulary), `${JSON.stringify(opts.vocabulary)}\n`);
    return new RunFolder(dir);
  }

  /** A folder name under `base` that no run has yet (nothing is created). */
  static async freeName(base: string, name: string): Promise<string> {
    const first = runFolderName(name);
    let dir = path.join(base, first);
    for (let k = 2; existsSync(dir); k++) dir = path.join(base, `${first}-${k}`);
    return dir;
  }

  /** An existing run folder, to read or continue it. */
  static open(dir: string): RunFolder {
    return new RunFolder(dir);
  }

  /**
   * The run folder and checkpoint that `from` names (a run folder, its
   * checkpoints/ or one checkpoint), after removing what a killed write left
   * behind: the newest complete checkpoint, found by scanning.
   */
  static async forResume(from: string): Promise<{ run: RunFolder; checkpoint: string }> {
    const full = path.resolve(from);
    const checkpointsDir =
      stepOf(path.basename(full)) !== undefined
        ? path.dirname(full)
        : path.basename(full) === RUN_FILES.checkpoints
          ? full
          : path.join(full, RUN_FILES.checkpoints);
    await recover(checkpointsDir);
    const { runDir, checkpoint } = await locateCheckpoint(from);
    return { run: new RunFolder(runDir), checkpoint };
  }

  private file(name: string): string {
    return path.join(this.path, name);
  }

  // ---------------------------------------------------------------- checkpoints

  get checkpointsDir(): string {
    return this.file(RUN_FILES.checkpoints);
  }

  writeCheckpoint(w: CheckpointWrite): Promise<string> {
    return writeCheckpoint(this.checkpointsDir, w);
  }

  /** Names of the complete checkpoints, oldest first. */
  async checkpoints(): Promise<string[]> {
    return (await listCheckpoints(this.checkpointsDir)).map((c) => c.name);
  }

  /** A checkpoint by name (step-NNNNNN), or the newest when no name is given; refuses any other name. */
  async checkpoint(name?: string): Promise<string> {
    if (name === undefined) {
      const newest = await newestCheckpoint(this.checkpointsDir);
      if (!newest) throw new RunFolderError(`the run ${this.path} has no complete checkpoint`);
      return newest;
    }
    if (stepOf(name) === undefined) throw new RunFolderError(`"${name}" is not a checkpoint name (step-NNNNNN)`);
    const dir = path.join(this.checkpointsDir, name);
    if (!existsSync(dir)) throw new RunFolderError(`the run ${this.path} has no checkpoint ${name}`);
    return dir;
  }

  // ---------------------------------------------------------------- metrics

  /** Appends one epoch's row; the trainer writes it after that epoch's checkpoint, which holds it too. */
  async appendMetrics(row: MetricRow): Promise<void> {
    await writePoint('metrics-row');
    await appendFile(this.file(RUN_FILES.metrics), `${JSON.stringify(row)}\n`);
  }

  /**
   * Sets metrics.jsonl to exactly these rows: a run continued from a checkpoint
   * takes the rows that checkpoint holds, so rows of epochs after it (written
   * before a kill, or by the continuation that was rewound) are dropped.
   */
  async resetMetrics(rows: readonly MetricRow[]): Promise<void> {
    await writeAtomic(this.file(RUN_FILES.metrics), rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }

  /** One row per epoch; where a file holds an epoch twice (an older version's kill), the later row counts. */
  async metrics(): Promise<MetricRow[]> {
    const text = await readFile(this.file(RUN_FILES.metrics), 'utf8').catch(() => '');
    return superseding(jsonLines<MetricRow>(text), (r) => r.epoch);
  }

  // ---------------------------------------------------------------- batches

  async appendBatch(row: BatchRow): Promise<void> {
    await appendFile(this.file(RUN_FILES.batches), `${JSON.stringify(row)}\n`);
  }

  /** The batch log; where a run was continued from an earlier checkpoint, the later batches replace the earlier ones. */
  async batches(): Promise<BatchRow[]> {
    const text = await readFile(this.file(RUN_FILES.batches), 'utf8').catch(() => '');
    return superseding(jsonLines<BatchRow>(text), (r) => r.step);
  }

  // ---------------------------------------------------------------- graph, settings, summary

  /** A JSON file of the run folder (graph.attn.json, config.json, run.json), or undefined when missing or unreadable. */
  async readJson(name: (typeof RUN_FILES)['graph' | 'config' | 'summary' | 'vocabulary']): Promise<unknown> {
    try {
      return JSON.parse(await readFile(this.file(name), 'utf8')) as unknown;
    } catch {
      return undefined;
    }
  }

  async writeJson(name: (typeof RUN_FILES)['summary'], value: unknown): Promise<void> {
    await writeAtomic(this.file(name), `${JSON.stringify(value, null, 2)}\n`);
  }

  // ---------------------------------------------------------------- attention snapshots

  /**
   * Writes one snapshot: attention/step-NNNNNN/<node>.<port>.f32 (raw
   * little-endian float32), .json (shape, kind, axes; `nonFinite`: how many
   * values are NaN or infinite) and .png (heat map of the first probe sample);
   * the probes' explanation as explanation.f32, .json and .png; a captioning
   * model's captions as caption.json (the words), .f32 (each word's map,
   * [samples, steps, rows, cols]) and .png (the first sample's maps, word by word).
   * Resolves with the folder.
   */
  async writeAttention(step: number, maps: readonly SnapshotMap[], explanation?: ProbeExplanation, caption?: CaptionRecord): Promise<string> {
    const dir = path.join(this.file(RUN_FILES.attention), stepName(step));
    await mkdir(dir, { recursive: true });
    for (const m of maps) {
      const base = path.join(dir, `${slug(m.nodeId)}.${slug(m.port)}`);
      const { data, ...header } = m;
      const nonFinite = data.reduce((n, v) => (Number.isFinite(v) ? n : n + 1), 0);
      await writeFile(`${base}.f32`, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      await writeFile(`${base}.json`, `${JSON.stringify({ ...header, dtype: 'float32', step, ...(nonFinite && { nonFinite }) }, null, 1)}\n`);
      await writeFile(`${base}.png`, encodePng(heatmap(data, m.shape, m.kind)));
    }
    if (explanation) {
      const { data, ...header } = explanation;
      const base = path.join(dir, EXPLANATION);
      await writeFile(`${base}.f32`, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      await writeFile(`${base}.json`, `${JSON.stringify({ ...header, dtype: 'float32', step }, null, 1)}\n`);
      await writeFile(`${base}.png`, encodePng(heatmap(data, [1, header.rows, header.cols], 'spatial')));
    }
    if (caption) {
      const { data, ...header } = caption;
      const base = path.join(dir, CAPTION);
      await writeFile(`${base}.f32`, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      await writeFile(`${base}.json`, `${JSON.stringify({ ...header, dtype: 'float32', step }, null, 1)}\n`);
      const written = header.words[0]?.length ?? 0;
      await writeFile(
        `${base}.png`,
        encodePng(heatmap(data.subarray(0, written * header.rows * header.cols), [1, written, header.rows, header.cols], 'matrix')),
      );
    }
    return dir;
  }

  /** Steps with an attention snapshot, in order. */
  async snapshots(): Promise<number[]> {
    const names = await readdir(this.file(RUN_FILES.attention)).catch(() => [] as string[]);
    return names.flatMap((n) => stepOf(n) ?? []).sort((a, b) => a - b);
  }

  /** The maps of one attention snapshot. */
  async readSnapshot(step: number): Promise<SnapshotMap[]> {
    const dir = path.join(this.file(RUN_FILES.attention), stepName(step));
    let files: string[];
    try {
      files = (await readdir(dir)).filter((f) => f.endsWith('.json') && !RECORDS.has(f)).sort();
    } catch {
      throw new RunFolderError(`the run has no attention snapshot at step ${step}`);
    }
    const maps: SnapshotMap[] = [];
    for (const f of files) {
      const header = JSON.parse(await readFile(inside(dir, f, dir), 'utf8')) as Omit<SnapshotMap, 'data'>;
      const bytes = await readFile(inside(dir, f.replace(/\.json$/, '.f32'), dir));
      if (!Array.isArray(header.shape) || bytes.byteLength !== sizeOf(header.shape) * 4) throw new RunFolderError(`snapshot ${f} at step ${step} is truncated`);
      const data = new Float32Array(bytes.byteLength / 4);
      new Uint8Array(data.buffer).set(bytes);
      maps.push({ nodeId: header.nodeId, port: header.port, kind: header.kind, axes: header.axes, shape: header.shape, fullShape: header.fullShape, data });
    }
    return maps;
  }

  /** The explanation stored with a snapshot; undefined when the probes computed none. */
  async readExplanation(step: number): Promise<ProbeExplanation | undefined> {
    return this.readRecord(step, EXPLANATION, 'explanation', probeExplanationSchema, (e) => e.rows * e.cols);
  }

  /** The captions stored with a snapshot; undefined when the model writes none. */
  async readCaption(step: number): Promise<CaptionRecord | undefined> {
    return this.readRecord(step, CAPTION, 'caption', captionRecordSchema, (c) => c.words.length * c.steps * c.rows * c.cols);
  }

  /** A record beside a snapshot's maps: its header (NAME.json) and its float32 values (NAME.f32), `size` of them. */
  private async readRecord<T extends { data: Float32Array }>(
    step: number,
    name: string,
    what: string,
    schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } },
    size: (record: T) => number,
  ): Promise<T | undefined> {
    const base = path.join(this.file(RUN_FILES.attention), stepName(step), name);
    let text: string;
    try {
      text = await readFile(`${base}.json`, 'utf8');
    } catch {
      return undefined;
    }
    const bytes = await readFile(`${base}.f32`).catch(() => Buffer.alloc(0));
    const data = new Float32Array(bytes.byteLength / 4);
    new Uint8Array(data.buffer).set(bytes);
    const parsed = schema.safeParse({ ...JSON.parse(text), data });
    if (!parsed.success || data.length !== size(parsed.data)) throw new RunFolderError(`the ${what} at step ${step} is truncated or damaged (${base}.json)`);
    return parsed.data;
  }
}
