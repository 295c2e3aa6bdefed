// Where a tfjs computation's time goes, kernel by kernel: every kernel of the
// backend in use is wrapped in a timer while `timeKernels` runs. Kernels that
// run other kernels (our wasm training kernels are built from ops) are charged
// their own time only, so the figures add up to the time spent in kernels.
import type { TF } from '../engine/blocks/contract.js';

export interface KernelTimes {
  /** Self time and calls per kernel name, most time first. */
  byKernel: { kernel: string; ms: number; calls: number }[];
  /** Sum of the self times. */
  kernelMs: number;
  calls: number;
}

type KernelConfig = ReturnType<TF['getKernelsForBackend']>[number];

/** A kernel call's name with its input shapes and the attributes that pick its path (`byShape`). */
function callKey(name: string, args: { inputs: Record<string, { shape: number[] } | undefined>; attrs?: Record<string, unknown> }): string {
  const shapes = Object.values(args.inputs).map((t) => (t ? `[${t.shape}]` : '-'));
  const attrs = Object.entries(args.attrs ?? {})
    .filter(([k]) => ['perm', 'transposeA', 'transposeB', 'axis', 'dim'].includes(k))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `${name} ${shapes.join(' ')} ${attrs.join(' ')}`.trim();
}

/**
 * Runs `run` with every kernel timed; `reset` forgets what was timed so far (to leave out a warm-up).
 * With `byShape`, each kernel's calls are told apart by input shapes and path-picking attributes;
 * with `cpuClock`, times are the process's CPU time (on a loaded machine wall time mostly measures
 * the wait for a core, charged to whichever kernel was running).
 */
export async function timeKernels(
  tf: TF,
  run: (reset: () => void) => Promise<void>,
  opts: { byShape?: boolean; cpuClock?: boolean } = {},
): Promise<KernelTimes> {
  const backend = tf.getBackend();
  const now = opts.cpuClock
    ? () => {
        const c = process.cpuUsage();
        return (c.user + c.system) / 1000;
      }
    : () => performance.now();
  const stats = new Map<string, { ms: number; calls: number }>();
  // Time spent in the kernels a running kernel called, one entry per nesting level.
  const children: number[] = [];
  const originals: KernelConfig[] = tf.getKernelsForBackend(backend);
  const swap = (configs: KernelConfig[]) => {
    for (const k of configs) {
      tf.unregisterKernel(k.kernelName, backend);
      tf.registerKernel(k);
    }
  };
  swap(
    originals.map((k) => ({
      ...k,
      kernelFunc: ((args: never) => {
        const t0 = now();
        children.push(0);
        try {
          return (k.kernelFunc as (a: never) => unknown)(args);
        } finally {
          const total = now() - t0;
          const self = total - children.pop()!;
          if (children.length) children[children.length - 1] += total;
          const key = opts.byShape ? callKey(k.kernelName, args) : k.kernelName;
          const s = stats.get(key) ?? { ms: 0, calls: 0 };
          s.ms += self;
          s.calls++;
          stats.set(key, s);
        }
      }) as never,
    })),
  );
  try {
    await run(() => stats.clear());
  } finally {
    swap(originals);
  }
  const byKernel = [...stats].map(([kernel, s]) => ({ kernel, ms: s.ms, calls: s.calls })).sort((a, b) => b.ms - a.ms);
  return { byKernel, kernelMs: byKernel.reduce((a, k) => a + k.ms, 0), calls: byKernel.reduce((a, k) => a + k.calls, 0) };
}
