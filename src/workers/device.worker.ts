// The Device page's worker: opens WebGPU here (off the UI thread) and runs the self-test and benchmarks.
import * as Comlink from 'comlink';
import { describeDevice, type DeviceReport } from '../bench/device-report.ts';
import { runModuleChecks, type ModuleCheckResult } from '../bench/selftest.ts';
import { LabError } from '../gpu/errors.ts';
import { kernelBenches, kernelChecks, runBenchReport, runChecks, type BenchReport } from '../kernels/suite.ts';
import type { CheckResult } from '../kernels/suite-types.ts';
import { forgetWorkerGpu, workerGpu as device } from './gpu.ts';
import { toFailure, type Outcome, type Progress } from './outcome.ts';

async function attempt<T>(f: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await f() };
  } catch (e) {
    if (e instanceof LabError && e.code === 'device-lost') forgetWorkerGpu();
    return toFailure(e);
  }
}

const api = {
  describe: () => attempt(async () => describeDevice(await device())),
  selfTest: (onProgress: Progress) =>
    attempt<CheckResult[]>(async () => runChecks(await device(), kernelChecks, { onProgress })),
  moduleChecks: (onProgress: Progress) =>
    attempt<ModuleCheckResult[]>(async () => runModuleChecks(await device(), undefined, { onProgress })),
  bench: (families: string[], onProgress: Progress) =>
    attempt<BenchReport>(async () => runBenchReport(await device(), families, { onProgress })),
  benchFamilies: () => [...new Set(kernelBenches.map((b) => b.family))],
};

export type DeviceApi = typeof api;
export type DeviceDescription = Omit<DeviceReport, 'selfTest' | 'bench'>;

Comlink.expose(api);
