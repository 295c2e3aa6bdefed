// A data-parallel replica: a worker thread with its own tfjs (and wasm
// instance) holding the same compiled model as the trainer. Each step it takes
// the trainer's current weights from shared memory, computes the loss and
// gradients of its shard of the batch, and writes the gradients back to shared
// memory; the trainer averages them with its own and applies the optimiser
// once. It keeps no state of its own between steps.
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend, type BackendOption } from '../backends/select.js';
import { wasmHeapAccess } from '../backends/wasm-heap-kernels.js';
import type { Tensor, TF } from '../blocks/contract.js';
import { compileGraph } from '../compile/compile.js';
import { applyFineTuning } from '../train/fine-tune.js';
import { layout, type ReplicaInit, type ReplicaReply, type StepRequest } from '../train/replica-protocol.js';
import { shardGradients, type TrainedOutput } from '../train/shard-gradients.js';

const init = workerData as ReplicaInit;
const port = parentPort!;
const reply = (r: ReplicaReply, transfer: ArrayBuffer[] = []) => port.postMessage(r, transfer);

const sizeOf = (shape: readonly (number | null)[]) => shape.reduce<number>((a, b) => a * (b ?? 1), 1);

function mismatch(what: string, mine: number[], theirs: number[]): string | null {
  if (mine.length !== theirs.length) return `${what}: the replica has ${mine.length}, the trainer ${theirs.length}`;
  const i = mine.findIndex((n, j) => n !== theirs[j]);
  return i < 0 ? null : `${what} #${i}: the replica's has ${mine[i]} elements, the trainer's ${theirs[i]}`;
}

async function start(): Promise<void> {
  const { tf } = await selectBackend({ backend: init.backend as BackendOption });
  const compiled = compileGraph(tf, init.graph);
  applyFineTuning(compiled, init.config);
  const { model } = compiled;
  const vars = model.trainableWeights.map((w) => w.read() as ReturnType<TF['variable']>);
  const problem =
    mismatch(
      'weight',
      model.weights.map((w) => sizeOf(w.shape)),
      init.weightSizes,
    ) ??
    mismatch(
      'trainable weight',
      vars.map((v) => v.size),
      init.varSizes,
    );
  if (problem) throw new Error(`replica ${init.rank} compiled a different model (${problem})`);
  const weights = new Float32Array(init.weights);
  const grads = new Float32Array(init.grads);
  const weightAt = layout(init.weightSizes).offsets;
  const gradAt = layout(init.varSizes).offsets;
  const trained = init.trained as TrainedOutput[];
  const heap = wasmHeapAccess(tf);

  const step = async (m: StepRequest): Promise<void> => {
    const t0 = performance.now();
    // A copy: on the cpu backend a tensor would otherwise keep the shared memory as its own.
    model.weights.forEach((w, i) => {
      const t = tf.tensor(weights.slice(weightAt[i], weightAt[i] + init.weightSizes[i]), w.shape as number[]);
      w.write(t);
      t.dispose();
    });
    compiled.clock.step = m.clock;
    const x = tf.tensor(m.x.data, m.x.shape, m.x.data instanceof Int32Array ? 'int32' : 'float32');
    const r = shardGradients(tf, model, trained, init.classes, vars, x, m.labels);
    r.grads.forEach((g: Tensor, i) => grads.set(heap ? heap.view(g) : (g.dataSync() as Float32Array), gradAt[i]));
    const [total, ...read] = await Promise.all([r.value, ...r.losses, ...r.probs].map((t) => t.data()));
    const n = trained.length;
    // Copies: a tensor's data may be the backend's own buffer, which a transfer would take away.
    const probs = read.slice(n).map((p) => Float32Array.from(p as Float32Array));
    tf.dispose([x, r.value, ...r.grads, ...r.losses, ...r.probs]);
    reply(
      { type: 'grads', ms: performance.now() - t0, labelled: r.labelled, total: total[0], losses: read.slice(0, n).map((l) => l[0]), probs },
      probs.map((p) => p.buffer as ArrayBuffer),
    );
  };

  port.on('message', (m: StepRequest) => step(m).catch((err: unknown) => reply({ type: 'error', message: err instanceof Error ? err.message : String(err) })));
  reply({ type: 'ready' });
}

start().catch((err: unknown) => reply({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
