// The UI's only door to compute: one comlink proxy per worker, created on first use.
import * as Comlink from 'comlink';
import type { DeviceApi } from '../workers/device.worker.ts';

let deviceWorker: Comlink.Remote<DeviceApi> | undefined;

export function deviceApi(): Comlink.Remote<DeviceApi> {
  deviceWorker ??= Comlink.wrap<DeviceApi>(
    new Worker(new URL('../workers/device.worker.ts', import.meta.url), { type: 'module', name: 'device' }),
  );
  return deviceWorker;
}

export const proxy = Comlink.proxy;
