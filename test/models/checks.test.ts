// The registry that `lab selftest` and the Device page run after the kernel checks, one test per check.
import { describe, expect, it } from 'vitest';
import { runCheck } from '../../src/kernels/check.ts';
import { moduleAndModelChecks } from '../../src/models/checks.ts';
import { testGpu } from '../gpu.ts';

describe('module and model checks', () => {
  for (const check of moduleAndModelChecks) {
    it(`${check.family}: ${check.name}`, async () => {
      const r = await runCheck(await testGpu(), check);
      expect(r.error, `seed ${r.seed}`).toBeUndefined();
      expect(r.maxRelError, `seed ${r.seed}`).toBeLessThanOrEqual(check.tolerance);
    });
  }
});
