// One Dawn device per test file, shared by its tests.
import { openDawnDevice } from '../src/gpu/dawn.ts';
import type { Gpu } from '../src/gpu/device.ts';

let device: Promise<Gpu> | undefined;

export function testGpu(): Promise<Gpu> {
  device ??= openDawnDevice();
  return device;
}
