// The check contract of every floor: a kernel against its CPU twin (kernels/checks/), a module's backward
// against finite differences (nn/checks.ts), a whole model or streaming against offline (models/checks.ts).
// One type and one runner, so that vitest, `lab selftest` and the Device page run the same registry and report
// it the same way. It lives with the kernels, the lowest floor that has checks, so every floor above can use it.
import type { Gpu } from '../gpu/device.ts';
import { freshSeed } from './random.ts';

/** One correctness check on fresh random inputs drawn from `seed`. */
export interface Check {
  /** The kernel family ("matmul"), or the floor of a module or model check ("nn", "models"). */
  family: string;
  /** e.g. "forward 7x33x257", "gradCheck Linear". */
  name: string;
  tolerance: number;
  /** The largest relative error found; passes when <= tolerance. */
  run(gpu: Gpu, seed: number): Promise<number>;
}

export interface CheckResult {
  family: string;
  name: string;
  passed: boolean;
  maxRelError: number;
  tolerance: number;
  /** Rerun a failure with this seed to see it again. */
  seed: number;
  error?: string;
}

/** What a long run takes from its host: cancel, and progress (checks or benchmarks done of total, the next one's label). */
export interface RunHooks {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, label: string) => void;
}

/** Run one check; an exception is a failure with its message, not a crash of the whole run. */
export async function runCheck(gpu: Gpu, check: Check, seed = freshSeed()): Promise<CheckResult> {
  const base = { family: check.family, name: check.name, tolerance: check.tolerance, seed };
  try {
    const err = await check.run(gpu, seed);
    return { ...base, passed: err <= check.tolerance, maxRelError: err };
  } catch (e) {
    return { ...base, passed: false, maxRelError: Infinity, error: (e as Error).message };
  }
}

/** Run the checks in order, each on a fresh seed. */
export async function runChecks(gpu: Gpu, checks: readonly Check[], hooks: RunHooks = {}): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const c of checks) {
    hooks.signal?.throwIfAborted();
    hooks.onProgress?.(out.length, checks.length, `${c.family}: ${c.name}`);
    out.push(await runCheck(gpu, c));
  }
  return out;
}
