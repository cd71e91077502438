// Each worker opens its own WebGPU device once, and reopens it after a loss.
import { openDevice, type Gpu } from '../gpu/device.ts';

let gpu: Promise<Gpu> | undefined;

export function workerGpu(): Promise<Gpu> {
  gpu ??= openDevice(navigator.gpu, { where: 'worker' }).catch((e) => {
    gpu = undefined;
    throw e;
  });
  return gpu.then((g) => {
    if (!g.isLost) return g;
    gpu = undefined;
    return workerGpu();
  });
}

/** Forget the device (after a device-lost error) so the next call opens a fresh one. */
export function forgetWorkerGpu(): void {
  gpu = undefined;
}
