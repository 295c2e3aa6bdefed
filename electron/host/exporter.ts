// The host's code export: the engine's exporters (a file per target, and a
// captioner's words beside it), run in a worker thread with a memory limit and a
// time limit. A small graph can ask
// for a huge export (composites nested ten deep, each repeated ten times), and
// in the server or the desktop main process that would block every other call
// and end at the heap limit; in a worker it ends as a clear error. ONNX starts a
// Python with torch, which takes tens of seconds: it gets a longer limit.
import { Worker } from 'node:worker_threads';
import type { ExportFormat } from '../../common/host-api/api.js';
import { captionVocabularyFile, captionVocabularyText, graphCaptionClasses } from '../../engine/data/caption-vocabulary.js';
import { exportOnnx } from '../../engine/export/onnx.js';
import { exportCode, exportFileName } from '../../engine/export/targets.js';
import type { GraphFile } from '../../engine/graph/types.js';
import type { Exporter } from './service.js';

export interface ExportJob {
  graph: GraphFile;
  target: ExportFormat;
}

type ExportFile = { name: string; content: string; encoding?: 'base64' };

/**
 * The export itself, on the calling thread: the target's file, named and written by the engine's exporters (ONNX
 * through the PyTorch export and a Python with torch); for a captioner of a captions dataset, its words beside it,
 * which the exported decoders read to write words.
 */
export async function exportFiles(graph: GraphFile, target: ExportFormat): Promise<ExportFile[]> {
  if (target === 'onnx')
    return [{ name: exportFileName(graph.name, 'onnx'), content: Buffer.from(await exportOnnx(graph)).toString('base64'), encoding: 'base64' }];
  const name = exportFileName(graph.name, target);
  const words = await graphCaptionClasses(graph);
  return [{ name, content: exportCode(graph, target) }, ...(words ? [{ name: captionVocabularyFile(name), content: captionVocabularyText(words) }] : [])];
}

export interface OffThreadLimits {
  /** The worker's heap (V8's old generation), in MB. */
  maxOldGenerationSizeMb: number;
  timeoutMs: number;
}

export const EXPORT_LIMITS: OffThreadLimits = { maxOldGenerationSizeMb: 1536, timeoutMs: 60_000 };
const ONNX_TIMEOUT_MS = 180_000;

const WORKER = new URL('./offthread.js', import.meta.url);

/** Runs an export in a worker thread of its own, which ends with the answer, at the limits, or at the timeout. */
export function exportOffThread(job: ExportJob, limits: OffThreadLimits = EXPORT_LIMITS): Promise<ExportFile[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { workerData: job, resourceLimits: { maxOldGenerationSizeMb: limits.maxOldGenerationSizeMb } });
    let settled = false;
    const settle = (err: Error | null, files?: ExportFile[]) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      if (err) reject(err);
      else resolve(files!);
    };
    const what = `the ${job.target} export of "${job.graph.name || 'model'}"`;
    const timeoutMs = job.target === 'onnx' ? Math.max(limits.timeoutMs, ONNX_TIMEOUT_MS) : limits.timeoutMs;
    const timer = setTimeout(
      () =>
        settle(
          new Error(`${what} took longer than ${timeoutMs / 1000} s and was stopped; the graph expands to too much code (nested or repeated composites?)`),
        ),
      timeoutMs,
    );
    worker.on('message', (m: { files?: ExportFile[]; error?: string }) => settle(m.error !== undefined ? new Error(m.error) : null, m.files));
    worker.on('error', (err: Error & { code?: string }) =>
      settle(
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new Error(
              `${what} needed more than ${limits.maxOldGenerationSizeMb} MB and was stopped; the graph expands to too much code (nested or repeated composites?)`,
            )
          : new Error(`${what} failed: ${err.message}`),
      ),
    );
    worker.on('exit', (code) => settle(new Error(`${what} ended (exit code ${code}) without an answer`)));
  });
}

/** The host's exporter at given limits. */
export const offThreadExporter =
  (limits: OffThreadLimits = EXPORT_LIMITS): Exporter =>
  (graph, target) =>
    exportOffThread({ graph, target }, limits);

export const engineExporter = offThreadExporter();
