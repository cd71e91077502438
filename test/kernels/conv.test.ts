import { describe, expect, it } from 'vitest';
import { checkConvBackward, checkConvForward, checkConvStream, convShape, describeConv, type ConvCase } from '../../src/kernels/checks/conv.ts';
import { conv1d, conv1dBackward, conv1dStreamStart, conv1dStreamStep } from '../../src/kernels/conv.ts';
import { conv1dBackwardRef, conv1dOutLength, conv1dRef, type Conv1dShape } from '../../src/kernels/reference/conv.ts';
import { freshSeed, randomNormal, seeded } from '../../src/kernels/random.ts';
import { maxRelError } from '../../src/kernels/compare.ts';
import { ShapeError } from '../../src/gpu/errors.ts';
import { dot, expectClose, f64, numericGrad } from '../finite-differences.ts';
import { testGpu } from '../gpu.ts';

// Forward bound: float32 sums of up to c_in/groups * k = 512 terms against float64 (1.2e-4 seen on SwiftShader at k128 g16).
const FWD = 5e-4;
const BWD = 5e-4;

describe('conv1d (stride, groups, padding) against its CPU twin', () => {
  const cases: ConvCase[] = [
    // feature extractor shapes, scaled down
    { b: 2, l: 103, cIn: 1, cOut: 12, k: 10, stride: 5 },
    { b: 1, l: 10, cIn: 1, cOut: 8, k: 10, stride: 5, bias: true },
    { b: 1, l: 41, cIn: 16, cOut: 20, k: 3, stride: 2, bias: true },
    { b: 2, l: 12, cIn: 12, cOut: 8, k: 2, stride: 2 },
    { b: 1, l: 3, cIn: 8, cOut: 4, k: 3, stride: 2 },
    { b: 1, l: 37, cIn: 16, cOut: 16, k: 3, stride: 2, variant: 'scalar' },
    { b: 1, l: 37, cIn: 16, cOut: 16, k: 3, stride: 2, variant: 'xs' },
    // odd channel counts: the scalar kernels
    { b: 2, l: 23, cIn: 3, cOut: 5, k: 4, stride: 3, bias: true },
    // positional conv: 'same' for an even kernel (fairseq's SamePad), and causal
    { b: 1, l: 70, cIn: 64, cOut: 64, k: 128, groups: 16, padding: 'same', bias: true },
    { b: 2, l: 29, cIn: 32, cOut: 32, k: 16, groups: 4, padding: 'same', bias: true },
    { b: 1, l: 19, cIn: 15, cOut: 10, k: 7, groups: 5, padding: 'same' },
    { b: 2, l: 31, cIn: 24, cOut: 24, k: 8, groups: 3, padding: 'causal', bias: true },
    { b: 1, l: 19, cIn: 15, cOut: 10, k: 6, groups: 5, padding: 'causal', bias: true },
    { b: 1, l: 17, cIn: 8, cOut: 12, k: 5, stride: 3, padding: { left: 2, right: 4 }, bias: true },
    // the fused GELU of inference, in each variant
    { b: 2, l: 45, cIn: 16, cOut: 12, k: 3, stride: 2, gelu: true },
    { b: 1, l: 57, cIn: 1, cOut: 8, k: 10, stride: 5, bias: true, gelu: true },
    { b: 2, l: 23, cIn: 3, cOut: 5, k: 4, stride: 3, bias: true, gelu: true },
    // a long sequence (weight gradients summed in chunks)
    { b: 2, l: 1500, cIn: 4, cOut: 8, k: 4, stride: 2, bias: true },
  ];
  for (const c of cases) {
    it(`forward ${describeConv(c)}`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      expect(await checkConvForward(gpu, c, seed), `seed ${seed}`).toBeLessThan(FWD);
    });
    it(`backward ${describeConv(c)}`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      expect(await checkConvBackward(gpu, c, seed), `seed ${seed}`).toBeLessThan(BWD);
    });
  }

  it("'same' keeps the length for even and odd kernels, 'causal' too; 'valid' gives floor((l - k) / s) + 1", async () => {
    const gpu = await testGpu();
    const x = gpu.tensor([1, 50, 32], 'f32', undefined, 'x');
    for (const [k, padding, stride, want] of [
      [128, 'same', 1, 50],
      [7, 'same', 1, 50],
      [128, 'causal', 1, 50],
      [10, 'valid', 5, 9],
      [3, 'valid', 2, 24],
    ] as const) {
      const w = gpu.tensor([32, 2, k], 'f32', undefined, 'w');
      const y = gpu.run((enc) => conv1d(enc, x, w, { groups: 16, padding, stride }));
      expect(y.shape, `k ${k} ${padding} s${stride}`).toEqual([1, want, 32]);
      y.release();
      w.release();
    }
    x.release();
  });

  const streams: [ConvCase, number[]][] = [
    [{ b: 1, l: 97, cIn: 1, cOut: 8, k: 10, stride: 5, bias: true }, [7, 1, 13]],
    [{ b: 2, l: 64, cIn: 1, cOut: 16, k: 10, stride: 5 }, [1]],
    [{ b: 2, l: 41, cIn: 8, cOut: 12, k: 3, stride: 2, bias: true }, [4, 3, 1]],
    [{ b: 1, l: 30, cIn: 8, cOut: 8, k: 2, stride: 2 }, [5]],
    [{ b: 2, l: 23, cIn: 16, cOut: 16, k: 8, groups: 4, padding: 'causal', bias: true }, [5, 2]],
    [{ b: 1, l: 40, cIn: 32, cOut: 32, k: 128, groups: 16, padding: 'causal', bias: true }, [1, 6, 11]],
    [{ b: 2, l: 50, cIn: 8, cOut: 8, k: 3, stride: 2, gelu: true }, [3, 9]],
    [{ b: 1, l: 33, cIn: 6, cOut: 6, k: 5, groups: 3, padding: 'causal', bias: true, gelu: true, variant: 'scalar' }, [2, 7]],
  ];
  for (const [c, chunks] of streams) {
    it(`streaming in chunks ${chunks.join(',')} equals the offline conv ${describeConv(c)}`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      expect(await checkConvStream(gpu, c, chunks, seed), `seed ${seed}`).toBeLessThan(FWD);
    });
  }

  it('a stream packs its weight once: every later step is one dispatch (the conv copies the next tail itself)', async () => {
    const gpu = await testGpu();
    const w = gpu.tensor([8, 8, 3], 'f32', randomNormal(192, seeded(2)), 'w');
    let s = conv1dStreamStart(gpu, w, 1, { stride: 2 });
    const dispatches: number[] = [];
    for (let i = 0; i < 3; i++) {
      const x = gpu.tensor([1, 6, 8], 'f32', randomNormal(48, seeded(i)), 'x');
      const before = gpu.counters.dispatches;
      const step = gpu.run((enc) => conv1dStreamStep(enc, s, x, w, { stride: 2 }));
      dispatches.push(gpu.counters.dispatches - before);
      s = step.stream;
      step.y.release();
      x.release();
    }
    expect(dispatches).toEqual([2, 1, 1]);
    expect(s.packed?.shape).toEqual([3, 8, 8]);
    s.tail.release();
    s.packed?.release();
    w.release();
  });

  it('carries (k - s) + ((n - k) mod s) frames between chunks of a strided conv', async () => {
    const gpu = await testGpu();
    const w = gpu.tensor([4, 1, 10], 'f32', randomNormal(40, seeded(1)), 'w');
    const stream = conv1dStreamStart(gpu, w, 1, { stride: 5 });
    expect(stream.tail.shape).toEqual([1, 0, 1]);
    let s = stream;
    for (const [m, outs, tail] of [
      [7, 0, 7], // 7 < k: nothing yet, all carried
      [6, 1, 8], // 13 frames: output 0 (frames 0-9); next starts at 5: 8 carried = (10 - 5) + (13 - 10) mod 5
      [2, 1, 5], // 15 frames: output 1; carried 5 = (10 - 5) + 0
    ] as const) {
      const x = gpu.tensor([1, m, 1], 'f32', randomNormal(m, seeded(m)), 'x');
      const step = gpu.run((enc) => conv1dStreamStep(enc, s, x, w, { stride: 5 }));
      expect(step.y.shape[1]).toBe(outs);
      expect(step.stream.tail.shape[1]).toBe(tail);
      s = step.stream;
      step.y.release();
      x.release();
    }
  });
});

