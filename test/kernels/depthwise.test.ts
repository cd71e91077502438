import { describe, expect, it } from 'vitest';
import {
  checkDepthwiseBackward,
  checkDepthwiseForward,
  checkDepthwiseStream,
  describeDepthwise,
  type DepthwiseCase,
} from '../../src/kernels/checks/depthwise.ts';
import { depthwiseConv, depthwiseConvBackward, depthwiseConvState, depthwiseConvStep } from '../../src/kernels/depthwise.ts';
import { depthwiseConvBackwardRef, depthwiseConvRef, type DepthwiseShape } from '../../src/kernels/reference/depthwise.ts';
import { freshSeed, randomNormal, seeded } from '../../src/kernels/random.ts';
import { maxRelError, readAll } from '../../src/kernels/compare.ts';
import { ShapeError } from '../../src/gpu/errors.ts';
import { dot, expectClose, f64, numericGrad } from '../finite-differences.ts';
import { testGpu } from '../gpu.ts';

const FWD = 5e-4;
const BWD = 5e-4;

describe('depthwise causal conv1d against its CPU twin', () => {
  const cases: DepthwiseCase[] = [
    { b: 1, l: 1, c: 1, k: 4 },
    { b: 1, l: 1, c: 7, k: 4, bias: true, silu: true },
    { b: 3, l: 5, c: 33, k: 4, bias: true },
    { b: 2, l: 9, c: 12, k: 4, bias: true, silu: true },
    { b: 2, l: 67, c: 257, k: 4, silu: true },
    { b: 1, l: 1000, c: 48, k: 4, bias: true, silu: true },
    { b: 2, l: 19, c: 10, k: 2, bias: true },
    { b: 1, l: 9, c: 6, k: 1 },
  ];
  for (const c of cases) {
    it(`forward ${describeDepthwise(c)}`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      expect(await checkDepthwiseForward(gpu, c, seed), `seed ${seed}`).toBeLessThan(FWD);
    });
    it(`backward ${describeDepthwise(c)}`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      expect(await checkDepthwiseBackward(gpu, c, seed), `seed ${seed}`).toBeLessThan(BWD);
    });
  }

  const streams: [DepthwiseCase, number[]][] = [
    [{ b: 2, l: 29, c: 13, k: 4, bias: true, silu: true }, [1]],
    [{ b: 1, l: 50, c: 37, k: 4, bias: true }, [3, 7, 2]],
    [{ b: 3, l: 17, c: 8, k: 4, silu: true }, [17]],
    [{ b: 1, l: 12, c: 5, k: 3 }, [2, 1]],
    // vec4 channels, chunks shorter than the state: the next state comes from both the old state and the new frames
    [{ b: 2, l: 11, c: 8, k: 4, bias: true, silu: true }, [1, 2]],
  ];
  for (const [c, chunks] of streams) {
    it(`streaming in chunks ${chunks.join(',')} equals the offline conv ${describeDepthwise(c)}`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      expect(await checkDepthwiseStream(gpu, c, chunks, seed), `seed ${seed}`).toBeLessThan(FWD);
    });
  }

  it('a streaming step is one dispatch: the conv writes the next state itself', async () => {
    const gpu = await testGpu();
    const w = gpu.tensor([8, 4], 'f32', randomNormal(32, seeded(1)), 'weight');
    const state = depthwiseConvState(gpu, 1, 8, 4);
    const x = gpu.tensor([1, 5, 8], 'f32', randomNormal(40, seeded(2)), 'x');
    const before = gpu.counters.dispatches;
    const r = gpu.run((enc) => depthwiseConvStep(enc, state, x, w, { silu: true }));
    expect(gpu.counters.dispatches - before).toBe(1);
    expect(r.state.shape).toEqual([1, 3, 8]);
    // The next state is the last k - 1 = 3 input frames.
    const [next, xs] = await readAll([r.state, x, r.y, w]);
    expect(Array.from(next!)).toEqual(Array.from(xs!.subarray(2 * 8)));
  });
});

