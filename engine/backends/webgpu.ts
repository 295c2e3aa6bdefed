// tfjs' WebGPU backend on Dawn, the WebGPU implementation inside Chromium, which
// the `webgpu` npm package builds for Node: Vulkan on Linux, Metal on macOS,
// D3D12 on Windows. Both packages are optional dependencies.
//
// We open the adapter and device ourselves rather than through the backend's
// own factory: to look at the adapter before committing to it (a software
// adapter is a CPU emulating a GPU, which `auto` must not pick), to report it,
// and to turn the device's asynchronous failures (lost device, out-of-memory,
// a buffer over the adapter's limits) into errors. WebGPU reports those on the
// side while the work goes on with invalid buffers; a run would train on
// garbage. Every read back from the GPU, which the training loop does each step
// for its metrics, throws the first such failure instead.
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { TF } from '../blocks/contract.js';
import type { GpuAdapter } from '../schemas/backends.js';
import { registerWebgpuResizeGrads } from './resize-grads.js';

const require = createRequire(import.meta.url);

// The little of WebGPU used here, typed locally: @webgpu/types comes with the
// optional `webgpu` package, and the build must not need it.
interface GPUAdapter {
  info: AdapterInfoLike;
  features: { has(name: string): boolean };
  limits: Record<string, number>;
  requestDevice(desc: { requiredFeatures: string[]; requiredLimits: Record<string, number> }): Promise<GPUDevice>;
}
export interface GPUDevice {
  limits: Record<string, number>;
  lost: Promise<{ reason: string; message: string }>;
  addEventListener(
    type: 'uncapturederror',
    listener: (ev: { error: { constructor: { name: string }; message: string }; preventDefault(): void }) => void,
  ): void;
  destroy(): void;
}
interface GPU {
  requestAdapter(opts: { powerPreference: 'high-performance' | 'low-power' }): Promise<GPUAdapter | null>;
}

/** What Dawn says about an adapter (GPUAdapterInfo, with the fallback flag newer Dawns put there). */
export interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/** Names of the software rasterisers Dawn can find: Mesa's lavapipe/llvmpipe, SwiftShader, Microsoft's WARP. */
const SOFTWARE_NAMES = /llvmpipe|lavapipe|swiftshader|\bwarp\b|microsoft basic render/i;

export function describeAdapter(info: AdapterInfoLike, isFallbackAdapter = false): GpuAdapter {
  const a = {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
  };
  const software =
    isFallbackAdapter ||
    info.isFallbackAdapter === true ||
    a.architecture.toLowerCase() === 'software' ||
    [a.vendor, a.device, a.description].some((s) => SOFTWARE_NAMES.test(s));
  return { ...a, software };
}

/** `auto` refuses a software adapter; the message says what was found and how to use it anyway. */
export class SoftwareAdapterError extends Error {
  constructor(readonly adapter: GpuAdapter) {
    super(
      `the only WebGPU adapter is a software one (${adapter.description || adapter.device || adapter.vendor}): a CPU emulating a GPU, slower than the CPU backends; --backend webgpu uses it anyway`,
    );
  }
}

/** Mesa's Vulkan drivers want XDG_RUNTIME_DIR; where it is unset, a private folder of our own. */
export function ensureRuntimeDir(): void {
  if (process.env.XDG_RUNTIME_DIR) return;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'attn-xdg-'));
  process.env.XDG_RUNTIME_DIR = dir;
}

interface Dawn {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

let dawn: Promise<GPU> | undefined;

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return (
    msg
      .split('\n')
      .find((l) => l.trim())
      ?.trim() ?? 'unknown error'
  );
}

async function importOptional<T>(pkg: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    const code = (e as { code?: string }).code;
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && firstLine(e).includes(pkg)) throw new Error(`${pkg} is not installed`);
    throw new Error(`${pkg} failed to load: ${firstLine(e)}`);
  }
}

/**
 * Dawn's `navigator.gpu`, with the WebGPU constants (GPUBufferUsage…) tfjs reads
 * as globals. One instance per process: a second one, and the first collected
 * beside it, crashed Mesa's lavapipe (a pthread mutex assertion).
 */
function dawnGpu(): Promise<GPU> {
  ensureRuntimeDir();
  dawn ??= (async () => {
    const pkg = 'webgpu'; // a plain string would make the build look for the optional package's types
    const { create, globals } = await importOptional(pkg, () => import(pkg) as Promise<Dawn>);
    const define = (on: object, k: string, value: unknown) => Object.defineProperty(on, k, { value, configurable: true, writable: true });
    for (const [k, v] of Object.entries(globals)) if (!(k in globalThis)) define(globalThis, k, v);
    const gpu = create([]);
    // tfjs' WebGPUBackend refuses to start without navigator.gpu (Node 21+ has a navigator, without gpu; Node 20 none).
    const g = globalThis as { navigator?: { gpu?: GPU } };
    if (!g.navigator) define(globalThis, 'navigator', {});
    if (!g.navigator!.gpu) define(g.navigator!, 'gpu', gpu);
    return gpu;
  })();
  return dawn.catch((e) => {
    dawn = undefined;
    throw e;
  });
}

