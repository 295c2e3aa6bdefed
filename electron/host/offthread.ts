// The worker-thread side of off-thread host work (see runOffThread in
// exporter.ts): runs one job named in workerData and posts its result back.
// The job's heap is the worker's own, capped by resourceLimits; the server's
// event loop keeps answering while it runs.
import { parentPort, workerData } from 'node:worker_threads';
import { exportFiles } from './exporter.js';
import type { ExportJob } from './exporter.js';

const job = workerData as ExportJob;
exportFiles(job.graph, job.target).then(
  (files) => parentPort!.postMessage({ files }),
  (err: unknown) => parentPort!.postMessage({ error: err instanceof Error ? err.message : String(err) }),
);
