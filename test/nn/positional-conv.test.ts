import { describe, expect, it } from 'vitest';
import { PositionalConv } from '../../src/nn/positional-conv.ts';
import { GRAD_TOLERANCE, gradErrors } from '../../src/nn/gradcheck.ts';
import { Parameter, ParameterSet } from '../../src/nn/module.ts';
import { LabError, ShapeError } from '../../src/gpu/errors.ts';
import { convPads } from '../../src/kernels/conv.ts';
import { freshSeed, randomNormal, seeded } from '../../src/kernels/random.ts';
import { conv1dRef } from '../../src/kernels/reference/conv.ts';
import { unaryRef } from '../../src/kernels/reference/elementwise.ts';
import { layerNormRef } from '../../src/kernels/reference/norm.ts';
import { maxRelError } from '../../src/kernels/compare.ts';
import { testGpu } from '../gpu.ts';

/** Against the float64 CPU twin: float32 rounding through several kernels, relative to a floor of 1e-3 of the largest value. */
const FORWARD_BOUND = 5e-4;

type Padding = 'same' | 'causal';

async function setup(d: number, kernel: number, groups: number, padding: Padding, seed: number) {
  const gpu = await testGpu();
  const rand = seeded(seed);
  const params = new ParameterSet();
  const values = new Map<string, Float32Array>();
  const add = (name: string, shape: number[], v: Float32Array) => {
    values.set(name, v);
    params.add(new Parameter(name, gpu.tensor(shape, 'f32', v, name), true));
  };
  add('encoder.pos_conv.0.weight', [d, d / groups, kernel], randomNormal((d * d * kernel) / groups, rand, 0.4));
  add('encoder.pos_conv.0.bias', [d], randomNormal(d, rand, 0.3));
  add('encoder.layer_norm.weight', [d], randomNormal(d, rand, 0.3).map((v) => 1 + v));
  add('encoder.layer_norm.bias', [d], randomNormal(d, rand, 0.3));
  const input = (b: number, l: number) => {
    const data = randomNormal(b * l * d, rand);
    return { data, t: gpu.tensor([b, l, d], 'f32', data, 'x') };
  };
  const pc = new PositionalConv(params, { d_model: d, kernel, groups, padding });
  return { gpu, params, values, input, pc };
}

describe('PositionalConv', () => {
  it('forward equals LN(x + GELU(conv(x))) on the CPU, same and causal padding', async () => {
    const seed = freshSeed();
    for (const padding of ['same', 'causal'] as const) {
      const [d, k, groups, b, l] = [8, 4, 2, 2, 11];
      const { gpu, values, input, pc } = await setup(d, k, groups, padding, seed);
      const x = input(b, l);
      const enc = gpu.encoder();
      const y = pc.forward({ enc, train: false }, x.t);
      enc.submit();
      const { left, right } = convPads(padding, k);
      const v = (n: string) => values.get(n)!;
      const conv = conv1dRef(x.data, v('encoder.pos_conv.0.weight'), { b, l, cIn: d, cOut: d, k, stride: 1, groups, padLeft: left, padRight: right }, v('encoder.pos_conv.0.bias'));
      const want = layerNormRef(x.data, v('encoder.layer_norm.weight'), v('encoder.layer_norm.bias'), b * l, d, 1e-5, unaryRef('gelu', conv)).y;
      expect(y.shape).toEqual([b, l, d]);
      expect(maxRelError(await y.read(), want), `${padding} seed ${seed}`).toBeLessThan(FORWARD_BOUND);
    }
  });

  it('backward matches finite differences for x and every parameter', async () => {
    const seed = freshSeed();
    for (const padding of ['same', 'causal'] as const) {
      const { gpu, params, input, pc } = await setup(4, 3, 2, padding, seed);
      const x = input(2, 5);
      const results = await gradErrors(
        gpu,
        { params, inputs: [x.t], forward: (pass, [a]) => pc.forward(pass, a), backward: (pass, dy) => [pc.backward(pass, dy)] },
        seed,
      );
      expect(results.length).toBe(5);
      for (const q of results) expect(q.error, `${padding} ${q.tensor} seed ${seed}: ${q.analytic} vs ${q.numeric}`).toBeLessThanOrEqual(GRAD_TOLERANCE);
    }
  });

  it('causal: streaming in chunks of any size equals the offline forward', async () => {
    const seed = freshSeed();
    const [d, b, l] = [8, 2, 17];
    const { gpu, input, pc } = await setup(d, 5, 4, 'causal', seed);
    const x = input(b, l);
    const enc = gpu.encoder();
    const offline = pc.forward({ enc, train: false }, x.t);
    enc.submit();
    const want = await offline.read();
    for (const chunking of [[1], [3, 2], [6], [l]]) {
      const state = pc.startState(gpu, b);
      const got = new Float32Array(want.length);
      for (let t = 0, i = 0; t < l; i++) {
        const m = Math.min(chunking[i % chunking.length], l - t);
        const data = new Float32Array(b * m * d);
        for (let bb = 0; bb < b; bb++) data.set(x.data.subarray((bb * l + t) * d, (bb * l + t + m) * d), bb * m * d);
        const chunk = gpu.tensor([b, m, d], 'f32', data, 'chunk');
        const e = gpu.encoder();
        const y = pc.step({ enc: e, train: false }, chunk, state);
        e.submit();
        expect(y.shape).toEqual([b, m, d]);
        const out = await y.read();
        for (let bb = 0; bb < b; bb++) got.set(out.subarray(bb * m * d, (bb + 1) * m * d), (bb * l + t) * d);
        y.release();
        chunk.release();
        t += m;
      }
      state.release();
      expect(maxRelError(got, want), `chunks ${chunking} seed ${seed}`).toBeLessThan(1e-4);
    }
  });

  it('rejects bad inputs, naming the tensor; same padding does not stream', async () => {
    const seed = freshSeed();
    const { gpu, params, pc } = await setup(8, 4, 2, 'same', seed);
    const enc = gpu.encoder();
    const bad = gpu.tensor([2, 5, 6], 'f32', undefined, 'feats');
    expect(() => pc.forward({ enc, train: false }, bad)).toThrow(ShapeError);
    expect(() => pc.forward({ enc, train: false }, bad)).toThrow(/input feats\[2, 5, 6\]/);
    expect(() => pc.startState(gpu, 1)).toThrow(LabError);
    expect(() => new PositionalConv(params, { d_model: 8, kernel: 5, groups: 2, padding: 'same' })).toThrow(/encoder.pos_conv.0.weight is/);
  });
});
