import { openDawnDevice } from '../../gpu/dawn.ts';
import { runChecks } from '../../kernels/check.ts';
import { kernelChecks, runBenchReport } from '../../kernels/suite.ts';
import { describeDevice } from '../../bench/device-report.ts';
import { listFlag } from '../args.ts';
import type { Command } from '../command.ts';
import { formatBenches, formatChecks, formatRoofline } from '../format.ts';
import { progressLine } from '../progress.ts';


export const kernels: Command = {
  summary: 'Check every kernel family against its CPU twin and run its micro-benchmarks.',
  usage: 'npm run -s lab -- kernels [--json] [--families matmul,scan,...]',
  async run(args) {
    const gpu = await openDawnDevice();
    try {
      const only = listFlag(args, 'families', []);
      const checks = await runChecks(
        gpu,
        kernelChecks.filter((c) => only.length === 0 || only.includes(c.family)),
        { onProgress: progressLine('check') },
      );
      const { bench, roofline } = await runBenchReport(gpu, only, { onProgress: progressLine('bench') });
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
