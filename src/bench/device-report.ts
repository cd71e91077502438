// The Device report: what the adapter is, what it allows, whether every kernel family agrees with its CPU
// twin, and how fast matmul runs. The Device page and `lab device` both print this.
import type { AdapterKind, AdapterReport, Gpu } from '../gpu/device.ts';
import { runChecks, type CheckResult, type RunHooks } from '../kernels/check.ts';
import { kernelBenches, kernelChecks, runBenches } from '../kernels/suite.ts';
import type { BenchResult } from '../kernels/suite-types.ts';

export interface DeviceReport {
  adapter: AdapterReport & { kind: AdapterKind };
  limits: Record<string, number>;
  features: string[];
  timing: 'timestamp-query' | 'wall-clock';
  selfTest: CheckResult[];
  bench: BenchResult[];
}

export interface DeviceReportOptions extends RunHooks {
  selfTest?: boolean;
  bench?: boolean;
  /** Only the benchmarks of these families (default: matmul, the Device page's headline). */
  benchFamilies?: string[];
}

export function describeDevice(gpu: Gpu): Omit<DeviceReport, 'selfTest' | 'bench'> {
  return {
    adapter: { ...gpu.adapter, kind: gpu.kind },
    limits: { ...gpu.limits },
    features: gpu.features,
    timing: gpu.timestamps ? 'timestamp-query' : 'wall-clock',
  };
}

export async function deviceReport(gpu: Gpu, opts: DeviceReportOptions = {}): Promise<DeviceReport> {
  const { selfTest = true, bench = true, benchFamilies = ['matmul'] } = opts;
  const checks = selfTest ? await runChecks(gpu, kernelChecks, opts) : [];
  const benches = bench
    ? await runBenches(
        gpu,
        kernelBenches.filter((b) => benchFamilies.includes(b.family)),
        opts,
      )
    : [];
  return { ...describeDevice(gpu), selfTest: checks, bench: benches };
}
