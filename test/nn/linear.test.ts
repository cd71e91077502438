import { describe, expect, it } from 'vitest';
import { Linear } from '../../src/nn/linear.ts';
import { channelConcat } from '../../src/kernels/layout.ts';
import { gradCheck } from '../../src/nn/gradcheck.ts';
import { Parameter, ParameterSet } from '../../src/nn/module.ts';
import { freshSeed, randomNormal, seeded } from '../../src/kernels/random.ts';
import { matmulRef } from '../../src/kernels/reference/matmul.ts';
import { maxRelError } from '../../src/kernels/compare.ts';
import { testGpu } from '../gpu.ts';

async function setup(inF: number, outF: number, rows: number[], seed: number) {
  const gpu = await testGpu();
  const rand = seeded(seed);
  const params = new ParameterSet();
  const w = randomNormal(outF * inF, rand, 0.5);
  const b = randomNormal(outF, rand, 0.5);
  params.add(new Parameter('fc.weight', gpu.tensor([outF, inF], 'f32', w, 'fc.weight'), true));
  params.add(new Parameter('fc.bias', gpu.tensor([outF], 'f32', b, 'fc.bias'), false));
  const xData = randomNormal(rows.reduce((a, c) => a * c, 1) * inF, rand);
  const x = gpu.tensor([...rows, inF], 'f32', xData, 'x');
  return { gpu, params, layer: new Linear(params, 'fc', inF, outF), w, b, xData, x };
}

describe('Linear', () => {
  it('forward equals x W^T + b', async () => {
    const seed = freshSeed();
    const { gpu, layer, w, b, xData, x } = await setup(33, 7, [2, 5], seed);
    const enc = gpu.encoder();
    const y = layer.forward({ enc, train: false }, x);
    enc.submit();
    expect(y.shape).toEqual([2, 5, 7]);
    const want = matmulRef(xData, w, { batch: 1, M: 10, N: 7, K: 33, transB: true }, b);
    expect(maxRelError(await y.read(), want), `seed ${seed}`).toBeLessThan(1e-4);
  });

  it('forwardSplit gives the output features in parts of their own, shaped like x', async () => {
    const seed = freshSeed();
    const { gpu, layer, w, b, xData, x } = await setup(12, 11, [2, 3], seed);
    const enc = gpu.encoder();
    const parts = layer.forwardSplit({ enc, train: false }, x, [2, 4, 5]);
    enc.submit();
    expect(parts.map((p) => p.shape)).toEqual([[2, 3, 2], [2, 3, 4], [2, 3, 5]]);
    const want = matmulRef(xData, w, { batch: 1, M: 6, N: 11, K: 12, transB: true }, b);
    let start = 0;
    for (const p of parts) {
      const width = p.shape[2];
      const wantPart = Float64Array.from({ length: 6 * width }, (_, i) => want[Math.floor(i / width) * 11 + start + (i % width)]);
      expect(maxRelError(await p.read(), wantPart), `seed ${seed}, part from ${start}`).toBeLessThan(1e-4);
      start += width;
    }
  });

  it('backward after forwardSplit takes dy whole and matches finite differences', async () => {
    const seed = freshSeed();
    const { gpu, params, layer, x } = await setup(8, 6, [2, 3], seed);
    const results = await gradCheck(
      gpu,
      {
        params,
        inputs: [x],
        forward: (pass, [input]) => {
          const parts = layer.forwardSplit(pass, input, [1, 5]);
          const whole = channelConcat(pass.enc, parts, 'fc.whole');
          pass.enc.releaseAfter(...parts);
          return whole;
        },
        backward: (pass, dy) => [layer.backward(pass, dy)],
      },
      seed,
    );
    expect(results.map((r) => r.tensor)).toEqual(['input 0 (x)', 'fc.weight', 'fc.bias']);
    for (const r of results) expect(r.relError, `${r.tensor} seed ${seed}: ${r.analytic} vs ${r.numeric}`).toBeLessThan(1e-2);
  });

  it('backward matches finite differences for x, weight and bias', async () => {
    const seed = freshSeed();
    const { gpu, params, layer, x } = await setup(9, 5, [3, 4], seed);
    const results = await gradCheck(
      gpu,
      {
        params,
        inputs: [x],
        forward: (pass, [input]) => layer.forward(pass, input),
        backward: (pass, dy) => [layer.backward(pass, dy)],
      },
      seed,
    );
    expect(results.map((r) => r.tensor)).toEqual(['input 0 (x)', 'fc.weight', 'fc.bias']);
    for (const r of results) expect(r.relError, `${r.tensor} seed ${seed}: ${r.analytic} vs ${r.numeric}`).toBeLessThan(1e-2);
  });
});
