import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../src/gpu/errors.ts';
import { checkAdamW, describeAdamW, type AdamWCase } from '../../src/kernels/checks/optim.ts';
import { adamw } from '../../src/kernels/optim.ts';
import { freshSeed } from '../../src/kernels/random.ts';
import { adamwRef } from '../../src/kernels/reference/optim.ts';
import { testGpu } from '../gpu.ts';

describe('AdamW against its CPU twin over several steps', () => {
  const cases: AdamWCase[] = [
    { n: 1, steps: 4, settings: { lr: 1e-3 } },
    { n: 3, steps: 6, settings: { lr: 1e-3, weightDecay: 0.3 } },
    { n: 1025, steps: 8, settings: { lr: 5e-4, weightDecay: 0 } },
    { n: 262147, steps: 3, settings: { lr: 1e-2, weightDecay: 0.1, beta1: 0.8, beta2: 0.95, eps: 1e-6, gradScale: 0.25 } },
    { n: 300001, steps: 3, settings: { lr: 3e-3, weightDecay: 0.01, gradScale: 2 }, scaleTensor: true },
  ];
  for (const c of cases) {
    it(describeAdamW(c), async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      expect(await checkAdamW(gpu, c, seed), `seed ${seed}`).toBeLessThan(1e-4);
    });
  }
});

describe('AdamW semantics', () => {
  it('matches a hand-computed first step, with decoupled decay applied before the Adam step', async () => {
    const gpu = await testGpu();
    const lr = 0.1;
    const wd = 0.5;
    const param = gpu.tensor([2], 'f32', [2, -1], 'param');
    const grad = gpu.tensor([2], 'f32', [0.5, -4], 'grad');
    const m = gpu.zeros([2], 'f32', 'm');
    const v = gpu.zeros([2], 'f32', 'v');
    gpu.run((enc) => adamw(enc, { param, grad, m, v }, { lr, weightDecay: wd, step: 1, eps: 0 }));
    // Step 1: mhat = g, vhat = g^2, so the Adam step is lr * sign(g); decay first: p * (1 - lr * wd).
    const got = Array.from(await param.read());
    expect(got[0]).toBeCloseTo(2 * (1 - lr * wd) - lr, 5);
    expect(got[1]).toBeCloseTo(-1 * (1 - lr * wd) + lr, 5);
    const gotM = await m.read();
    expect(gotM[0]).toBeCloseTo(0.1 * 0.5, 6);
    expect(gotM[1]).toBeCloseTo(0.1 * -4, 6);
    expect(Array.from(await v.read()).map((x, i) => x / [0.25, 16][i])).toEqual([expect.closeTo(0.001, 7), expect.closeTo(0.001, 7)]);
  });

  it('twin: gradient scale equals pre-scaled gradients; weight decay 0 leaves zero gradients still', () => {
    const a = [1, 2, 3];
    const b = [1, 2, 3];
    const [ma, va, mb, vb] = [[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]];
    adamwRef(a, [0.2, -0.4, 0.6], ma, va, { lr: 0.01, step: 1, gradScale: 0.5 });
    adamwRef(b, [0.1, -0.2, 0.3], mb, vb, { lr: 0.01, step: 1 });
    expect(a).toEqual(b);
    const c = [1, -2];
    adamwRef(c, [0, 0], [0, 0], [0, 0], { lr: 0.01, step: 1, weightDecay: 0 });
    expect(c).toEqual([1, -2]);
  });
});

describe('AdamW bad input', () => {
  it('names the tensor and shape that does not match the parameter', async () => {
    const gpu = await testGpu();
    const param = gpu.tensor([4, 3], 'f32', undefined, 'w_in');
    const grad = gpu.tensor([11], 'f32', undefined, 'w_in.grad');
    const m = gpu.tensor([12], 'f32', undefined, 'm');
    const v = gpu.tensor([12], 'f32', undefined, 'v');
    const call = () => gpu.run((enc) => adamw(enc, { param, grad, m, v }, { lr: 1e-3, step: 1 }));
    expect(call).toThrow(ShapeError);
    expect(call).toThrow(/w_in\.grad\[11\] must have as many elements as w_in\[4, 3\] \(12\)/);
    const good = gpu.tensor([12], 'f32', undefined, 'g');
    expect(() => gpu.run((enc) => adamw(enc, { param, grad: good, m, v }, { lr: 1e-3, step: 0 }))).toThrow(/step 0/);
  });
});
