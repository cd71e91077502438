import { describe, expect, it } from 'vitest';
import { checkL2, checkMask, L2_BACKWARD_TOLERANCE, L2_TOLERANCE, MASK_EXACT } from '../../src/kernels/checks/heads.ts';
import { l2Normalize, l2NormalizeBackward, maskFrames } from '../../src/kernels/heads.ts';
import { l2NormalizeBackwardRef, l2NormalizeRef } from '../../src/kernels/reference/heads.ts';
import { freshSeed, randomNormal, seeded } from '../../src/kernels/random.ts';
import { ShapeError } from '../../src/gpu/errors.ts';
import { testGpu } from '../gpu.ts';

describe('heads kernels against their CPU twins', () => {
  for (const [rows, c, alpha] of [[1, 1, 1], [2, 5, 10], [65, 37, 10], [3000, 256, 1]]) {
    it(`l2Normalize and its backward (${rows}, ${c}), alpha ${alpha}`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      const [fwd, bwd] = await checkL2(gpu, rows, c, alpha, seed);
      expect(fwd, `forward, seed ${seed}`).toBeLessThan(L2_TOLERANCE);
      expect(bwd, `backward, seed ${seed}`).toBeLessThan(L2_BACKWARD_TOLERANCE);
    });
  }

  for (const [rows, c] of [[1, 1], [7, 3], [777, 19], [70001, 2]]) {
    it(`maskFrames (${rows}, ${c}) with and without mask_emb`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      expect(await checkMask(gpu, rows, c, seed), `seed ${seed}`).toBeLessThanOrEqual(MASK_EXACT);
    });
  }
});

describe('heads twins', () => {
  it('l2NormalizeBackwardRef matches finite differences of l2NormalizeRef', () => {
    const seed = freshSeed();
    const rand = seeded(seed);
    const [rows, c, alpha, h] = [3, 6, 10, 1e-6];
    const x = Float64Array.from(randomNormal(rows * c, rand));
    const dy = randomNormal(rows * c, rand);
    const v = randomNormal(rows * c, rand);
    const loss = (t: ArrayLike<number>) => l2NormalizeRef(t, rows, c, alpha).reduce((s, y, i) => s + y * dy[i], 0);
    const numeric = (loss(x.map((e, i) => e + h * v[i])) - loss(x.map((e, i) => e - h * v[i]))) / (2 * h);
    const analytic = l2NormalizeBackwardRef(x, dy, rows, c, alpha).reduce((s, g, i) => s + g * v[i], 0);
    expect(Math.abs(analytic - numeric), `seed ${seed}: ${analytic} vs ${numeric}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(numeric)));
  });
});

describe('heads kernels reject bad input', () => {
  it('names the tensor and its shape', async () => {
    const gpu = await testGpu();
    const x = gpu.tensor([2, 3, 8], 'f32', undefined, 'proj');
    const dy = gpu.tensor([2, 3, 7], 'f32', undefined, 'dy');
    const mask = gpu.tensor([5], 'f32', undefined, 'mask');
    const imask = gpu.tensor([6], 'i32', undefined, 'mask');
    const emb = gpu.tensor([7], 'f32', undefined, 'mask_emb');
    const enc = gpu.encoder();
    expect(() => l2NormalizeBackward(enc, x, dy)).toThrow(ShapeError);
    expect(() => l2NormalizeBackward(enc, x, dy)).toThrow(/dy dy\[2, 3, 7\] must match x proj\[2, 3, 8\]/);
    expect(() => l2Normalize(enc, imask)).toThrow(/mask\[6\]:i32 must be f32/);
    expect(() => maskFrames(enc, x, mask)).toThrow(/mask mask\[5\]:f32 must hold 6 f32, one per frame of proj\[2, 3, 8\]/);
    expect(() => maskFrames(enc, x, imask)).toThrow(/mask\[6\]:i32 must hold 6 f32/);
    expect(() => maskFrames(enc, x, gpu.tensor([6], 'f32'), emb)).toThrow(/mask_emb mask_emb\[7\] must hold the 8 channels of proj\[2, 3, 8\]/);
    expect(enc.length).toBe(0);
    [x, dy, mask, imask, emb].forEach((t) => t.release());
  });
});
