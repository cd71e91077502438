import { describe, expect, it } from 'vitest';
import { checkSumAll, checkSumChunks, checkSumRows, REDUCE_TOLERANCE } from '../../src/kernels/checks/reduce.ts';
import { freshSeed, randomNormal, seeded } from '../../src/kernels/random.ts';
import { sumAll, sumRows, sumSquares } from '../../src/kernels/reduce.ts';
import {
  sumAllBackwardRef,
  sumAllRef,
  sumRowsBackwardRef,
  sumRowsRef,
  sumSquaresBackwardRef,
  sumSquaresRef,
} from '../../src/kernels/reference/reduce.ts';
import { ShapeError } from '../../src/gpu/errors.ts';
import { testGpu } from '../gpu.ts';

describe('reductions against their CPU twins (error relative to the sum of magnitudes)', () => {
  // 1000 rows take two passes of 64-row blocks, 5000 rows three.
  for (const c of [1, 7, 33, 257, 768])
    for (const rows of [1, 5, 1000, 5000]) {
      it(`sumRows ${rows}x${c}`, async () => {
        const gpu = await testGpu();
        const seed = freshSeed();
        expect(await checkSumRows(gpu, rows, c, seed), `seed ${seed}`).toBeLessThan(REDUCE_TOLERANCE);
      });
    }
  // tree: 4096 elements per workgroup, so 4097 takes two passes and (1 << 24) + 3 three.
  // spread: 16384 elements -> 256 partial sums per workgroup while more than 4096 are left, then one tree pass.
  for (const variant of ['tree', 'spread'] as const)
    for (const n of [1, 7, 4096, 4097, 16385, 1000003, (1 << 24) + 3])
      for (const squares of [false, true]) {
        it(`${squares ? 'sumSquares' : 'sumAll'} ${variant} n=${n}`, async () => {
          const gpu = await testGpu();
          const seed = freshSeed();
          expect(await checkSumAll(gpu, n, squares, seed, variant), `seed ${seed}`).toBeLessThan(REDUCE_TOLERANCE);
        });
      }

  // The reduce of chunked weight-gradient partials: one pass over all the chunks, written or added.
  for (const [chunks, n] of [[1, 1], [2, 7], [37, 1001], [300, 9], [8192, 3]])
    for (const accumulate of [false, true]) {
      it(`sumChunks ${chunks}x${n}${accumulate ? ' accumulate' : ''}`, async () => {
        const gpu = await testGpu();
        const seed = freshSeed();
        expect(await checkSumChunks(gpu, chunks, n, accumulate, seed), `seed ${seed}`).toBeLessThan(REDUCE_TOLERANCE);
      });
    }

  it('is deterministic: the same input gives the same bits', async () => {
    const gpu = await testGpu();
    const seed = freshSeed();
    const x = gpu.tensor([3000, 50], 'f32', randomNormal(150000, seeded(seed)), 'x');
    const [a, b, c, d] = gpu.run((enc) => [sumRows(enc, x), sumRows(enc, x), sumAll(enc, x), sumAll(enc, x)]);
    expect(Array.from(await a.read()), `seed ${seed}`).toEqual(Array.from(await b.read()));
    expect(Array.from(await c.read()), `seed ${seed}`).toEqual(Array.from(await d.read()));
  });

  it('accumulates into out (bias gradients, the squared norm over many tensors)', async () => {
    const gpu = await testGpu();
    const seed = freshSeed();
    const rand = seeded(seed);
    const ad = randomNormal(200 * 9, rand);
    const bd = randomNormal(77, rand);
    const a = gpu.tensor([200, 9], 'f32', ad, 'a');
    const b = gpu.tensor([7, 11], 'f32', bd, 'b');
    const bias = gpu.tensor([9], 'f32', new Float32Array(9).fill(0.5), 'bias.grad');
    const norm2 = gpu.tensor([1], 'f32', [0], 'norm2');
    gpu.run((enc) => {
      sumRows(enc, a, { out: bias, accumulate: true });
      sumSquares(enc, a, { out: norm2, accumulate: true });
      sumSquares(enc, b, { out: norm2, accumulate: true });
    });
    const want = sumRowsRef(ad, 200, 9);
    const gotBias = await bias.read();
    for (let j = 0; j < 9; j++) expect(gotBias[j], `bias[${j}] seed ${seed}`).toBeCloseTo(0.5 + want[j], 4);
    const [got] = await norm2.read();
    const wantN = sumSquaresRef(ad) + sumSquaresRef(bd);
    expect(Math.abs(got - wantN) / wantN, `seed ${seed}`).toBeLessThan(REDUCE_TOLERANCE);
  });

  it('sums of empty tensors are zero', async () => {
    const gpu = await testGpu();
    const x = gpu.tensor([0, 4], 'f32', undefined, 'empty');
    const [r, s] = gpu.run((enc) => [sumRows(enc, x), sumAll(enc, x)]);
    expect(Array.from(await r.read())).toEqual([0, 0, 0, 0]);
    expect(Array.from(await s.read())).toEqual([0]);
  });
});

describe('the twins\' backward (a broadcast) matches finite differences', () => {
  it('sumRows, sumAll, sumSquares', () => {
    const seed = freshSeed();
    const rand = seeded(seed);
    const [rows, c] = [4, 3];
    const x = Float64Array.from(randomNormal(rows * c, rand));
    const w = Float64Array.from(randomNormal(c, rand));
    const h = 1e-6;
    const losses: [string, () => number, Float64Array][] = [
      ['sumRows', () => sumRowsRef(x, rows, c).reduce((s, v, j) => s + v * w[j], 0), sumRowsBackwardRef(w, rows, c)],
      ['sumAll', () => 1.3 * sumAllRef(x), sumAllBackwardRef(1.3, x.length)],
      ['sumSquares', () => 1.3 * sumSquaresRef(x), sumSquaresBackwardRef(x, 1.3)],
    ];
    for (const [name, loss, grad] of losses) {
      for (let i = 0; i < x.length; i++) {
        const save = x[i];
        x[i] = save + h;
        const up = loss();
        x[i] = save - h;
        const down = loss();
        x[i] = save;
        const fd = (up - down) / (2 * h);
        expect(Math.abs(grad[i] - fd), `${name} d/dx[${i}], seed ${seed}`).toBeLessThan(1e-6 * (1 + Math.abs(fd)));
      }
    }
  });
});

describe('reduce bad input', () => {
  it('names the tensor and its shape', async () => {
    const gpu = await testGpu();
    const x = gpu.tensor([10, 6], 'f32', undefined, 'dy');
    const out = gpu.tensor([5], 'f32', undefined, 'bias.grad');
    expect(() => gpu.run((enc) => sumRows(enc, x, { out }))).toThrow(ShapeError);
    expect(() => gpu.run((enc) => sumRows(enc, x, { out }))).toThrow(/bias\.grad\[5\] should hold 6 values.*dy\[10, 6\]/);
    expect(() => gpu.run((enc) => sumAll(enc, x, { out }))).toThrow(/bias\.grad\[5\] should hold 1 values/);
    expect(() => gpu.run((enc) => sumRows(enc, x, { accumulate: true }))).toThrow(/accumulate needs/);
  });
});
