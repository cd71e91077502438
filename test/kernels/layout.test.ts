import { describe, expect, it } from 'vitest';
import {
  checkConcat,
  checkFramesConcat,
  checkReverse,
  checkSlice,
  checkSliceBackward,
  LAYOUT_ACCUMULATE_TOLERANCE,
  LAYOUT_EXACT,
  type FramesConcatCase,
} from '../../src/kernels/checks/layout.ts';
import { channelConcat, channelSlice, channelSliceBackward, framesConcat, reverseFrames } from '../../src/kernels/layout.ts';
import { channelSliceBackwardRef, channelSliceRef, framesConcatRef, reverseFramesRef } from '../../src/kernels/reference/layout.ts';
import { freshSeed, randomNormal, seeded } from '../../src/kernels/random.ts';
import { ShapeError } from '../../src/gpu/errors.ts';
import { testGpu } from '../gpu.ts';

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

describe('layout kernels against their CPU twins', () => {
  const slices: [rows: number, c: number, start: number, count: number][] = [
    [1, 1, 0, 1],
    [1, 7, 6, 1],
    [5, 16, 8, 8],
    [257, 13, 2, 9],
    [70001, 3, 1, 2],
  ];
  for (const [rows, c, start, count] of slices) {
    it(`channelSlice and its backward, (${rows}, ${c}) [${start}:${start + count}]`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      expect(await checkSlice(gpu, rows, c, start, count, seed), `slice, seed ${seed}`).toBeLessThanOrEqual(LAYOUT_EXACT);
      expect(await checkSliceBackward(gpu, rows, c, start, count, false, seed), `write, seed ${seed}`).toBeLessThanOrEqual(LAYOUT_EXACT);
      expect(await checkSliceBackward(gpu, rows, c, start, count, true, seed), `accumulate, seed ${seed}`).toBeLessThan(LAYOUT_ACCUMULATE_TOLERANCE);
    });
  }

  for (const [b, l, widths] of [[1, 1, [1]], [2, 5, [2, 4, 4]], [3, 333, [5, 1, 16, 7]]] as [number, number, number[]][]) {
    it(`channelConcat (${b}, ${l}) of widths ${widths.join(', ')}`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      expect(await checkConcat(gpu, b, l, widths, seed), `seed ${seed}`).toBeLessThanOrEqual(LAYOUT_EXACT);
    });
  }

  for (const [b, l, c] of [[1, 1, 1], [2, 5, 3], [3, 64, 17], [2, 1000, 130]]) {
    it(`reverseFrames (${b}, ${l}, ${c}) with and without lengths`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      expect(await checkReverse(gpu, b, l, c, false, seed), `seed ${seed}`).toBeLessThanOrEqual(LAYOUT_EXACT);
      expect(await checkReverse(gpu, b, l, c, true, seed), `lengths, seed ${seed}`).toBeLessThanOrEqual(LAYOUT_EXACT);
    });
  }

  const concats: FramesConcatCase[] = [
    { b: 1, la: 1, lb: 1, c: 1, start: 0, len: 2 },
    { b: 2, la: 3, lb: 5, c: 7, start: 0, len: 8 },
    { b: 2, la: 3, lb: 5, c: 7, start: 2, len: 4 }, // a window across both parts
    { b: 3, la: 9, lb: 4, c: 5, start: 1, len: 6 }, // inside a only
    { b: 3, la: 9, lb: 4, c: 5, start: 10, len: 3 }, // inside b only
    { b: 1, la: 0, lb: 300, c: 33, start: 0, len: 300 }, // an empty first part (the KV cache's first chunk)
    { b: 2, la: 40, lb: 0, c: 3, start: 37, len: 3 }, // an empty second part
    { b: 2, la: 3, lb: 2, c: 4, start: 5, len: 0 }, // nothing at all
    { b: 1, la: 2000, lb: 20, c: 65, start: 0, len: 2020 },
  ];
  for (const k of concats) {
    it(`framesConcat [${k.b}, ${k.la}, ${k.c}] + [${k.b}, ${k.lb}, ${k.c}] frames ${k.start}..${k.start + k.len}`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      expect(await checkFramesConcat(gpu, k, seed), `seed ${seed}`).toBeLessThanOrEqual(LAYOUT_EXACT);
    });
  }

  it('framesConcat glues the frames of each utterance along time', async () => {
    const gpu = await testGpu();
    // b = 2, c = 1: a has 2 frames per utterance, b 1.
    const a = gpu.tensor([2, 2, 1], 'f32', [1, 2, 11, 12], 'a');
    const b = gpu.tensor([2, 1, 1], 'f32', [3, 13], 'b');
    const y = gpu.run((enc) => framesConcat(enc, a, b, 1, 2));
    expect(y.shape).toEqual([2, 2, 1]);
    expect([...(await y.read())]).toEqual([2, 3, 12, 13]);
    expect([...framesConcatRef([1, 2, 11, 12], [3, 13], 2, 2, 1, 1, 1, 2)]).toEqual([2, 3, 12, 13]);
    [a, b, y].forEach((t) => t.release());
  });

  it('reverseFrames keeps padded frames at the end and is its own inverse', async () => {
    const gpu = await testGpu();
    // b = 3, l = 4, c = 1: full, shorter (2 frames), empty.
    const x = gpu.tensor([3, 4, 1], 'f32', [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23], 'x');
    const lengths = gpu.tensor([3], 'i32', [4, 2, 0], 'lengths');
    const [once, twice] = gpu.run((enc) => {
      const r = reverseFrames(enc, x, lengths);
      return [r, reverseFrames(enc, r, lengths)];
    });
    expect([...(await once.read())]).toEqual([3, 2, 1, 0, 11, 10, 12, 13, 20, 21, 22, 23]);
    expect([...(await twice.read())]).toEqual([...(await x.read())]);
    [x, lengths, once, twice].forEach((t) => t.release());
  });
});

