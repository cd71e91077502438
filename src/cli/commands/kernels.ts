import { openDawnDevice } from '../../gpu/dawn.ts';
import { kernelBenches, kernelChecks, runBenches, runChecks } from '../../kernels/suite.ts';
import { describeDevice } from '../../bench/device-report.ts';
import { listFlag, type Args } from '../args.ts';
import type { Command } from '../lab.ts';
import { formatBenches, formatChecks } from '../format.ts';
import { progressLine } from '../progress.ts';

function families(args: Args): (f: { family: string }) => boolean {
  const only = listFlag(args, 'families', []);
  return (f) => only.length === 0 || only.includes(f.family);
}

export const kernels: Command = {
  summary: 'Check every kernel family against its CPU twin and run its micro-benchmarks.',
  usage: 'npm run -s lab -- kernels [--json] [--families matmul,scan,...]',
  async run(args) {
    const gpu = await openDawnDevice();
    try {
      const keep = families(args);
      const checks = await runChecks(gpu, kernelChecks.filter(keep), { onProgress: progressLine('check') });
      const bench = await runBenches(gpu, kernelBenches.filter(keep), { onProgress: progressLine('bench') });
      if (checks.some((c) => !c.passed)) process.exitCode = 1;
      return {
        json: { ...describeDevice(gpu), checks, bench },
        text: `${formatChecks(checks)}\n\n${formatBenches(bench)}`,
      };
    } finally {
      gpu.destroy();
    }
  },
};