describe('depthwise weight gradients accumulate', () => {
  for (const [l, ch] of [
    [6, 9],
    [700, 9],
    [6, 12],
    [700, 12],
  ]) {
    it(`dweight/dbias += over ${l} frames, ${ch} channels`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      const rand = seeded(seed);
      const s: DepthwiseShape = { b: 2, l, c: ch, k: 4, silu: true };
      const xd = randomNormal(2 * l * ch, rand);
      const wd = randomNormal(ch * 4, rand);
      const bd = randomNormal(ch, rand);
      const dyd = randomNormal(2 * l * ch, rand);
      const prevW = randomNormal(ch * 4, rand);
      const prevB = randomNormal(ch, rand);
      const x = gpu.tensor([2, l, ch], 'f32', xd, 'x');
      const w = gpu.tensor([ch, 4], 'f32', wd, 'w');
      const bias = gpu.tensor([ch], 'f32', bd, 'bias');
      const dy = gpu.tensor([2, l, ch], 'f32', dyd, 'dy');
      const dweight = gpu.tensor([ch, 4], 'f32', prevW, 'dweight');
      const dbias = gpu.tensor([ch], 'f32', prevB, 'dbias');
      gpu.run((enc) => depthwiseConvBackward(enc, x, w, dy, { bias, silu: true, dweight, dbias, accumulate: true }));
      const want = depthwiseConvBackwardRef(xd, wd, dyd, s, bd);
      expect(maxRelError(await dweight.read(), want.dweight.map((v, i) => v + prevW[i])), `seed ${seed}`).toBeLessThan(BWD);
      expect(maxRelError(await dbias.read(), want.dbias.map((v, i) => v + prevB[i])), `seed ${seed}`).toBeLessThan(BWD);
    });
  }
});

describe('CPU twin: backward equals finite differences of the forward (float64)', () => {
  for (const s of [
    { b: 2, l: 6, c: 3, k: 4, silu: true },
    { b: 1, l: 5, c: 2, k: 3, silu: false },
  ] as DepthwiseShape[]) {
    it(`depthwise ${s.b}x${s.l}x${s.c} k${s.k}${s.silu ? ' silu' : ''}`, () => {
      const seed = freshSeed();
      const rand = seeded(seed);
      const x = f64(s.b * s.l * s.c, rand);
      const w = f64(s.c * s.k, rand);
      const bias = f64(s.c, rand);
      const dy = f64(s.b * s.l * s.c, rand);
      const loss = () => dot(dy, depthwiseConvRef(x, w, s, bias));
      const g = depthwiseConvBackwardRef(x, w, dy, s, bias);
      expectClose(g.dx, numericGrad(x, loss), 'dx', seed);
      expectClose(g.dweight, numericGrad(w, loss), 'dweight', seed);
      expectClose(g.dbias, numericGrad(bias, loss), 'dbias', seed);
    });
  }
});

describe('depthwise bad input', () => {
  it('weight channels differ from the input, dy or the state does not fit', async () => {
    const gpu = await testGpu();
    const x = gpu.tensor([1, 8, 6], 'f32', undefined, 'x');
    const w = gpu.tensor([5, 4], 'f32', undefined, 'conv.weight');
    expect(() => gpu.run((enc) => depthwiseConv(enc, x, w))).toThrow(ShapeError);
    expect(() => gpu.run((enc) => depthwiseConv(enc, x, w))).toThrow(/conv\.weight\[5, 4\].*channels = 6.*x\[1, 8, 6\]/);
    const bias = gpu.tensor([5], 'f32', undefined, 'conv.bias');
    const w6 = gpu.tensor([6, 1, 4], 'f32', undefined, 'w6');
    expect(() => gpu.run((enc) => depthwiseConv(enc, x, w6, { bias }))).toThrow(/conv\.bias\[5\]/);
    const dy = gpu.tensor([1, 7, 6], 'f32', undefined, 'dy');
    expect(() => gpu.run((enc) => depthwiseConvBackward(enc, x, w6, dy))).toThrow(/dy\[1, 7, 6\].*x\[1, 8, 6\]/);
    const state = gpu.tensor([1, 4, 6], 'f32', undefined, 'state');
    expect(() => gpu.run((enc) => depthwiseConvStep(enc, state, x, w6))).toThrow(/state\[1, 4, 6\].*\[1, 3, 6\]/);
  });
});
