import { create } from 'zustand';
import type { CheckResult } from '../../kernels/suite-types.ts';
import type { BenchReport } from '../../kernels/suite.ts';
import type { ModuleCheckResult } from '../../bench/selftest.ts';
import type { DeviceDescription } from '../../workers/device.worker.ts';
import type { Outcome } from '../../workers/outcome.ts';
import { deviceApi, proxy } from '../workers.ts';

type Failure = Extract<Outcome<unknown>, { ok: false }>['error'];

interface DeviceState {
  description?: DeviceDescription;
  error?: Failure;
  checks?: CheckResult[];
  modules?: ModuleCheckResult[];
  bench?: BenchReport;
  benchFamilies: string[];
  busy?: string;
  progress?: { done: number; total: number; label: string };
  describe(): Promise<void>;
  selfTest(): Promise<void>;
  moduleChecks(): Promise<void>;
  runBench(families: string[]): Promise<void>;
}

export const useDevice = create<DeviceState>((set, get) => {
  const onProgress = proxy((done: number, total: number, label: string) => set({ progress: { done, total, label } }));
  async function job<T>(name: string, f: () => Promise<Outcome<T>>, store: (v: T) => Partial<DeviceState>) {
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
      await job('Opening the device', () => deviceApi().describe(), (description) => ({ description }));
      if (get().description) set({ benchFamilies: await deviceApi().benchFamilies() });
    },
    selfTest: () => job('Self-test', () => deviceApi().selfTest(onProgress), (checks) => ({ checks })),
    moduleChecks: () => job('Module checks', () => deviceApi().moduleChecks(onProgress), (modules) => ({ modules })),
    runBench: (families) => job('Benchmark', () => deviceApi().bench(families, onProgress), (bench) => ({ bench })),
  };
});