describe('layout twins: each backward is the adjoint of its forward', () => {
  // Finite differences of a linear map are exact, so the check is <f(x), dy> = <x, f^T(dy)>.
  it('channelSliceBackwardRef is the adjoint of channelSliceRef', () => {
    const seed = freshSeed();
    const rand = seeded(seed);
    const [rows, c, start, count] = [7, 11, 3, 5];
    const x = randomNormal(rows * c, rand);
    const dy = randomNormal(rows * count, rand);
    const lhs = dot(channelSliceRef(x, rows, c, start, count), dy);
    const rhs = dot(x, channelSliceBackwardRef(dy, new Float64Array(rows * c), rows, c, start));
    expect(Math.abs(lhs - rhs), `seed ${seed}`).toBeLessThan(1e-9 * Math.max(1, Math.abs(lhs)));
  });

  it('reverseFramesRef is its own adjoint', () => {
    const seed = freshSeed();
    const rand = seeded(seed);
    const [b, l, c] = [3, 9, 4];
    const lengths = [9, 4, 1];
    const x = randomNormal(b * l * c, rand);
    const dy = randomNormal(b * l * c, rand);
    const lhs = dot(reverseFramesRef(x, b, l, c, lengths), dy);
    const rhs = dot(x, reverseFramesRef(dy, b, l, c, lengths));
    expect(Math.abs(lhs - rhs), `seed ${seed}`).toBeLessThan(1e-9 * Math.max(1, Math.abs(lhs)));
  });
});

describe('layout kernels reject bad input', () => {
  it('names the tensor and its shape', async () => {
    const gpu = await testGpu();
    const x = gpu.tensor([2, 3, 8], 'f32', undefined, 'xz');
    const small = gpu.tensor([2, 3, 4], 'f32', undefined, 'dz');
    const flat = gpu.tensor([6, 4], 'f32', undefined, 'flat');
    const lengths = gpu.tensor([3], 'i32', undefined, 'lengths');
    const fLengths = gpu.tensor([2], 'f32', undefined, 'lengths');
    const enc = gpu.encoder();
    expect(() => channelSlice(enc, x, 6, 4)).toThrow(ShapeError);
    expect(() => channelSlice(enc, x, 6, 4)).toThrow(/channels 6\.\.10 do not lie inside the 8 channels of xz\[2, 3, 8\]/);
    expect(() => channelSlice(enc, x, 0, 0)).toThrow(ShapeError);
    expect(() => channelSliceBackward(enc, small, x, 5)).toThrow(/channels 5\.\.9 do not lie inside the 8 channels of xz\[2, 3, 8\]/);
    expect(() => channelSliceBackward(enc, flat, x, 0)).toThrow(/flat\[6, 4\] does not fit channels 0\.\.4 of xz\[2, 3, 8\]/);
    expect(() => channelConcat(enc, [x, flat])).toThrow(/flat\[6, 4\] does not match the leading dimensions of xz\[2, 3, 8\]/);
    expect(() => reverseFrames(enc, flat)).toThrow(/reverseFrames: flat\[6, 4\] must be \(b, l, channels\)/);
    expect(() => reverseFrames(enc, x, lengths)).toThrow(/lengths lengths\[3\]:i32 must be \(b=2\) integers for xz\[2, 3, 8\]/);
    expect(() => reverseFrames(enc, x, fLengths)).toThrow(/lengths\[2\]:f32 must be \(b=2\) integers/);
    expect(() => reverseFrames(enc, x, undefined, x)).toThrow(/no in-place reversal/);
    expect(() => framesConcat(enc, x, small, 0, 1)).toThrow(/framesConcat: xz\[2, 3, 8\] and dz\[2, 3, 4\] must both be \(b, frames, channels\)/);
    expect(() => framesConcat(enc, x, flat, 0, 1)).toThrow(ShapeError);
    expect(() => framesConcat(enc, small, small, 4, 3)).toThrow(/frames 4\.\.7 lie outside \[dz\[2, 3, 4\], dz\[2, 3, 4\]\] \(6 frames\)/);
    expect(enc.length).toBe(0);
    [x, small, flat, lengths, fLengths].forEach((t) => t.release());
  });
});
