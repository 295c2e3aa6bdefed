// What the editor reads back from training on disk: a run's attention snapshots,
// a dataset's preview before training, and the request that inspects a run's
// checkpoint on one validation sample or a dropped image.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { checkGraphSchema } from '../../engine/graph/schema.js';
import { sizeOf, type DatasetSpec } from '../../engine/data/index.js';
import { previewData } from '../../engine/data/preview.js';
import { inputHint } from '../../engine/train/setup.js';
import type { InspectCommand } from '../../engine/worker/protocol.js';
import { imageTooLarge, type AttentionMap, type BatchRow, type DatasetPreview, type ImageFile, type RunSnapshot } from '../../common/host-api/api.js';
import { isJpeg } from '../../engine/data/image-folder.js';
import { isPng } from '../../engine/data/png.js';
import { BACKEND_ORDER } from '../../engine/backends/names.js';

/** The batch numbers streamed while the run trained (the host writes them; metrics.jsonl has epochs only). */
export const BATCH_LOG = 'batches.jsonl';

/** The batch log; where a run was continued from an earlier checkpoint, the later batches replace the earlier ones. */
export async function readBatchLog(runDir: string): Promise<BatchRow[]> {
  const text = await readFile(path.join(runDir, BATCH_LOG), 'utf8').catch(() => '');
  const rows: BatchRow[] = [];
  for (const line of text.split('\n')) {
    let row: BatchRow;
    try {
      row = JSON.parse(line) as BatchRow;
    } catch {
      continue; // empty, or cut short by a crash
    }
    while (rows.length && rows[rows.length - 1].step >= row.step) rows.pop();
    rows.push(row);
  }
  return rows;
}

const stepName = (step: number) => `step-${String(step).padStart(6, '0')}`;

/** The maps of one attention snapshot of a run (attention/step-NNNNNN/<node>.<port>.{json,f32}). */
export async function readSnapshot(runDir: string, step: number): Promise<RunSnapshot> {
  const dir = path.join(runDir, 'attention', stepName(step));
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  } catch {
    throw new Error(`the run has no attention snapshot at step ${step}`);
  }
  const maps: AttentionMap[] = [];
  for (const f of files) {
    const header = JSON.parse(await readFile(path.join(dir, f), 'utf8')) as Omit<AttentionMap, 'data'>;
    const bytes = await readFile(path.join(dir, f.replace(/\.json$/, '.f32')));
    if (bytes.byteLength !== sizeOf(header.shape) * 4) throw new Error(`snapshot ${f} at step ${step} is truncated`);
    const data = new Float32Array(bytes.byteLength / 4);
    new Uint8Array(data.buffer).set(bytes);
    maps.push({ nodeId: header.nodeId, port: header.port, kind: header.kind, axes: header.axes, shape: header.shape, fullShape: header.fullShape, data });
  }
  return { step, maps };
}

/** Loads a dataset as training would (the graph's input decides image size and sequence length) and shows a few samples, or the error. */
export async function previewDataset(spec: DatasetSpec, graph: unknown, examples = 8): Promise<DatasetPreview> {
  const g = graph ? checkGraphSchema(graph).graph : undefined;
  let hint;
  try {
    hint = g ? inputHint(g) : undefined;
  } catch {
    hint = undefined; // a graph with errors: the dataset's own shape
  }
  try {
    return { ok: true, ...(await previewData(spec, hint, examples)) };
  } catch (err) {
    return { ok: false, name: spec.name, error: (err as Error).message };
  }
}

/** A validation sample (by index) or a given image, through a run's latest or named checkpoint. */
export interface InspectionTarget {
  index?: number;
  image?: { name: string; bytes: Uint8Array<ArrayBuffer> };
  checkpoint?: string;
}

/** The inspection command for a run folder: its graph, dataset (so its split and normalisation) and backend. */
export async function inspectionFor(runDir: string, { index, image, checkpoint }: InspectionTarget): Promise<InspectCommand> {
  const read = async (f: string) => JSON.parse(await readFile(path.join(runDir, f), 'utf8')) as unknown;
  const config = (await read('config.json').catch(() => ({}))) as { dataset?: DatasetSpec; backend?: string };
  const graph = checkGraphSchema(await read('graph.attn.json').catch(() => null)).graph;
  if (!graph) throw new Error('the run folder holds no readable graph');
  if (!config.dataset) throw new Error('the run folder does not say which dataset it trained on');
  const backend = BACKEND_ORDER.find((b) => b === config.backend) ?? 'auto';
  return { graph, dataset: config.dataset, checkpoint: path.join(runDir, 'checkpoints', checkpoint ?? ''), index, image, backend };
}

/** A dropped file's bytes, refused early (before a training process starts) when they are no PNG or JPEG. */
export function imageBytes(file: ImageFile): { name: string; bytes: Uint8Array<ArrayBuffer> } {
  const bytes = new Uint8Array(Buffer.from(file.base64, 'base64'));
  if (bytes.length === 0) throw new Error(`${file.name} is empty`);
  const tooLarge = imageTooLarge(file.name, bytes.length);
  if (tooLarge) throw new Error(tooLarge);
  if (!isPng(bytes) && !isJpeg(bytes)) throw new Error(`${file.name} is not a PNG or JPEG image`);
  return { name: file.name, bytes };
}
