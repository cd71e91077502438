// Node only: WebGPU through Dawn (npm `webgpu`). Imported by the CLI and the unit tests, never by the
// browser build.
import { create, globals } from 'webgpu';
import { openDevice, type Gpu, type OpenOptions } from './device.ts';
import { chooseVulkanDriver } from './vulkan-driver.ts';

// Dawn crashes the process if its GPU object is garbage-collected while a device lives: keep it here.
let dawn: GPU | undefined;

export async function openDawnDevice(options: Omit<OpenOptions, 'where'> = {}): Promise<Gpu> {
  chooseVulkanDriver();
  if (!dawn) {
    Object.assign(globalThis, globals);
    dawn = create([]) as GPU;
  }
  return openDevice(dawn, { ...options, where: 'node' });
}
