import { deviceReport } from '../../bench/device-report.ts';
import { openDawnDevice } from '../../gpu/dawn.ts';
import type { Command } from '../command.ts';
import { progressLine } from '../progress.ts';
import { formatChecks, formatBenches } from '../format.ts';

export const device: Command = {
  summary: 'Report the WebGPU adapter, its limits and features, run the kernel self-test and the matmul benchmark.',
  usage: 'npm run -s lab -- device [--json] [--no-bench] [--no-selftest]',
  flags: { 'no-bench': { type: 'bool' }, 'no-selftest': { type: 'bool' } },
  maxPositionals: 0,
  async run(args) {
    const gpu = await openDawnDevice();
    try {
      const report = await deviceReport(gpu, {
        selfTest: !args.flags['no-selftest'],
        bench: !args.flags['no-bench'],
        onProgress: progressLine('device'),
      });
      const failed = report.selfTest.filter((c) => !c.passed).length;
      const a = report.adapter;
      const text = [
        `adapter: ${a.vendor} ${a.architecture} ${a.description} (${a.kind}${a.isFallbackAdapter ? ', fallback' : ''}), timing by ${report.timing}`,
        `features: ${report.features.join(', ')}`,
        `limits: ${Object.entries(report.limits).map(([k, v]) => `${k}=${v}`).join(' ')}`,
        '',
        formatChecks(report.selfTest),
        '',
        formatBenches(report.bench),
      ].join('\n');
      return { json: report, text, exitCode: failed ? 1 : 0 };
    } finally {
      gpu.destroy();
    }
  },
};
