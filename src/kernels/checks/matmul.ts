import type { Gpu } from '../../gpu/device.ts';
import { maxRelError } from '../compare.ts';
import { matmul, matmulSplit, type MatmulVariant } from '../matmul.ts';
import { matmulRef, type Activation } from '../reference/matmul.ts';
import { randomNormal, seeded } from '../random.ts';
import type { Check } from '../check.ts';
import type { KernelBench } from '../suite-types.ts';

export interface MatmulCase {
  batch: number;
  M: number;
  N: number;
  K: number;
  transA?: boolean;
  transB?: boolean;
  bias?: boolean;
  act?: Activation;
  /** Share B over the batch (a weight matrix). */
  sharedB?: boolean;
  variant?: MatmulVariant;
  /** Column parts written to tensors of their own (matmulSplit). */
  split?: number[];
}

export function describeMatmul(c: MatmulCase): string {
  const t = `${c.transA ? 'T' : 'N'}${c.transB ? 'T' : 'N'}`;
  return `${c.batch}x${c.M}x${c.N}x${c.K} ${t}${c.bias ? ' +bias' : ''}${c.act && c.act !== 'none' ? ` ${c.act}` : ''}${c.sharedB ? ' sharedB' : ''}${c.variant ? ` ${c.variant}` : ''}${c.split ? ` split ${c.split.join('+')}` : ''}`;
}

/** Run one case on the GPU and on the CPU twin; returns the max relative error. */
export async function checkMatmul(gpu: Gpu, c: MatmulCase, seed: number): Promise<number> {
  const rand = seeded(seed);
  const { batch, M, N, K } = c;
  const aData = randomNormal(batch * M * K, rand);
  const bData = randomNormal((c.sharedB ? 1 : batch) * K * N, rand);
  const biasData = c.bias ? randomNormal(N, rand) : undefined;
  const aShape = c.transA ? [batch, K, M] : [batch, M, K];
  const bShape = c.transB ? [N, K] : [K, N];
  const a = gpu.tensor(aShape, 'f32', aData, 'A');
  const b = gpu.tensor(c.sharedB ? bShape : [batch, ...bShape], 'f32', bData, 'B');
  const bias = biasData ? gpu.tensor([N], 'f32', biasData, 'bias') : undefined;
  const opts = { transA: c.transA, transB: c.transB, bias, act: c.act, variant: c.variant };
  const outs = gpu.run((enc) => (c.split ? matmulSplit(enc, a, b, c.split, opts) : [matmul(enc, a, b, opts)]));
  const parts = await Promise.all(outs.map((t) => t.read()));
  for (const t of [a, b, bias, ...outs]) t?.release();
  const want = matmulRef(aData, bData, { ...c, strideB: c.sharedB ? 0 : K * N }, biasData, c.act);
  // The parts side by side again: row r of part p holds C's columns [start_p, start_p + width_p).
  const widths = c.split ?? [N];
  const got = new Float32Array(batch * M * N);
  let start = 0;
  widths.forEach((w, p) => {
    for (let r = 0; r < batch * M; r++) got.set(parts[p].subarray(r * w, (r + 1) * w), r * N + start);
    start += w;
  });
  return maxRelError(got, want);
}

const CASES: MatmulCase[] = [
  { batch: 1, M: 1, N: 1, K: 1 },
  { batch: 1, M: 7, N: 33, K: 257 },
  { batch: 3, M: 33, N: 7, K: 64, transA: true, bias: true, act: 'gelu', sharedB: true },
  { batch: 2, M: 64, N: 48, K: 36, transB: true, act: 'silu' },
  { batch: 1, M: 257, N: 65, K: 33, transA: true, transB: true, bias: true, act: 'relu' },
  { batch: 1, M: 100, N: 129, K: 96, variant: 'tiled', bias: true },
  { batch: 2, M: 40, N: 12, K: 20, transA: true, transB: true, variant: 'tiled' },
  { batch: 2, M: 9, N: 40, K: 12, transB: true, bias: true, split: [8, 16, 16], sharedB: true },
  { batch: 1, M: 37, N: 21, K: 16, variant: 'tiled', act: 'silu', split: [13, 8] },
];

export const matmulChecks: Check[] = CASES.map((c) => ({
  family: 'matmul',
  name: `forward ${describeMatmul(c)}`,
  tolerance: 5e-4,
  run: (gpu, seed) => checkMatmul(gpu, c, seed),
}));

export function matmulBench(n: number, variant?: MatmulVariant, workgroup?: [number, number]): KernelBench {
  return {
    family: 'matmul',
    name: `matmul ${variant ?? 'auto'}${workgroup ? ` ${workgroup.join('x')}` : ''}`,
    shape: `${n}x${n}x${n}`,
    flops: 2 * n * n * n,
    bytes: 3 * n * n * 4,
    setup(gpu) {
      const rand = seeded(n);
      const a = gpu.tensor([n, n], 'f32', randomNormal(n * n, rand), 'A');
      const b = gpu.tensor([n, n], 'f32', randomNormal(n * n, rand), 'B');
      const c = gpu.tensor([n, n], 'f32', undefined, 'C');
      return {
        record: (enc) => void matmul(enc, a, b, { out: c, variant, workgroup }),
        dispose: () => [a, b, c].forEach((t) => t.release()),
      };
    },
  };
}

export const matmulBenches: KernelBench[] = [matmulBench(256), matmulBench(512), matmulBench(1024)];
