import { openDawnDevice } from '../../gpu/dawn.ts';
import { runChecks } from '../../kernels/check.ts';
import { kernelChecks, runBenchReport } from '../../kernels/suite.ts';
import { describeDevice } from '../../bench/device-report.ts';
import { listFlag, type FlagSpecs } from '../args.ts';
import type { Command } from '../command.ts';
import { formatBenches, formatChecks, formatRoofline } from '../format.ts';
import { progressLine } from '../progress.ts';

/** Every kernel family with checks (the names --families takes). */
export const KERNEL_FAMILIES: readonly string[] = [...new Set(kernelChecks.map((c) => c.family))];

const FLAGS: FlagSpecs = { families: { type: 'list', choices: KERNEL_FAMILIES } };

export const kernels: Command = {
  summary: 'Check every kernel family against its CPU twin and run its micro-benchmarks.',
  usage: 'npm run -s lab -- kernels [--json] [--families matmul,scan,...]',
  flags: FLAGS,
  maxPositionals: 0,
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
      return {
        exitCode: checks.some((c) => !c.passed) ? 1 : 0,
        json: { ...describeDevice(gpu), checks, bench, roofline },
        text: `${formatChecks(checks)}\n\n${formatBenches(bench)}${roofline.length ? `\n\n${formatRoofline(roofline)}` : ''}`,
      };
    } finally {
      gpu.destroy();
    }
  },
};
