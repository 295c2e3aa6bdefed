// The run directory: everything a run leaves behind.
//   graph.attn.json  config.json  metrics.jsonl  checkpoints/  attention/
// Attention snapshots: attention/step-000120/<node>.<port>.f32 (raw little-endian
// float32), .json (shape, kind, axes) and .png (heatmap of the first probe sample).
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { GraphFile } from '../graph/types.js';
import { encodePng } from '../data/png.js';
import type { AttentionMap } from './events.js';
import { heatmap } from './heatmap.js';

const slug = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'run';
const stepName = (step: number) => `step-${String(step).padStart(6, '0')}`;

export class RunDir {
  private constructor(readonly path: string) {}

  /** A new run folder under `base`: <base>/<timestamp>-<name>, or exactly `dir` when given. */
  static async create(opts: { base?: string; dir?: string; name: string; graph: GraphFile; config: unknown }): Promise<RunDir> {
    const stamp = new Date().toISOString().replace(/[:]/g, '-').replace(/\..*$/, '');
    const dir = opts.dir ?? path.join(opts.base ?? 'runs', `${stamp}-${slug(opts.name)}`);
    await mkdir(path.join(dir, 'checkpoints'), { recursive: true });
    await mkdir(path.join(dir, 'attention'), { recursive: true });
    await writeFile(path.join(dir, 'graph.attn.json'), `${JSON.stringify(opts.graph, null, 2)}\n`);
    await writeFile(path.join(dir, 'config.json'), `${JSON.stringify(opts.config, null, 2)}\n`);
    return new RunDir(dir);
  }

  /** An existing run folder, to continue a run in it. */
  static open(dir: string): RunDir {
    return new RunDir(dir);
  }

  get checkpoints(): string {
    return path.join(this.path, 'checkpoints');
  }

  checkpointPath(step: number): string {
    return path.join(this.checkpoints, stepName(step));
  }

  async appendMetrics(record: Record<string, unknown>): Promise<void> {
    await appendFile(path.join(this.path, 'metrics.jsonl'), `${JSON.stringify(record)}\n`);
  }

  /** Writes the maps; returns the folder. */
  async writeAttention(step: number, maps: readonly AttentionMap[]): Promise<string> {
    const dir = path.join(this.path, 'attention', stepName(step));
    await mkdir(dir, { recursive: true });
    for (const m of maps) {
      const base = path.join(dir, `${slug(m.nodeId)}.${slug(m.port)}`);
      const { data, ...header } = m;
      await writeFile(`${base}.f32`, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      await writeFile(`${base}.json`, `${JSON.stringify({ ...header, dtype: 'float32', step }, null, 1)}\n`);
      await writeFile(`${base}.png`, encodePng(heatmap(data, m.shape, m.kind)));
    }
    return dir;
  }
}
