import { maxRelError } from '../compare.ts';
import { copy } from '../elementwise.ts';
import { randomNormal, seeded } from '../random.ts';
import type { KernelBench, KernelCheck } from '../suite-types.ts';

export const elementwiseChecks: KernelCheck[] = [
  {
    family: 'elementwise',
    name: 'copy 1000003',
    tolerance: 0,
    async run(gpu, seed) {
      const data = randomNormal(1000003, seeded(seed));
      const x = gpu.tensor([data.length], 'f32', data, 'x');
      const y = gpu.run((enc) => copy(enc, x));
      const got = await y.read();
      x.release();
      y.release();
      return maxRelError(got, data);
    },
  },
];

/** Copy bandwidth: bytes read plus bytes written per second. The roofline of memory-bound kernels. */
export function copyBench(n: number): KernelBench {
  return {
    family: 'elementwise',
    name: 'copy',
    shape: `${n}`,
    bytes: 8 * n,
    setup(gpu) {
      const x = gpu.tensor([n], 'f32', randomNormal(n, seeded(n)), 'x');
      const y = gpu.tensor([n], 'f32', undefined, 'y');
      return { record: (enc) => void copy(enc, x, y), dispose: () => [x, y].forEach((t) => t.release()) };
    },
  };
}

export const elementwiseBenches: KernelBench[] = [copyBench(1 << 24)];