/** The best adapter Dawn finds, described; an error where there is none. */
export async function requestAdapter(): Promise<{ adapter: GPUAdapter; info: GpuAdapter }> {
  const gpu = await dawnGpu();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter)
    throw new Error(
      "Dawn found no WebGPU adapter: no Vulkan, Metal or D3D12 driver it accepts (on Linux: the GPU vendor's Vulkan driver, or Mesa 23+ for a software one)",
    );
  const fallback = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return { adapter, info: describeAdapter(adapter.info, fallback) };
}

/** The device tfjs' own factory would ask for: the adapter's full limits, timestamps where offered. */
function requestDevice(adapter: GPUAdapter): Promise<GPUDevice> {
  const l = adapter.limits;
  return adapter.requestDevice({
    requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
    requiredLimits: {
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    },
  });
}

/** What the first failure of a device means for the user. */
function gpuFailure(kind: 'lost' | 'memory' | 'validation', detail: string, adapter: GpuAdapter): Error {
  const on = `on ${adapter.description || adapter.device || adapter.vendor}`;
  const text = detail.split('\n')[0].trim();
  if (kind === 'lost') return new Error(`the GPU device was lost ${on} (${text || 'no reason given'}): the run stops; its last checkpoint is kept`);
  if (kind === 'memory') return new Error(`the GPU ran out of memory ${on} (${text}): try a smaller batch size`);
  return new Error(`the GPU refused the work ${on}: ${text} (a tensor too large for this GPU's limits? try a smaller batch size)`);
}

interface WebGPUBackendLike {
  device: GPUDevice;
  read(dataId: object): Promise<unknown>;
  readSync(dataId: object): unknown;
  dispose(): void;
}

export interface WebgpuRun {
  adapter: GpuAdapter;
  device: GPUDevice;
  /** The first failure the device reported, or null. */
  failure(): Error | null;
}

let current: WebgpuRun | undefined;

/** The running webgpu device, for tests and reports; undefined before loadWebgpu. */
export function webgpuRun(): WebgpuRun | undefined {
  return current;
}

/** Reads back from the GPU throw the device's first failure, whenever it happened. */
function guardReads(backend: WebGPUBackendLike, failure: () => Error | null): void {
  const read = backend.read.bind(backend);
  backend.read = async (dataId) => {
    const before = failure();
    if (before) throw before;
    let value: unknown;
    try {
      value = await read(dataId);
    } catch (e) {
      throw failure() ?? e;
    }
    const after = failure();
    if (after) throw after;
    return value;
  };
  // tfjs reads a GPU tensor synchronously through OffscreenCanvas, which Node lacks.
  const readSync = backend.readSync.bind(backend);
  backend.readSync = (dataId) => {
    try {
      return readSync(dataId);
    } catch (e) {
      if (e instanceof ReferenceError && e.message.includes('OffscreenCanvas'))
        throw new Error('a tensor on the GPU cannot be read synchronously (dataSync, arraySync) in Node on the webgpu backend: read it with await data()');
      throw e;
    }
  };
}

/**
 * Puts tfjs on the webgpu backend and returns the adapter it runs on. A software
 * adapter is refused unless `allowSoftware`. A device that was lost is replaced.
 */
export async function loadWebgpu(tf: TF, opts: { allowSoftware: boolean }): Promise<GpuAdapter> {
  if (current && !current.failure() && tf.findBackendFactory('webgpu')) {
    if (current.adapter.software && !opts.allowSoftware) throw new SoftwareAdapterError(current.adapter);
    if (!(await tf.setBackend('webgpu'))) throw new Error("the 'webgpu' backend did not initialise");
    return current.adapter;
  }
  // Loaded before navigator.gpu exists, so that it does not register a factory of its own (another device).
  const { WebGPUBackend } = await importOptional(
    '@tensorflow/tfjs-backend-webgpu',
    async () => require('@tensorflow/tfjs-backend-webgpu') as { WebGPUBackend: new (device: GPUDevice, info?: unknown) => WebGPUBackendLike },
  );
  const { adapter, info } = await requestAdapter();
  if (info.software && !opts.allowSoftware) throw new SoftwareAdapterError(info);
  const device = await requestDevice(adapter);
  let failed: Error | null = null;
  device.lost.then((l) => (failed ??= gpuFailure('lost', l.message || l.reason, info)));
  device.addEventListener('uncapturederror', (ev) => {
    // The first error is the one reported; Dawn would print it and each one it causes on stderr.
    ev.preventDefault();
    const err = ev.error;
    failed ??= gpuFailure(err.constructor.name === 'GPUOutOfMemoryError' ? 'memory' : 'validation', err.message, info);
  });
  const backend = new WebGPUBackend(device, adapter.info);
  guardReads(backend, () => failed);
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => backend as never);
  if (!(await tf.setBackend('webgpu'))) throw new Error("the 'webgpu' backend did not initialise");
  await tf.ready();
  registerWebgpuResizeGrads(tf);
  current = { adapter: info, device, failure: () => failed };
  return info;
}
