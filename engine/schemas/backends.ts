// The tfjs backends a run can ask for, best first. A module of its own (no
// Node imports) so that the host API's schemas, which the renderer loads too,
// can name them.
export const BACKEND_ORDER = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_ORDER)[number];
/** What a run may ask for: a backend, or the best one that loads. */
export const BACKEND_OPTIONS = ['auto', ...BACKEND_ORDER] as const;
export type BackendOption = (typeof BACKEND_OPTIONS)[number];

/** The GPU a webgpu run uses, as its adapter describes itself. */
export interface GpuAdapter {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU emulating a GPU (lavapipe/llvmpipe, SwiftShader, WARP): `auto` never picks one. */
  software: boolean;
}

/** "mesa llvmpipe: Mesa 25.0.7 (LLVM 15.0.6) [software]": vendor, then the most telling of description, device and architecture. */
export function adapterLabel(a: GpuAdapter): string {
  const name = a.description || a.device || a.architecture || 'unnamed adapter';
  const vendor = a.vendor && !name.toLowerCase().startsWith(a.vendor.toLowerCase()) ? `${a.vendor} ` : '';
  const arch = a.architecture && a.architecture !== 'software' && !name.includes(a.architecture) ? ` (${a.architecture})` : '';
  return `${vendor}${name}${arch}${a.software ? ' [software]' : ''}`;
}

/** What a training run may ask for: a tfjs option, or `pytorch` (the user's torch; never chosen by `auto`). */
export const TRAINING_BACKEND_OPTIONS = [...BACKEND_OPTIONS, 'pytorch'] as const;
export type TrainingBackendOption = (typeof TRAINING_BACKEND_OPTIONS)[number];
