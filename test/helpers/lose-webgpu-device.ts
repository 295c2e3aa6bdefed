// Preloaded into `attn train`'s processes (NODE_OPTIONS=--import=…): in the
// training process, once it has reported the checkpoint of step
// ATTN_TEST_LOSE_DEVICE_AT_STEP, the WebGPU device is destroyed for real
// (GPUDevice.destroy), as a driver reset or an unplugged eGPU would lose it. The
// CLI process has no IPC channel (process.send) and is left alone.
import { webgpuRun } from '../../engine/backends/webgpu.js';

const atStep = Number(process.env.ATTN_TEST_LOSE_DEVICE_AT_STEP);
const send = process.send?.bind(process);

if (send && Number.isInteger(atStep)) {
  process.send = ((message: { type?: string; step?: number }, ...rest: unknown[]) => {
    const sent = (send as (...a: unknown[]) => boolean)(message, ...rest);
    if (message?.type === 'checkpoint' && message.step === atStep) webgpuRun()?.device.destroy();
    return sent;
  }) as typeof process.send;
}
