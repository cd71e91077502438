import { describe, expect, it } from 'vitest';
import { Parameter, ParameterSet } from '../../src/nn/module.ts';
import { testGpu } from '../gpu.ts';

describe('ParameterSet', () => {
  it('zeroGrads zeroes every allocated gradient, in order with the encoder, and allocates none', async () => {
    const gpu = await testGpu();
    const params = new ParameterSet();
    const a = new Parameter('a', gpu.tensor([3], 'f32', [1, 2, 3], 'a'), true);
    const b = new Parameter('b', gpu.tensor([2], 'f32', [4, 5], 'b'), false);
    params.add(a);
    params.add(b);
    gpu.upload(a.gradient(gpu), [7, -8, 9]);
    gpu.run((enc) => params.zeroGrads(enc));
    expect(Array.from(await a.grad!.read())).toEqual([0, 0, 0]);
    expect(b.grad).toBeUndefined();
    params.release();
  });
});
