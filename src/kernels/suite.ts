// Every kernel family's checks and micro-benchmarks, run by the self-test (Device page, `lab device`,
// `lab kernels`) and by the unit tests. A new family adds its lists here.
import type { Gpu } from '../gpu/device.ts';
import { TooLargeError } from '../gpu/errors.ts';
import { timeKernels } from '../gpu/timing.ts';
import { convBenches, convChecks } from './checks/conv.ts';
import { depthwiseBenches, depthwiseChecks } from './checks/depthwise.ts';
import { reduceBenches, reduceChecks } from './checks/reduce.ts';
import { attentionBenches, attentionChecks } from './checks/attention.ts';
import { copyBench, elementwiseBenches, elementwiseChecks } from './checks/elementwise.ts';
import { matmulBenches, matmulChecks } from './checks/matmul.ts';
import { normBenches, normChecks } from './checks/norm.ts';
import { lossBenches, lossChecks } from './checks/loss.ts';
import { optimBenches, optimChecks } from './checks/optim.ts';
import { kmeansBenches, kmeansChecks } from './checks/kmeans.ts';
import { scanBenches, scanChecks, scanRoofline, type RooflineRow } from './checks/scan.ts';
import { layoutBenches, layoutChecks } from './checks/layout.ts';
import { headsBenches, headsChecks } from './checks/heads.ts';
import type { Check, RunHooks } from './check.ts';
import type { BenchResult, KernelBench } from './suite-types.ts';

export const kernelChecks: Check[] = [...matmulChecks, ...elementwiseChecks, ...reduceChecks, ...convChecks, ...depthwiseChecks, ...normChecks, ...attentionChecks, ...lossChecks, ...optimChecks, ...kmeansChecks, ...scanChecks, ...layoutChecks, ...headsChecks];

export const kernelBenches: KernelBench[] = [...matmulBenches, ...elementwiseBenches, ...reduceBenches, ...convBenches, ...depthwiseBenches, ...normBenches, ...attentionBenches, ...lossBenches, ...optimBenches, ...kmeansBenches, ...scanBenches, ...layoutBenches, ...headsBenches];

export async function runBench(gpu: Gpu, bench: KernelBench, reps = 5): Promise<BenchResult> {
  // A case that needs a buffer larger than the device allows is a result (out of memory), not a failure.
  const oom = (e: unknown): BenchResult => {
    if (!(e instanceof TooLargeError)) throw e;
    return { family: bench.family, name: bench.name, shape: bench.shape, ms: NaN, timing: 'wall-clock', oom: true, error: e.message };
  };
  let made: ReturnType<KernelBench['setup']>;
  try {
    made = bench.setup(gpu);
  } catch (e) {
    return oom(e);
  }
  const { record, dispose } = made;
  try {
    const t = await timeKernels(gpu, record, { warmup: bench.warmup ?? 1, reps: bench.reps ?? reps });
    return {
      family: bench.family,
      name: bench.name,
      shape: bench.shape,
      ms: t.ms,
      gflops: bench.flops !== undefined ? bench.flops / t.ms / 1e6 : undefined,
      gbps: bench.bytes !== undefined ? bench.bytes / t.ms / 1e6 : undefined,
      timing: t.method,
    };
  } catch (e) {
    return oom(e);
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

/**
 * The benchmarks of these families (all when empty), plus what their derived figures need from the same run:
 * the scan's roofline takes the copy bandwidth and the best matmul rate.
 */
export function benchesFor(families: string[] = []): KernelBench[] {
  const keep = (b: KernelBench) => families.length === 0 || families.includes(b.family);
  let benches = kernelBenches.filter(keep);
  if (benches.some((b) => b.family === 'scan')) {
    const has = (e: KernelBench) => benches.some((b) => b.family === e.family && b.name === e.name && b.shape === e.shape);
    benches = [...benches, ...[copyBench(1 << 24), ...matmulBenches].filter((e) => !has(e))];
  }
  return benches;
}

export interface BenchReport {
  bench: BenchResult[];
  roofline: RooflineRow[];
}

/** Run the benchmarks of these families and the figures derived from them. */
export async function runBenchReport(gpu: Gpu, families: string[] = [], hooks: RunHooks = {}): Promise<BenchReport> {
  const benches = benchesFor(families);
  const bench = await runBenches(gpu, benches, hooks);
  return { bench, roofline: scanRoofline(benches, bench) };
}
