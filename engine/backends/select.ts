// Backend selection, best first: CUDA libtensorflow, WebGPU on Dawn, CPU
// libtensorflow, wasm, pure JS. The native packages are optional dependencies
// that may be missing or fail to load (no libtensorflow, no CUDA, no GPU
// adapter): we try them, keep the reason, and fall back.
import { createRequire } from 'node:module';
import path from 'node:path';
import type { TF } from '../blocks/contract.js';
import { importTf } from './load-tf.js';
import { repairTfjs } from './repairs.js';
import { registerWasmKernels } from './wasm-kernels.js';
import { loadWebgpu } from './webgpu.js';
import { BACKEND_ORDER, type BackendChoice, type BackendOption, type GpuAdapter } from '../schemas/backends.js';

export { BACKEND_ORDER, BACKEND_OPTIONS, adapterLabel, type BackendChoice, type BackendOption, type GpuAdapter } from '../schemas/backends.js';

export interface SelectedBackend {
  tf: TF;
  /** The choice that runs: one of BACKEND_ORDER. */
  backend: BackendChoice;
  /** The GPU that runs it (webgpu). */
  adapter?: GpuAdapter;
  /** Every better backend that was tried and could not run, with the reason. */
  skipped: { backend: string; reason: string }[];
}

export interface SelectOptions {
  backend?: BackendOption;
}

const require = createRequire(import.meta.url);

/** The first line of an error, which for a failed native load names the missing library. */
function reasonOf(e: unknown): string {
  const msg = e instanceof Error ? e.message : typeof e === 'object' && e && 'message' in e ? String(e.message) : String(e);
  return (
    msg
      .split('\n')
      .find((l) => l.trim())
      ?.trim() ?? 'unknown error'
  );
}

/** tfjs-node(-gpu) registers the 'tensorflow' backend on its own import of tfjs and makes it current. */
async function loadNative(pkg: string): Promise<TF> {
  let tf: TF;
  try {
    tf = require(pkg) as TF;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'MODULE_NOT_FOUND' && reasonOf(e).includes(`'${pkg}'`)) throw new Error(`${pkg} is not installed`);
    throw new Error(`${pkg} failed to load: ${reasonOf(e)}`);
  }
  if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg} loaded but its 'tensorflow' backend did not initialise`);
  await tf.ready();
  return repairTfjs(tf);
}

let wasmPathsSet = false;

async function loadWasm(): Promise<TF> {
  const tf = await importTf();
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
  } catch (e) {
    throw new Error(`@tensorflow/tfjs-backend-wasm failed to load: ${reasonOf(e)}`);
  }
  if (!wasmPathsSet) {
    // Emscripten reads the binary with fs in Node, so a directory path (with the trailing slash) is enough.
    const dist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
    wasm.setWasmPaths(dist);
    wasmPathsSet = true;
  }
  // tfjs reports a failed backend initialisation only through console.warn.
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(' '));
  let ok: boolean;
  try {
    ok = await tf.setBackend('wasm');
  } finally {
    console.warn = warn;
  }
  if (!ok) throw new Error(`the wasm backend did not initialise: ${warnings.slice(1).join(' ') || warnings.join(' ') || 'no reason given'}`);
  await tf.ready();
  registerWasmKernels(tf);
  return tf;
}

async function loadCpu(): Promise<TF> {
  const tf = await importTf();
  if (!(await tf.setBackend('cpu'))) throw new Error("the 'cpu' backend did not initialise");
  await tf.ready();
  return tf;
}

interface Loaded {
  tf: TF;
  adapter?: GpuAdapter;
}

async function loadWebgpuBackend(forced: boolean): Promise<Loaded> {
  const tf = await importTf();
  return { tf, adapter: await loadWebgpu(tf, { allowSoftware: forced }) };
}

const tfOnly = (load: () => Promise<TF>) => async (): Promise<Loaded> => ({ tf: await load() });

/** Each backend's loader; `forced`: asked for by name (webgpu then takes a software adapter too). */
const loaders: Record<BackendChoice, (forced: boolean) => Promise<Loaded>> = {
  'tensorflow-gpu': tfOnly(() => loadNative('@tensorflow/tfjs-node-gpu')),
  webgpu: loadWebgpuBackend,
  tensorflow: tfOnly(() => loadNative('@tensorflow/tfjs-node')),
  wasm: tfOnly(loadWasm),
  cpu: tfOnly(loadCpu),
};

export function isBackendOption(s: string): s is BackendOption {
  return s === 'auto' || (BACKEND_ORDER as readonly string[]).includes(s);
}

/**
 * Loads tfjs on the best backend this machine can run, or on the one asked for.
 * A forced backend that cannot run is an error that says why; 'auto' (the default)
 * falls back and lists what it skipped.
 */
export async function selectBackend(opts: SelectOptions = {}): Promise<SelectedBackend> {
  const want = opts.backend ?? 'auto';
  if (!isBackendOption(want)) throw new Error(`unknown backend '${want}' (expected one of auto, ${BACKEND_ORDER.join(', ')})`);
  if (want !== 'auto') {
    try {
      return { ...(await loaders[want](true)), backend: want, skipped: [] };
    } catch (e) {
      throw new Error(`backend '${want}' is not available: ${reasonOf(e)}`);
    }
  }
  const skipped: SelectedBackend['skipped'] = [];
  for (const backend of BACKEND_ORDER) {
    try {
      return { ...(await loaders[backend](false)), backend, skipped };
    } catch (e) {
      skipped.push({ backend, reason: reasonOf(e) });
    }
  }
  throw new Error(`no tfjs backend could run: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`);
}
