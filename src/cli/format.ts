import type { RooflineRow } from '../kernels/checks/scan.ts';
import type { CheckResult } from '../kernels/check.ts';
import type { BenchResult } from '../kernels/suite-types.ts';

export function formatChecks(checks: CheckResult[], title = 'self-test'): string {
  const failed = checks.filter((c) => !c.passed).length;
  const width = Math.max(0, ...checks.map((c) => c.name.length));
  const lines = checks.map(
    (c) =>
      `${c.passed ? 'pass' : 'FAIL'}  ${c.family.padEnd(10)} ${c.name.padEnd(width)} maxRelError ${c.maxRelError.toExponential(2)} (bound ${c.tolerance.toExponential(0)}, seed ${c.seed})${c.error ? `  ${c.error}` : ''}`,
  );
  return [`${title}: ${checks.length - failed} passed, ${failed} failed`, ...lines].join('\n');
}

export function formatBenches(benches: BenchResult[]): string {
  return benches
    .map((b) =>
      b.oom
        ? `${b.name.padEnd(24)} ${b.shape.padEnd(16)} out of memory: ${b.error ?? ''}`
        : `${b.name.padEnd(24)} ${b.shape.padEnd(16)} ${b.ms.toFixed(2).padStart(9)} ms` +
        `${b.gflops !== undefined ? `  ${b.gflops.toFixed(2)} GFLOP/s` : ''}${b.gbps !== undefined ? `  ${b.gbps.toFixed(2)} GB/s` : ''}  (${b.timing})`,
    )
    .join('\n');
}

export function formatRoofline(rows: RooflineRow[]): string {
  const r0 = rows[0];
  return [
    `roofline (floor = max(bytes / copy ${r0.copyGBps.toFixed(2)} GB/s, flops / best matmul ${r0.matmulGFLOPs.toFixed(2)} GFLOP/s))`,
    ...rows.map((r) => `${r.name.padEnd(24)} ${r.shape.padEnd(16)} ${r.ms.toFixed(2).padStart(9)} ms  floor ${r.floorMs.toFixed(2)} ms (${r.bound})  ${r.ratio.toFixed(2)}x floor`),
  ].join('\n');
}
