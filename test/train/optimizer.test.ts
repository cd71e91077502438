import { describe, expect, it } from 'vitest';
import { LabError } from '../../src/gpu/errors.ts';
import { freshSeed, randomNormal, seeded } from '../../src/kernels/random.ts';
import { adamwRef } from '../../src/kernels/reference/optim.ts';
import { Parameter, ParameterSet } from '../../src/nn/module.ts';
import { AdamW } from '../../src/train/optimizer.ts';
import { testGpu } from '../gpu.ts';

async function setUp(seed: number) {
  const gpu = await testGpu();
  const rand = seeded(seed);
  const shapes: [string, number[], boolean][] = [
    ['w', [5, 7], true],
    ['b', [5], false],
    ['frozen.w', [3, 2], true],
  ];
  const params = new ParameterSet();
  const host = new Map<string, { value: Float64Array; grad: Float64Array }>();
  for (const [name, shape, decay] of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    const value = randomNormal(n, rand);
    const grad = randomNormal(n, rand, 3);
    const p = new Parameter(name, gpu.tensor(shape, 'f32', value, name), decay);
    gpu.upload(p.gradient(gpu), grad);
    params.add(p);
    host.set(name, { value: Float64Array.from(value), grad: Float64Array.from(grad) });
  }
  return { gpu, params, host };
}

describe('AdamW over a parameter set', () => {
  it('takes the mean over micro-batches, clips by the global norm, decays matrices only, skips frozen parameters and clears gradients', async () => {
    const seed = freshSeed();
    const { gpu, params, host } = await setUp(seed);
    const opt = new AdamW(gpu, params, { weightDecay: 0.1, maxGradNorm: 1 });
    const micro = 2;
    const frozen = (name: string) => name.startsWith('frozen.');
    const report = await opt.update({ step: 1, lr: 1e-2, microBatches: micro, frozen });
    let sq = 0;
    for (const [name, h] of host) if (!frozen(name)) for (const g of h.grad) sq += (g / micro) ** 2;
    const norm = Math.sqrt(sq);
    expect(report.gradNorm).toBeCloseTo(norm, 3);
    expect(report.clip).toBeCloseTo(1 / norm, 5);
    for (const p of params.all()) {
      const h = host.get(p.name)!;
      const want = Float64Array.from(h.value);
      if (!frozen(p.name)) {
        const m = new Float64Array(want.length);
        const v = new Float64Array(want.length);
        adamwRef(want, h.grad, m, v, { lr: 1e-2, step: 1, weightDecay: p.decay ? 0.1 : 0, gradScale: (1 / micro) * (1 / norm) });
      }
      const got = await p.value.read();
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i]), `${p.name}[${i}] seed ${seed}`).toBeLessThan(1e-5);
      expect((await p.grad!.read()).every((g) => g === 0)).toBe(true);
    }
    opt.release();
    params.release();
  });

  it('refuses a non-finite gradient, names the parameter and changes nothing', async () => {
    const { gpu, params } = await setUp(5);
    const b = params.get('b');
    const g = Float32Array.from(await b.grad!.read());
    g[3] = NaN;
    gpu.upload(b.grad!, g);
    const before = await params.get('w').value.read();
    const opt = new AdamW(gpu, params, { maxGradNorm: 1 });
    const err = await opt.update({ step: 7, lr: 1e-2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).code).toBe('non-finite');
    expect((err as Error).message).toMatch(/update 7: the gradient of b holds NaN \(element 3\)/);
    expect(await params.get('w').value.read()).toEqual(before);
    opt.release();
    params.release();
  });

  it('restores moments and per-parameter step counts exactly', async () => {
    const { gpu, params } = await setUp(9);
    const opt = new AdamW(gpu, params);
    await opt.update({ step: 1, lr: 1e-3 });
    const saved = await opt.state();
    const counts = opt.stepCounts();
    expect(counts).toEqual({ w: 1, b: 1, 'frozen.w': 1 });
    const again = new AdamW(gpu, params);
    again.restore(saved, counts);
    expect(await again.state()).toEqual(saved);
    expect(() => again.restore(new Map([['optim.m.nope', { shape: [1], data: new Float32Array(1) }]]), {})).toThrow(/belongs to no parameter/);
    [opt, again].forEach((o) => o.release());
    params.release();
  });
});
