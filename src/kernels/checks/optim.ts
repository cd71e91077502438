import type { Gpu } from '../../gpu/device.ts';
import { maxRelError } from '../compare.ts';
import { adamw } from '../optim.ts';
import { randomNormal, seeded } from '../random.ts';
import { adamwRef, type AdamWSettings } from '../reference/optim.ts';
import type { Check } from '../check.ts';
import type { KernelBench } from '../suite-types.ts';

export interface AdamWCase {
  n: number;
  steps: number;
  settings: Omit<AdamWSettings, 'step'>;
  /** Pass the gradient scale as a 1-element tensor instead of a number. */
  scaleTensor?: boolean;
}

export function describeAdamW(c: AdamWCase): string {
  const s = c.settings;
  return `n${c.n} x${c.steps} steps wd ${s.weightDecay ?? 'default'}${s.gradScale !== undefined ? ` scale ${s.gradScale}${c.scaleTensor ? ' (tensor)' : ''}` : ''}`;
}

/** `steps` AdamW steps on the GPU and on the twin (fresh gradients each step); the largest relative error of p, m, v. */
export async function checkAdamW(gpu: Gpu, c: AdamWCase, seed: number): Promise<number> {
  const rand = seeded(seed);
  const p0 = randomNormal(c.n, rand);
  const param = gpu.tensor([c.n], 'f32', p0, 'param');
  const m = gpu.zeros([c.n], 'f32', 'm');
  const v = gpu.zeros([c.n], 'f32', 'v');
  const grad = gpu.tensor([c.n], 'f32', undefined, 'grad');
  const scale = c.scaleTensor ? gpu.tensor([1], 'f32', [c.settings.gradScale ?? 1], 'gradScale') : undefined;
  const rp = Float64Array.from(p0);
  const rm = new Float64Array(c.n);
  const rv = new Float64Array(c.n);
  for (let step = 1; step <= c.steps; step++) {
    const g = randomNormal(c.n, rand, 0.1 * step);
    gpu.upload(grad, g);
    const settings = { ...c.settings, step, gradScale: c.scaleTensor ? 0.123 : c.settings.gradScale };
    gpu.run((enc) => adamw(enc, { param, grad, m, v }, settings, scale));
    adamwRef(rp, g, rm, rv, { ...c.settings, step });
  }
  const [gp, gm, gv] = [await param.read(), await m.read(), await v.read()];
  for (const t of [param, m, v, grad, scale]) t?.release();
  return Math.max(maxRelError(gp, rp), maxRelError(gm, rm), maxRelError(gv, rv));
}

const CASES: AdamWCase[] = [
  { n: 1, steps: 3, settings: { lr: 1e-3 } },
  { n: 1029, steps: 5, settings: { lr: 5e-4, weightDecay: 0 } },
  { n: 4097, steps: 4, settings: { lr: 1e-2, weightDecay: 0.1, beta1: 0.8, beta2: 0.95, eps: 1e-6, gradScale: 0.37 } },
  { n: 777, steps: 3, settings: { lr: 2e-3, weightDecay: 0.05, gradScale: 0.5 }, scaleTensor: true },
];

export const optimChecks: Check[] = CASES.map((c) => ({
  family: 'optim',
  name: `adamw ${describeAdamW(c)}`,
  tolerance: 1e-4,
  run: (gpu, seed) => checkAdamW(gpu, c, seed),
}));

export function adamwBench(n: number): KernelBench {
  return {
    family: 'optim',
    name: 'adamw',
    shape: `${n}`,
    // Reads p, g, m, v and writes p, m, v.
    bytes: 28 * n,
    flops: 16 * n,
    setup(gpu) {
      const rand = seeded(n);
      const param = gpu.tensor([n], 'f32', randomNormal(n, rand), 'param');
      const grad = gpu.tensor([n], 'f32', randomNormal(n, rand), 'grad');
      const m = gpu.zeros([n], 'f32', 'm');
      const v = gpu.zeros([n], 'f32', 'v');
      return {
        record: (enc) => adamw(enc, { param, grad, m, v }, { lr: 1e-4, step: 10 }),
        dispose: () => [param, grad, m, v].forEach((t) => t.release()),
      };
    },
  };
}

export const optimBenches: KernelBench[] = [adamwBench(10_000_000)];
