import { describe, expect, it } from 'vitest';
import { FeedForward } from '../../src/nn/feed-forward.ts';
import { GRAD_TOLERANCE, gradErrors } from '../../src/nn/gradcheck.ts';
import { Parameter, ParameterSet } from '../../src/nn/module.ts';
import { ShapeError } from '../../src/gpu/errors.ts';
import { freshSeed, randomNormal, seeded } from '../../src/kernels/random.ts';
import { matmulRef } from '../../src/kernels/reference/matmul.ts';
import { maxRelError } from '../../src/kernels/compare.ts';
import { testGpu } from '../gpu.ts';

/** Against the float64 CPU twin: float32 rounding through several kernels, relative to a floor of 1e-3 of the largest value. */
const FORWARD_BOUND = 5e-4;

async function setup(d: number, ffn: number, rows: number[], seed: number) {
  const gpu = await testGpu();
  const rand = seeded(seed);
  const params = new ParameterSet();
  const values = new Map<string, Float32Array>();
  const add = (name: string, shape: number[], scale: number) => {
    const v = randomNormal(shape.reduce((a, b) => a * b, 1), rand, scale);
    values.set(name, v);
    params.add(new Parameter(name, gpu.tensor(shape, 'f32', v, name), true));
  };
  add('l.fc1.weight', [ffn, d], 0.5);
  add('l.fc1.bias', [ffn], 0.5);
  add('l.fc2.weight', [d, ffn], 0.5);
  add('l.fc2.bias', [d], 0.5);
  const xData = randomNormal(rows.reduce((a, b) => a * b, 1) * d, rand);
  return { gpu, params, values, xData, x: gpu.tensor([...rows, d], 'f32', xData, 'x'), ffn: new FeedForward(params, 'l', d, ffn) };
}

describe('FeedForward', () => {
  it('forward equals fc2(GELU(fc1(x))) on the CPU, in training and inference', async () => {
    const seed = freshSeed();
    const { gpu, values, xData, x, ffn } = await setup(13, 21, [2, 7], seed);
    const v = (n: string) => values.get(n)!;
    const h = matmulRef(xData, v('l.fc1.weight'), { batch: 1, M: 14, N: 21, K: 13, transB: true }, v('l.fc1.bias'), 'gelu');
    const want = matmulRef(h, v('l.fc2.weight'), { batch: 1, M: 14, N: 13, K: 21, transB: true }, v('l.fc2.bias'));
    for (const train of [false, true]) {
      const enc = gpu.encoder();
      const pass = { enc, train };
      const y = ffn.forward(pass, x);
      if (train) enc.releaseAfter(ffn.backward(pass, y));
      enc.submit();
      expect(y.shape).toEqual([2, 7, 13]);
      expect(maxRelError(await y.read(), want), `train ${train} seed ${seed}`).toBeLessThan(FORWARD_BOUND);
    }
  });

  it('backward matches finite differences for x and every parameter', async () => {
    const seed = freshSeed();
    const { gpu, params, x, ffn } = await setup(5, 7, [2, 3], seed);
    const results = await gradErrors(
      gpu,
      { params, inputs: [x], forward: (pass, [a]) => ffn.forward(pass, a), backward: (pass, dy) => [ffn.backward(pass, dy)] },
      seed,
    );
    expect(results.length).toBe(5);
    for (const q of results) expect(q.error, `${q.tensor} seed ${seed}: ${q.analytic} vs ${q.numeric}`).toBeLessThanOrEqual(GRAD_TOLERANCE);
  });

  it('rejects bad inputs, naming the tensor', async () => {
    const seed = freshSeed();
    const { gpu, params } = await setup(5, 7, [1], seed);
    const ffn = new FeedForward(params, 'l', 5, 7);
    const enc = gpu.encoder();
    const bad = gpu.tensor([2, 6], 'f32', undefined, 'bad');
    expect(() => ffn.forward({ enc, train: false }, bad)).toThrow(ShapeError);
    expect(() => ffn.forward({ enc, train: false }, bad)).toThrow(/bad\[2, 6\]/);
    expect(() => new FeedForward(params, 'l', 5, 8)).toThrow(/l.fc1.weight is \[7, 5\]/);
    expect(() => ffn.backward({ enc, train: true }, bad)).toThrow(/backward without a training forward/);
  });
});
