// Every kernel family's checks and micro-benchmarks, run by the self-test (Device page, `lab device`,
// `lab kernels`) and by the unit tests. A new family adds its lists here.
import type { Gpu } from '../gpu/device.ts';
import { timeKernels } from '../gpu/timing.ts';
import { elementwiseBenches, elementwiseChecks } from './checks/elementwise.ts';
import { matmulBenches, matmulChecks } from './checks/matmul.ts';
import { freshSeed } from './random.ts';
import type { BenchResult, CheckResult, KernelBench, KernelCheck } from './suite-types.ts';

export const kernelChecks: KernelCheck[] = [...matmulChecks, ...elementwiseChecks];

export const kernelBenches: KernelBench[] = [...matmulBenches, ...elementwiseBenches];

export interface RunHooks {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, label: string) => void;
}

export async function runCheck(gpu: Gpu, check: KernelCheck, seed = freshSeed()): Promise<CheckResult> {
  const base = { family: check.family, name: check.name, tolerance: check.tolerance, seed };
  try {
    const err = await check.run(gpu, seed);
    return { ...base, passed: err <= check.tolerance, maxRelError: err };
  } catch (e) {
    return { ...base, passed: false, maxRelError: Infinity, error: (e as Error).message };
  }
}

export async function runChecks(gpu: Gpu, checks: KernelCheck[] = kernelChecks, hooks: RunHooks = {}): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const c of checks) {
    hooks.signal?.throwIfAborted();
    hooks.onProgress?.(out.length, checks.length, `${c.family}: ${c.name}`);
    out.push(await runCheck(gpu, c));
  }
  return out;
}

export async function runBench(gpu: Gpu, bench: KernelBench, reps = 5): Promise<BenchResult> {
  const { record, dispose } = bench.setup(gpu);
  try {
    const t = await timeKernels(gpu, record, { warmup: 1, reps });
    return {
      family: bench.family,
      name: bench.name,
      shape: bench.shape,
      ms: t.ms,
      gflops: bench.flops !== undefined ? bench.flops / t.ms / 1e6 : undefined,
      gbps: bench.bytes !== undefined ? bench.bytes / t.ms / 1e6 : undefined,
      timing: t.method,
    };
  } finally {
    dispose();
  }
}

export async function runBenches(gpu: Gpu, benches: KernelBench[] = kernelBenches, hooks: RunHooks = {}): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  for (const b of benches) {
    hooks.signal?.throwIfAborted();
    hooks.onProgress?.(out.length, benches.length, `${b.name} ${b.shape}`);
    out.push(await runBench(gpu, b));
  }
  return out;
}
