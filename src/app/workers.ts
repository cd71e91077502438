// The UI's only door to compute: one comlink proxy per worker, created on first use.
import * as Comlink from 'comlink';
import type { BenchApi } from '../workers/bench.worker.ts';
import type { DeviceApi } from '../workers/device.worker.ts';
import type { TrainApi } from '../workers/train.worker.ts';

let deviceWorker: Comlink.Remote<DeviceApi> | undefined;

export function deviceApi(): Comlink.Remote<DeviceApi> {
  deviceWorker ??= Comlink.wrap<DeviceApi>(
    new Worker(new URL('../workers/device.worker.ts', import.meta.url), { type: 'module', name: 'device' }),
  );
  return deviceWorker;
}

let benchWorker: Comlink.Remote<BenchApi> | undefined;

export function benchApi(): Comlink.Remote<BenchApi> {
  benchWorker ??= Comlink.wrap<BenchApi>(
    new Worker(new URL('../workers/bench.worker.ts', import.meta.url), { type: 'module', name: 'bench' }),
  );
  return benchWorker;
}

let trainWorker: Comlink.Remote<TrainApi> | undefined;

export function trainApi(): Comlink.Remote<TrainApi> {
  trainWorker ??= Comlink.wrap<TrainApi>(
    new Worker(new URL('../workers/train.worker.ts', import.meta.url), { type: 'module', name: 'train' }),
  );
  return trainWorker;
}

export const proxy = Comlink.proxy;
