import { describe, expect, it } from 'vitest';
import { Conv1d, type Conv1dSettings } from '../../src/nn/conv1d.ts';
import { gradCheck } from '../../src/nn/gradcheck.ts';
import { Parameter, ParameterSet } from '../../src/nn/module.ts';
import { ShapeError } from '../../src/gpu/errors.ts';
import type { Tensor } from '../../src/gpu/tensor.ts';
import { convPads } from '../../src/kernels/conv.ts';
import { freshSeed, randomNormal, seeded } from '../../src/kernels/random.ts';
import { conv1dRef } from '../../src/kernels/reference/conv.ts';
import { maxRelError } from '../../src/kernels/compare.ts';
import { testGpu } from '../gpu.ts';

async function setup(s: Conv1dSettings, seed: number) {
  const gpu = await testGpu();
  const rand = seeded(seed);
  const params = new ParameterSet();
  const groups = s.groups ?? 1;
  const w = randomNormal((s.cOut * s.cIn * s.k) / groups, rand, 0.5);
  const b = randomNormal(s.cOut, rand, 0.5);
  params.add(new Parameter('conv.weight', gpu.tensor([s.cOut, s.cIn / groups, s.k], 'f32', w, 'conv.weight'), true));
  if (s.bias !== false) params.add(new Parameter('conv.bias', gpu.tensor([s.cOut], 'f32', b, 'conv.bias'), false));
  const input = (bt: number, l: number) => {
    const data = randomNormal(bt * l * s.cIn, rand);
    return { data, t: gpu.tensor([bt, l, s.cIn], 'f32', data, 'x') };
  };
  return { gpu, params, w, b, conv: new Conv1d(params, 'conv', s), input };
}

/** Frames t0 .. t1 - 1 of x (b, l, c) as a new tensor. */
async function slice(x: Tensor, data: Float32Array, t0: number, t1: number): Promise<Tensor> {
  const [b, l, c] = x.shape;
  const out = new Float32Array(b * (t1 - t0) * c);
  for (let bb = 0; bb < b; bb++) out.set(data.subarray((bb * l + t0) * c, (bb * l + t1) * c), bb * (t1 - t0) * c);
  return x.gpu.tensor([b, t1 - t0, c], 'f32', out, 'chunk');
}

/** (b, frames, c) from per-chunk outputs (b, n_i, c) in order. */
function joinFrames(parts: { data: Float32Array; n: number }[], b: number, c: number): Float32Array {
  const frames = parts.reduce((a, p) => a + p.n, 0);
  const out = new Float32Array(b * frames * c);
  let t0 = 0;
  for (const { data, n } of parts) {
    for (let bb = 0; bb < b; bb++) out.set(data.subarray(bb * n * c, (bb + 1) * n * c), (bb * frames + t0) * c);
    t0 += n;
  }
  return out;
}

describe('Conv1d', () => {
  it('forward equals the CPU conv for several strides, groups and paddings', async () => {
    const seed = freshSeed();
    const cases: Conv1dSettings[] = [
      { cIn: 6, cOut: 9, k: 4, stride: 1, groups: 3, padding: 'same' },
      { cIn: 5, cOut: 8, k: 3, stride: 2, padding: 'valid', bias: false },
      { cIn: 8, cOut: 8, k: 5, stride: 1, groups: 2, padding: 'causal' },
    ];
    for (const s of cases) {
      const { gpu, w, b, conv, input } = await setup(s, seed);
      const x = input(2, 11);
      const enc = gpu.encoder();
      const y = conv.forward({ enc, train: false }, x.t);
      enc.submit();
      const { left, right } = convPads(s.padding ?? 'valid', s.k);
      const shape = { b: 2, l: 11, cIn: s.cIn, cOut: s.cOut, k: s.k, stride: s.stride ?? 1, groups: s.groups ?? 1, padLeft: left, padRight: right };
      const want = conv1dRef(x.data, w, shape, s.bias === false ? undefined : b);
      expect(maxRelError(await y.read(), want), `${JSON.stringify(s)} seed ${seed}`).toBeLessThan(1e-4);
    }
  });

  it('backward matches finite differences for x, weight and bias', async () => {
    const seed = freshSeed();
    const { gpu, params, conv, input } = await setup({ cIn: 4, cOut: 6, k: 3, stride: 2, groups: 2, padding: 'same' }, seed);
    const x = input(2, 7);
    const results = await gradCheck(
      gpu,
      { params, inputs: [x.t], forward: (pass, [a]) => conv.forward(pass, a), backward: (pass, dy) => [conv.backward(pass, dy)] },
      seed,
      // The conv is linear in each tensor: central differences are exact for any step, and a large one keeps
      // float32 rounding small next to the difference.
      0.5,
    );
    expect(results.map((q) => q.tensor)).toEqual(['input 0 (x)', 'conv.weight', 'conv.bias']);
    for (const q of results) expect(q.relError, `${q.tensor} seed ${seed}: ${q.analytic} vs ${q.numeric}`).toBeLessThan(1e-2);
  });

  it('streaming in chunks of any size equals the offline forward', async () => {
    const seed = freshSeed();
    for (const s of [
      { cIn: 4, cOut: 5, k: 4, padding: 'causal' },
      { cIn: 3, cOut: 4, k: 5, stride: 3, padding: 'valid' },
    ] as Conv1dSettings[]) {
      const { gpu, conv, input } = await setup(s, seed);
      const l = 23;
      const x = input(2, l);
      const enc = gpu.encoder();
      const offline = conv.forward({ enc, train: false }, x.t);
      enc.submit();
      const want = await offline.read();
      for (const chunking of [[1], [2, 5], [7], [l]]) {
        const state = conv.startState(gpu, 2);
        const parts: { data: Float32Array; n: number }[] = [];
        for (let t = 0, i = 0; t < l; i++) {
          const m = Math.min(chunking[i % chunking.length], l - t);
          const chunk = await slice(x.t, x.data, t, t + m);
          const e = gpu.encoder();
          const y = conv.step({ enc: e, train: false }, chunk, state);
          e.submit();
          parts.push({ data: (await y.read()) as Float32Array, n: y.shape[1] });
          y.release();
          chunk.release();
          t += m;
        }
        state.release();
        const frames = parts.reduce((a, p) => a + p.n, 0);
        const got = joinFrames(parts, 2, s.cOut);
        expect(frames).toBe(offline.shape[1]);
        expect(maxRelError(got, want), `${JSON.stringify(s)} chunks ${chunking} seed ${seed}`).toBeLessThan(1e-4);
      }
    }
  });

  it('rejects bad inputs, naming the tensor', async () => {
    const seed = freshSeed();
    const { gpu, params, conv } = await setup({ cIn: 4, cOut: 6, k: 3, padding: 'same' }, seed);
    const enc = gpu.encoder();
    const bad = gpu.tensor([2, 5, 3], 'f32', undefined, 'bad');
    expect(() => conv.forward({ enc, train: false }, bad)).toThrow(ShapeError);
    expect(() => conv.forward({ enc, train: false }, bad)).toThrow(/conv: input bad\[2, 5, 3\]/);
    expect(() => new Conv1d(params, 'conv', { cIn: 4, cOut: 6, k: 4 })).toThrow(/conv.weight is \[6, 4, 3\]/);
    expect(() => new Conv1d(params, 'conv', { cIn: 4, cOut: 6, k: 3, groups: 4 })).toThrow(/groups 4/);
    expect(() => conv.startState(gpu, 1)).toThrow(/looks ahead/);
  });
});
