import { runSelfTest, type ModuleCheckResult } from '../../bench/selftest.ts';
import { describeDevice } from '../../bench/device-report.ts';
import { openDawnDevice } from '../../gpu/dawn.ts';
import type { Command } from '../lab.ts';
import { formatChecks } from '../format.ts';
import { progressLine } from '../progress.ts';

function formatModules(checks: ModuleCheckResult[]): string {
  const failed = checks.filter((c) => !c.passed).length;
  const lines = checks.map(
    (c) =>
      `${c.passed ? 'pass' : 'FAIL'}  ${c.name.padEnd(48)} maxRelError ${c.maxRelError.toExponential(2)} (bound ${c.tolerance.toExponential(0)}, seed ${c.seed})${c.error ? `  ${c.error}` : ''}`,
  );
  return [`module checks: ${checks.length - failed} passed, ${failed} failed`, ...lines].join('\n');
}

export const selftest: Command = {
  summary: 'Check every kernel against its CPU twin, every module\'s backward against finite differences, and streaming == offline.',
  usage: 'npm run -s lab -- selftest [--json]',
  async run() {
    const gpu = await openDawnDevice();
    try {
      const report = await runSelfTest(gpu, { onProgress: progressLine('selftest') });
      if (!report.passed) process.exitCode = 1;
      return {
        json: { ...describeDevice(gpu), ...report },
        text: `${formatChecks(report.kernels)}\n\n${formatModules(report.modules)}`,
      };
    } finally {
      gpu.destroy();
    }
  },
};
