// Kernels the wasm backend lacks for training, registered on demand.
import type { TF } from '../blocks/contract.js';

export function registerWasmKernels(_tf: TF): void {}
