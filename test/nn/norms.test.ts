import { describe, expect, it } from 'vitest';
import { GroupNorm, LayerNorm } from '../../src/nn/norms.ts';
import { GRAD_TOLERANCE, gradErrors } from '../../src/nn/gradcheck.ts';
import { Parameter, ParameterSet } from '../../src/nn/module.ts';
import { ShapeError } from '../../src/gpu/errors.ts';
import { freshSeed, randomNormal, seeded } from '../../src/kernels/random.ts';
import { groupNormRef, layerNormRef } from '../../src/kernels/reference/norm.ts';
import { maxRelError } from '../../src/kernels/compare.ts';
import { testGpu } from '../gpu.ts';


async function setup(name: string, c: number, seed: number) {
  const gpu = await testGpu();
  const rand = seeded(seed);
  const params = new ParameterSet();
  const gamma = randomNormal(c, rand, 0.5).map((v) => 1 + v);
  const beta = randomNormal(c, rand, 0.5);
  params.add(new Parameter(`${name}.weight`, gpu.tensor([c], 'f32', gamma, `${name}.weight`), false));
  params.add(new Parameter(`${name}.bias`, gpu.tensor([c], 'f32', beta, `${name}.bias`), false));
  const input = (shape: number[], label: string) => {
    const data = randomNormal(shape.reduce((a, b) => a * b, 1), rand, 2);
    return { data, t: gpu.tensor(shape, 'f32', data, label) };
  };
  return { gpu, params, gamma, beta, input };
}

describe('LayerNorm', () => {
  it('forward equals the CPU layer norm, with and without a residual', async () => {
    const seed = freshSeed();
    const { gpu, params, gamma, beta, input } = await setup('ln', 37, seed);
    const ln = new LayerNorm(params, 'ln', 37);
    const x = input([2, 5, 37], 'x');
    const r = input([2, 5, 37], 'r');
    const enc = gpu.encoder();
    const y = ln.forward({ enc, train: false }, x.t);
    const yr = ln.forward({ enc, train: false }, x.t, r.t);
    enc.submit();
    expect(y.shape).toEqual([2, 5, 37]);
    expect(maxRelError(await y.read(), layerNormRef(x.data, gamma, beta, 10, 37).y), `seed ${seed}`).toBeLessThan(1e-4);
    expect(maxRelError(await yr.read(), layerNormRef(x.data, gamma, beta, 10, 37, 1e-5, r.data).y), `seed ${seed}`).toBeLessThan(1e-4);
  });

  it('backward matches finite differences for x, the residual, weight and bias', async () => {
    const seed = freshSeed();
    const { gpu, params, input } = await setup('ln', 6, seed);
    const ln = new LayerNorm(params, 'ln', 6);
    const x = input([2, 3, 6], 'x');
    const r = input([2, 3, 6], 'r');
    const results = await gradErrors(
      gpu,
      {
        params,
        inputs: [x.t, r.t],
        forward: (pass, [a, b]) => ln.forward(pass, a, b),
        backward: (pass, dy) => {
          const dx = ln.backward(pass, dy);
          return [dx, dx];
        },
      },
      seed,
    );
    expect(results.map((q) => q.tensor)).toEqual(['input 0 (x)', 'input 1 (r)', 'ln.weight', 'ln.bias']);
    for (const q of results) expect(q.error, `${q.tensor} seed ${seed}: ${q.analytic} vs ${q.numeric}`).toBeLessThanOrEqual(GRAD_TOLERANCE);
  });

  it('rejects inputs with the wrong channels, naming the tensor', async () => {
    const seed = freshSeed();
    const { gpu, params, input } = await setup('ln', 8, seed);
    const ln = new LayerNorm(params, 'ln', 8);
    const enc = gpu.encoder();
    expect(() => ln.forward({ enc, train: false }, input([2, 7], 'bad').t)).toThrow(ShapeError);
    expect(() => ln.forward({ enc, train: false }, input([2, 7], 'bad').t)).toThrow(/ln: input bad\[2, 7\]/);
    expect(() => ln.forward({ enc, train: false }, input([2, 8], 'x').t, input([1, 8], 'res').t)).toThrow(/residual res\[1, 8\]/);
    expect(() => new LayerNorm(params, 'ln', 9)).toThrow(/ln.weight is \[8\]/);
  });
});

describe('GroupNorm', () => {
  it('forward equals the CPU group norm', async () => {
    const seed = freshSeed();
    const { gpu, params, gamma, beta, input } = await setup('gn', 12, seed);
    for (const groups of [12, 3]) {
      const gn = new GroupNorm(params, 'gn', 12, groups);
      const x = input([2, 9, 12], 'x');
      const enc = gpu.encoder();
      const y = gn.forward({ enc, train: false }, x.t);
      enc.submit();
      expect(maxRelError(await y.read(), groupNormRef(x.data, gamma, beta, 2, 9, 12, groups).y), `groups ${groups} seed ${seed}`).toBeLessThan(1e-4);
    }
  });

  it('backward matches finite differences for x, weight and bias', async () => {
    const seed = freshSeed();
    const { gpu, params, input } = await setup('gn', 4, seed);
    const gn = new GroupNorm(params, 'gn', 4, 2);
    const x = input([2, 5, 4], 'x');
    const results = await gradErrors(
      gpu,
      { params, inputs: [x.t], forward: (pass, [a]) => gn.forward(pass, a), backward: (pass, dy) => [gn.backward(pass, dy)] },
      seed,
    );
    for (const q of results) expect(q.error, `${q.tensor} seed ${seed}: ${q.analytic} vs ${q.numeric}`).toBeLessThanOrEqual(GRAD_TOLERANCE);
  });

  it('rejects bad inputs, naming the tensor', async () => {
    const seed = freshSeed();
    const { gpu, params, input } = await setup('gn', 4, seed);
    expect(() => new GroupNorm(params, 'gn', 4, 3)).toThrow(ShapeError);
    const gn = new GroupNorm(params, 'gn', 4, 4);
    const enc = gpu.encoder();
    expect(() => gn.forward({ enc, train: false }, input([2, 4], 'flat').t)).toThrow(/gn: input flat\[2, 4\]/);
    expect(() => gn.forward({ enc, train: false }, input([1, 3, 5], 'wide').t)).toThrow(/wide\[1, 3, 5\]/);
  });
});
