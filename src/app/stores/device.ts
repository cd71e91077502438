import { create } from 'zustand';
import type { CheckResult } from '../../kernels/check.ts';
import type { BenchReport } from '../../kernels/suite.ts';
import type { DeviceDescription } from '../../workers/device.worker.ts';
import type { Failure, Outcome } from '../../workers/job.ts';
import { deviceApi, proxy } from '../workers.ts';

interface DeviceState {
  description?: DeviceDescription;
  error?: Failure;
  kernelChecks?: CheckResult[];
  modelChecks?: CheckResult[];
  bench?: BenchReport;
  benchFamilies: string[];
  busy?: string;
  progress?: { done: number; total: number; label: string };
  describe(): Promise<void>;
  runKernelChecks(): Promise<void>;
  runModelChecks(): Promise<void>;
  runBench(families: string[]): Promise<void>;
  cancel(): void;
}

export const useDevice = create<DeviceState>((set, get) => {
  const onProgress = proxy((done: number, total: number, label: string) => set({ progress: { done, total, label } }));
  async function run<T>(name: string, f: () => Promise<Outcome<T>>, store: (v: T) => Partial<DeviceState>) {
    if (get().busy) return;
    set({ busy: name, progress: undefined });
    try {
      const r = await f();
      set(r.ok ? { ...store(r.value), error: undefined } : { error: r.error });
    } catch (e) {
      set({ error: { code: 'internal', message: `The device worker failed: ${(e as Error).message}` } });
    } finally {
      set({ busy: undefined, progress: undefined });
    }
  }
  return {
    benchFamilies: [],
    async describe() {
      await run('Opening the device', () => deviceApi().describe(), (description) => ({ description }));
      if (get().description) set({ benchFamilies: await deviceApi().benchFamilies() });
    },
    runKernelChecks: () => run('Kernel self-test', () => deviceApi().kernelChecks(onProgress), (kernelChecks) => ({ kernelChecks })),
    runModelChecks: () => run('Module and model checks', () => deviceApi().modelChecks(onProgress), (modelChecks) => ({ modelChecks })),
    runBench: (families) => run('Benchmark', () => deviceApi().bench(families, onProgress), (bench) => ({ bench })),
    cancel: () => void deviceApi().cancel(),
  };
});
