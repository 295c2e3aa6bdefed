// A prepared PyTorch run trained as a bare torchrun trains it on one node: the worker
// and the run's spec, with torchrun's rank variables and none of attn's environment, so
// that rank 0 writes only pytorch/events.jsonl and pytorch/staging (attn finalize reads them).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { WORKER_SCRIPT } from '../../engine/pytorch/prepare.js';
import { PYTHON } from './torch.js';

/** Runs the worker on the spec of the run folder `dir` as rank 0 of 1; rejects with the end of its stderr if it fails. */
export function runBareWorker(dir: string): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, RANK: '0', LOCAL_RANK: '0', WORLD_SIZE: '1' };
  delete env.ATTN_DRIVEN;
  delete env.ATTN_COMMANDS;
  return new Promise<void>((resolve, reject) => {
    const child = spawn(PYTHON, [WORKER_SCRIPT, path.join(dir, 'pytorch', 'spec.json')], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`the worker exited with ${code}: ${err.slice(-2000)}`))));
  });
}
