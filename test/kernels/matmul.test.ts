import { describe, expect, it } from 'vitest';
import { checkMatmul, describeMatmul, type MatmulCase } from '../../src/kernels/checks/matmul.ts';
import { matmul, matmulSplit } from '../../src/kernels/matmul.ts';
import { matmulRef } from '../../src/kernels/reference/matmul.ts';
import { freshSeed } from '../../src/kernels/random.ts';
import { ShapeError } from '../../src/gpu/errors.ts';
import { testGpu } from '../gpu.ts';

const awkward = [1, 7, 33, 257];
const cases: MatmulCase[] = [];
for (const variant of ['reg', 'tiled'] as const)
  for (const transA of [false, true])
    for (const transB of [false, true]) {
      cases.push({ batch: 1, M: 33, N: 7, K: 257, transA, transB, variant });
      cases.push({ batch: 2, M: 257, N: 33, K: 7, transA, transB, variant, bias: true, act: 'gelu', sharedB: true });
      cases.push({ batch: 1, M: 64, N: 36, K: 20, transA, transB, variant, act: 'silu' });
    }
for (const m of awkward) cases.push({ batch: 1, M: m, N: 1, K: m });
// Column parts of their own (a Mamba in_proj's x, z; x_proj's dt, B, C), awkward widths, every variant.
for (const variant of ['reg', 'tiled'] as const) {
  cases.push({ batch: 1, M: 13, N: 64, K: 32, transB: true, variant, split: [32, 32], sharedB: true });
  cases.push({ batch: 2, M: 9, N: 41, K: 12, transB: true, variant, split: [5, 17, 19], bias: true, act: 'gelu', sharedB: true });
  cases.push({ batch: 1, M: 30, N: 23, K: 7, transA: true, variant, split: [1, 22] });
}

describe('matmul against its CPU twin', () => {
  for (const c of cases) {
    it(describeMatmul(c), async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      const err = await checkMatmul(gpu, c, seed);
      expect(err, `seed ${seed}`).toBeLessThan(5e-4);
    });
  }
});

describe('matmulSplit refuses widths that are not parts of N', () => {
  it('names the widths and N', async () => {
    const gpu = await testGpu();
    const a = gpu.tensor([3, 4], 'f32', undefined, 'A');
    const b = gpu.tensor([4, 10], 'f32', undefined, 'B');
    for (const widths of [[4, 5], [10], [2, 2, 2, 4], [0, 10]]) {
      expect(() => gpu.run((enc) => matmulSplit(enc, a, b, widths)), widths.join()).toThrow(ShapeError);
    }
    expect(() => gpu.run((enc) => matmulSplit(enc, a, b, [4, 5]))).toThrow(/widths 4, 5 must be 2 or 3 positive parts of N = 10/);
    a.release();
    b.release();
  });
});

describe('matmul backward by the same kernel', () => {
  it('dA = dC.B^T and dB = A^T.dC match finite differences of sum(dC * A.B)', async () => {
    const gpu = await testGpu();
    const [M, K, N] = [5, 9, 6];
    const rand = () => Math.random() * 2 - 1;
    const A = Float64Array.from({ length: M * K }, rand);
    const B = Float64Array.from({ length: K * N }, rand);
    const dC = Float64Array.from({ length: M * N }, rand);
    const loss = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      const c = matmulRef(a, b, { batch: 1, M, N, K });
      return c.reduce((s, v, i) => s + v * dC[i], 0);
    };
    const a = gpu.tensor([M, K], 'f32', A);
    const b = gpu.tensor([K, N], 'f32', B);
    const g = gpu.tensor([M, N], 'f32', dC);
    const [dA, dB] = gpu.run((enc) => [matmul(enc, g, b, { transB: true }), matmul(enc, a, g, { transA: true })]);
    const [gotA, gotB] = [await dA.read(), await dB.read()];
    const h = 1e-3;
    for (const [x, got] of [
      [A, gotA],
      [B, gotB],
    ] as const) {
      for (let i = 0; i < x.length; i++) {
        const save = x[i];
        x[i] = save + h;
        const up = loss(A, B);
        x[i] = save - h;
        const down = loss(A, B);
        x[i] = save;
        expect(got[i]).toBeCloseTo((up - down) / (2 * h), 2);
      }
    }
  });

  it('accumulates into out (gradient accumulation)', async () => {
    const gpu = await testGpu();
    const a = gpu.tensor([3, 4], 'f32', Array.from({ length: 12 }, (_, i) => i));
    const b = gpu.tensor([4, 2], 'f32', Array.from({ length: 8 }, (_, i) => 1 - i));
    const out = gpu.tensor([3, 2], 'f32', [1, 1, 1, 1, 1, 1]);
    gpu.run((enc) => matmul(enc, a, b, { out, accumulate: true }));
    const want = matmulRef(Array.from({ length: 12 }, (_, i) => i), Array.from({ length: 8 }, (_, i) => 1 - i), { batch: 1, M: 3, N: 2, K: 4 });
    expect(Array.from(await out.read())).toEqual(Array.from(want, (v) => v + 1));
  });
});

describe('matmul bad input', () => {
  it('names both tensors and their shapes when inner sizes differ', async () => {
    const gpu = await testGpu();
    const a = gpu.tensor([3, 4], 'f32', undefined, 'x');
    const b = gpu.tensor([5, 2], 'f32', undefined, 'w');
    expect(() => gpu.run((enc) => matmul(enc, a, b))).toThrow(ShapeError);
    expect(() => gpu.run((enc) => matmul(enc, a, b))).toThrow(/x\[3, 4\].*K=4.*w\[5, 2\].*K=5/);
  });

  it('refuses a tensor larger than the device allows, naming the size and the limit', async () => {
    const gpu = await testGpu();
    const n = Math.floor(gpu.maxBindingBytes / 4) + 1;
    expect(() => gpu.tensor([n], 'f32', undefined, 'scores')).toThrow(/scores \[\d+\] f32 needs .* at most .*max(StorageBufferBinding|Buffer)Size/);
  });
});
