import { openDawnDevice } from '../../gpu/dawn.ts';
import { kernelBenches, kernelChecks, runBenches, runChecks } from '../../kernels/suite.ts';
import { copyBench } from '../../kernels/checks/elementwise.ts';
import { matmulBenches } from '../../kernels/checks/matmul.ts';
import { scanRoofline, type RooflineRow } from '../../kernels/checks/scan.ts';
import type { KernelBench } from '../../kernels/suite-types.ts';
import { describeDevice } from '../../bench/device-report.ts';
import { listFlag, type Args } from '../args.ts';
import type { Command } from '../lab.ts';
import { formatBenches, formatChecks } from '../format.ts';
import { progressLine } from '../progress.ts';

function families(args: Args): (f: { family: string }) => boolean {
  const only = listFlag(args, 'families', []);
  return (f) => only.length === 0 || only.includes(f.family);
}

function formatRoofline(rows: RooflineRow[]): string {
  const r0 = rows[0];
  return [
    `roofline (floor = max(bytes / copy ${r0.copyGBps.toFixed(2)} GB/s, flops / best matmul ${r0.matmulGFLOPs.toFixed(2)} GFLOP/s))`,
    ...rows.map((r) => `${r.name.padEnd(24)} ${r.shape.padEnd(16)} ${r.ms.toFixed(2).padStart(9)} ms  floor ${r.floorMs.toFixed(2)} ms (${r.bound})  ${r.ratio.toFixed(2)}x floor`),
  ].join('\n');
}

export const kernels: Command = {
  summary: 'Check every kernel family against its CPU twin and run its micro-benchmarks.',
  usage: 'npm run -s lab -- kernels [--json] [--families matmul,scan,...]',
  async run(args) {
    const gpu = await openDawnDevice();
    try {
      const keep = families(args);
      const checks = await runChecks(gpu, kernelChecks.filter(keep), { onProgress: progressLine('check') });
      let benches = kernelBenches.filter(keep);
      // The scan's roofline takes the copy bandwidth and the best matmul rate from the same run.
      if (benches.some((b) => b.family === 'scan')) {
        const has = (e: KernelBench) => benches.some((b) => b.family === e.family && b.name === e.name && b.shape === e.shape);
        benches = [...benches, ...[copyBench(1 << 24), ...matmulBenches].filter((e) => !has(e))];
      }
      const bench = await runBenches(gpu, benches, { onProgress: progressLine('bench') });
      const roofline = scanRoofline(benches, bench);
      if (checks.some((c) => !c.passed)) process.exitCode = 1;
      return {
        json: { ...describeDevice(gpu), checks, bench, roofline },
        text: `${formatChecks(checks)}\n\n${formatBenches(bench)}${roofline.length ? `\n\n${formatRoofline(roofline)}` : ''}`,
      };
    } finally {
      gpu.destroy();
    }
  },
};