describe('conv1d weight gradients accumulate', () => {
  for (const [label, c] of [
    ['one chunk', { b: 1, l: 20, cIn: 16, cOut: 20, k: 3, stride: 2, bias: true }],
    ['summed in chunks', { b: 2, l: 900, cIn: 3, cOut: 5, k: 4, stride: 2, bias: true }],
  ] as [string, ConvCase][]) {
    it(`conv1d dweight/dbias += (${label}) ${describeConv(c)}`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      const rand = seeded(seed);
      const s = convShape(c);
      const lOut = conv1dOutLength(s);
      const xd = randomNormal(c.b * c.l * c.cIn, rand);
      const wd = randomNormal(c.cOut * c.cIn * c.k, rand);
      const dyd = randomNormal(c.b * lOut * c.cOut, rand);
      const prevW = randomNormal(wd.length, rand);
      const prevB = randomNormal(c.cOut, rand);
      const x = gpu.tensor([c.b, c.l, c.cIn], 'f32', xd, 'x');
      const w = gpu.tensor([c.cOut, c.cIn, c.k], 'f32', wd, 'w');
      const bias = gpu.tensor([c.cOut], 'f32', new Float32Array(c.cOut), 'bias');
      const dy = gpu.tensor([c.b, lOut, c.cOut], 'f32', dyd, 'dy');
      const dweight = gpu.tensor(w.shape, 'f32', prevW, 'dweight');
      const dbias = gpu.tensor([c.cOut], 'f32', prevB, 'dbias');
      const g = gpu.run((enc) => conv1dBackward(enc, x, w, dy, { stride: c.stride, bias, dweight, dbias, accumulate: true, needDx: false }));
      expect(g.dx).toBeUndefined();
      const want = conv1dBackwardRef(xd, wd, dyd, s);
      expect(maxRelError(await dweight.read(), want.dweight.map((v, i) => v + prevW[i])), `seed ${seed}`).toBeLessThan(BWD);
      expect(maxRelError(await dbias.read(), want.dbias.map((v, i) => v + prevB[i])), `seed ${seed}`).toBeLessThan(BWD);
    });
  }
});

