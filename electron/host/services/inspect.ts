// Inspecting a trained run: one validation sample, or a dropped image, through
// one of its checkpoints, in a training process (the shell's `inspect`).
import path from 'node:path';
import { imageTooLarge, type HostRequestParsed, type ImageFile, type Inspection } from '../../../common/host-api/api.js';
import { BACKEND_ORDER } from '../../../engine/schemas/backends.js';
import type { ExplainOptions } from '../../../engine/schemas/inspection.js';
import type { DatasetSpec } from '../../../engine/data/index.js';
import { isJpeg } from '../../../engine/data/image-folder.js';
import { isPng } from '../../../engine/data/png.js';
import { checkGraphSchema } from '../../../engine/graph/schema.js';
import { RUN_FILES, RunFolder } from '../../../engine/runs/index.js';
import type { InspectCommand } from '../../../engine/worker/protocol.js';
import type { HostServiceOptions } from '../options.js';
import { exists } from './quiet-fs.js';

export class InspectService {
  constructor(
    private readonly runsDir: string,
    private readonly inspect?: HostServiceOptions['inspect'],
    private readonly unavailable?: string,
  ) {}

  async inspectSample({ runId, index, checkpoint, explain }: HostRequestParsed<'inspectSample'>): Promise<Inspection> {
    return this.inspectRun(runId, { index, checkpoint, explain });
  }

  async inspectImage({ runId, image, checkpoint, explain }: HostRequestParsed<'inspectImage'>): Promise<Inspection> {
    return this.inspectRun(runId, { image: imageBytes(image), checkpoint, explain });
  }

  async inspectText({ runId, text, checkpoint, explain }: HostRequestParsed<'inspectText'>): Promise<Inspection> {
    return this.inspectRun(runId, { text, checkpoint, explain });
  }

  private async inspectRun(runId: string, what: InspectionTarget): Promise<Inspection> {
    if (!this.inspect) throw new Error(this.unavailable ?? 'inspection needs the training process, which is not available here');
    const dir = path.join(this.runsDir, runId);
    if (!(await exists(dir))) throw new Error(`no run "${runId}"`);
    return this.inspect(await inspectionFor(dir, what));
  }
}

/** A validation sample (by index), a given image or a typed text, through a run's latest or named checkpoint. */
export interface InspectionTarget {
  index?: number;
  image?: { name: string; bytes: Uint8Array<ArrayBuffer> };
  text?: string;
  checkpoint?: string;
  /** Explanations to compute too (none without it). */
  explain?: ExplainOptions;
}

/** The inspection command for a run folder: its graph, dataset (so its split and normalisation), backend and checkpoint (a named one, or its newest). */
export async function inspectionFor(runDir: string, { index, image, text, checkpoint, explain }: InspectionTarget): Promise<InspectCommand> {
  const run = RunFolder.open(runDir);
  const config = ((await run.readJson(RUN_FILES.config)) ?? {}) as { dataset?: DatasetSpec; backend?: string };
  const graph = checkGraphSchema((await run.readJson(RUN_FILES.graph)) ?? null).graph;
  if (!graph) throw new Error('the run folder holds no readable graph');
  if (!config.dataset) throw new Error('the run folder does not say which dataset it trained on');
  const backend = BACKEND_ORDER.find((b) => b === config.backend) ?? 'auto';
  return { graph, dataset: config.dataset, checkpoint: await run.checkpoint(checkpoint), index, image, text, backend, ...(explain && { explain }) };
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
