// What the editor asks of training besides the run itself: a dataset's preview
// before training, and the request that inspects a run's checkpoint on one
// validation sample or a dropped image (the run folder is engine/runs').
import { checkGraphSchema } from '../../engine/graph/schema.js';
import type { DatasetSpec } from '../../engine/data/index.js';
import { previewData } from '../../engine/data/preview.js';
import { inputHint } from '../../engine/train/setup.js';
import type { InspectCommand } from '../../engine/worker/protocol.js';
import { imageTooLarge, type DatasetPreview, type ImageFile } from '../../common/host-api/api.js';
import { RUN_FILES, RunFolder } from '../../engine/runs/index.js';
import { isJpeg } from '../../engine/data/image-folder.js';
import { isPng } from '../../engine/data/png.js';
import { BACKEND_ORDER } from '../../engine/backends/names.js';

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

/** The inspection command for a run folder: its graph, dataset (so its split and normalisation), backend and checkpoint (a named one, or its newest). */
export async function inspectionFor(runDir: string, { index, image, checkpoint }: InspectionTarget): Promise<InspectCommand> {
  const run = RunFolder.open(runDir);
  const config = ((await run.readJson(RUN_FILES.config)) ?? {}) as { dataset?: DatasetSpec; backend?: string };
  const graph = checkGraphSchema((await run.readJson(RUN_FILES.graph)) ?? null).graph;
  if (!graph) throw new Error('the run folder holds no readable graph');
  if (!config.dataset) throw new Error('the run folder does not say which dataset it trained on');
  const backend = BACKEND_ORDER.find((b) => b === config.backend) ?? 'auto';
  return { graph, dataset: config.dataset, checkpoint: await run.checkpoint(checkpoint), index, image, backend };
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