describe('CPU twin: backward equals finite differences of the forward (float64)', () => {
  for (const s of [
    { b: 2, l: 11, cIn: 4, cOut: 6, k: 3, stride: 2, groups: 2, padLeft: 2, padRight: 1 },
    { b: 1, l: 12, cIn: 1, cOut: 3, k: 5, stride: 3, groups: 1, padLeft: 0, padRight: 0 },
    { b: 1, l: 7, cIn: 6, cOut: 3, k: 4, stride: 1, groups: 3, padLeft: 2, padRight: 1 },
  ] as Conv1dShape[]) {
    it(`conv1d ${JSON.stringify(s)}`, () => {
      const seed = freshSeed();
      const rand = seeded(seed);
      const x = f64(s.b * s.l * s.cIn, rand);
      const w = f64((s.cOut * s.cIn * s.k) / s.groups, rand);
      const bias = f64(s.cOut, rand);
      const dy = f64(s.b * conv1dOutLength(s) * s.cOut, rand);
      const loss = () => dot(dy, conv1dRef(x, w, s, bias));
      const g = conv1dBackwardRef(x, w, dy, s);
      expectClose(g.dx, numericGrad(x, loss), 'dx', seed);
      expectClose(g.dweight, numericGrad(w, loss), 'dweight', seed);
      expectClose(g.dbias, numericGrad(bias, loss), 'dbias', seed);
    });
  }
});

describe('conv bad input', () => {
  it('conv1d: groups not dividing the channels, weight not matching, input shorter than the kernel', async () => {
    const gpu = await testGpu();
    const x = gpu.tensor([1, 20, 6], 'f32', undefined, 'feat');
    const w = gpu.tensor([8, 2, 3], 'f32', undefined, 'w');
    expect(() => gpu.run((enc) => conv1d(enc, x, w, { groups: 4 }))).toThrow(ShapeError);
    expect(() => gpu.run((enc) => conv1d(enc, x, w, { groups: 4 }))).toThrow(/groups 4 does not divide the 6 channels of input feat\[1, 20, 6\]/);
    expect(() => gpu.run((enc) => conv1d(enc, x, w))).toThrow(/weight w\[8, 2, 3\] needs c_in \/ groups = 6/);
    const w3 = gpu.tensor([9, 3, 3], 'f32', undefined, 'w3');
    expect(() => gpu.run((enc) => conv1d(enc, x, w3, { groups: 2 }))).toThrow(/groups 2 does not divide the 9 output channels of weight w3\[9, 3, 3\]/);
    const long = gpu.tensor([8, 6, 25], 'f32', undefined, 'wide');
    expect(() => gpu.run((enc) => conv1d(enc, x, long, { stride: 2 }))).toThrow(/input feat\[1, 20, 6\] is shorter than the kernel.*k = 25/);
    const bias = gpu.tensor([7], 'f32', undefined, 'b7');
    const w6 = gpu.tensor([8, 6, 3], 'f32', undefined, 'w6');
    expect(() => gpu.run((enc) => conv1d(enc, x, w6, { bias }))).toThrow(/bias b7\[7\] must be \(8\)/);
    const dy = gpu.tensor([1, 20, 8], 'f32', undefined, 'grad');
    expect(() => gpu.run((enc) => conv1dBackward(enc, x, w6, dy))).toThrow(/dy grad\[1, 20, 8\] must be \[1, 18, 8\]/);
    expect(() => conv1dStreamStart(gpu, w6, 1, { padding: 'same' })).toThrow(ShapeError);
  });
});
