import { describeDevice } from '../../bench/device-report.ts';
import { openDawnDevice } from '../../gpu/dawn.ts';
import { runChecks } from '../../kernels/check.ts';
import { kernelChecks } from '../../kernels/suite.ts';
import { moduleAndModelChecks } from '../../models/checks.ts';
import type { Command } from '../command.ts';
import { formatChecks } from '../format.ts';
import { progressLine } from '../progress.ts';

export const selftest: Command = {
  summary: 'Check every kernel against its CPU twin, every module\'s and model\'s backward against finite differences, and streaming == offline.',
  usage: 'npm run -s lab -- selftest [--json]',
  flags: {},
  maxPositionals: 0,
  async run() {
    const gpu = await openDawnDevice();
    try {
      const onProgress = progressLine('selftest');
      const kernels = await runChecks(gpu, kernelChecks, { onProgress });
      const modules = await runChecks(gpu, moduleAndModelChecks, { onProgress });
      const passed = [...kernels, ...modules].every((c) => c.passed);
      return {
        exitCode: passed ? 0 : 1,
        json: { ...describeDevice(gpu), kernels, modules, passed },
        text: `${formatChecks(kernels, 'kernel checks')}\n\n${formatChecks(modules, 'module and model checks')}`,
      };
    } finally {
      gpu.destroy();
    }
  },
};
