// The Device page's worker: opens WebGPU here (off the UI thread) and runs the checks and benchmarks.
import * as Comlink from 'comlink';
import { describeDevice, type DeviceReport } from '../bench/device-report.ts';
import { runChecks } from '../kernels/check.ts';
import { kernelBenches, kernelChecks, runBenchReport } from '../kernels/suite.ts';
import { moduleAndModelChecks } from '../models/checks.ts';
import { workerGpu as device } from './gpu.ts';
import { cancelJob, job, type Progress } from './job.ts';

const api = {
  describe: () => job(async () => describeDevice(await device())),
  kernelChecks: (onProgress: Progress) => job(async (hooks) => runChecks(await device(), kernelChecks, hooks), onProgress),
  modelChecks: (onProgress: Progress) => job(async (hooks) => runChecks(await device(), moduleAndModelChecks, hooks), onProgress),
  bench: (families: string[], onProgress: Progress) => job(async (hooks) => runBenchReport(await device(), families, hooks), onProgress),
  benchFamilies: () => [...new Set(kernelBenches.map((b) => b.family))],
  cancel: cancelJob,
};

export type DeviceApi = typeof api;
export type DeviceDescription = Omit<DeviceReport, 'selfTest' | 'bench'>;

Comlink.expose(api);
