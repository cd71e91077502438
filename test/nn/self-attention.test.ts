import { describe, expect, it } from 'vitest';
import { SelfAttention, type AttentionForm } from '../../src/nn/self-attention.ts';
import { GRAD_TOLERANCE, gradErrors } from '../../src/nn/gradcheck.ts';
import { Parameter, ParameterSet } from '../../src/nn/module.ts';
import { LabError, ShapeError, TooLargeError } from '../../src/gpu/errors.ts';
import { freshSeed, randomNormal, seeded } from '../../src/kernels/random.ts';
import { attentionRef } from '../../src/kernels/reference/attention.ts';
import { matmulRef } from '../../src/kernels/reference/matmul.ts';
import { maxRelError } from '../../src/kernels/compare.ts';
import { testGpu } from '../gpu.ts';

/** Against the float64 CPU twin: float32 rounding through several kernels, relative to a floor of 1e-3 of the largest value. */
const FORWARD_BOUND = 5e-4;

const NAME = 'encoder.layers.0.self_attn';

async function setup(d: number, seed: number) {
  const gpu = await testGpu();
  const rand = seeded(seed);
  const params = new ParameterSet();
  const values = new Map<string, Float32Array>();
  for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
    const w = randomNormal(d * d, rand, 1 / Math.sqrt(d));
    const b = randomNormal(d, rand, 0.2);
    values.set(`${proj}.weight`, w);
    values.set(`${proj}.bias`, b);
    params.add(new Parameter(`${NAME}.${proj}.weight`, gpu.tensor([d, d], 'f32', w, `${proj}.weight`), true));
    params.add(new Parameter(`${NAME}.${proj}.bias`, gpu.tensor([d], 'f32', b, `${proj}.bias`), false));
  }
  const input = (b: number, l: number) => {
    const data = randomNormal(b * l * d, rand);
    return { data, t: gpu.tensor([b, l, d], 'f32', data, 'x') };
  };
  return { gpu, params, values, input };
}

function reference(values: Map<string, Float32Array>, x: Float32Array, b: number, l: number, d: number, heads: number, causal: boolean) {
  const proj = (name: string, input: ArrayLike<number>) =>
    matmulRef(input, values.get(`${name}.weight`)!, { batch: 1, M: b * l, N: d, K: d, transB: true }, values.get(`${name}.bias`)!);
  const attn = attentionRef(proj('q_proj', x), proj('k_proj', x), proj('v_proj', x), { b, l, dModel: d, heads, causal }).out;
  return proj('out_proj', attn);
}

describe('SelfAttention', () => {
  it('forward equals the CPU attention, both forms, causal and bidirectional', async () => {
    const seed = freshSeed();
    const [d, heads, b, l] = [12, 3, 2, 19];
    const { gpu, params, values, input } = await setup(d, seed);
    const x = input(b, l);
    for (const causal of [false, true])
      for (const form of ['materialised', 'tiled'] as AttentionForm[]) {
        const sa = new SelfAttention(params, NAME, { dModel: d, heads, causal, form });
        const enc = gpu.encoder();
        const y = sa.forward({ enc, train: false }, x.t);
        enc.submit();
        expect(y.shape).toEqual([b, l, d]);
        expect(maxRelError(await y.read(), reference(values, x.data, b, l, d, heads, causal)), `${form} causal ${causal} seed ${seed}`).toBeLessThan(FORWARD_BOUND);
        y.release();
      }
  });

  it('backward matches finite differences for x and all projections, both forms', async () => {
    const seed = freshSeed();
    const { gpu, params, input } = await setup(8, seed);
    const x = input(2, 5);
    for (const causal of [false, true])
      for (const form of ['materialised', 'tiled'] as AttentionForm[]) {
        const sa = new SelfAttention(params, NAME, { dModel: 8, heads: 2, causal, form });
        const results = await gradErrors(
          gpu,
          { params, inputs: [x.t], forward: (pass, [a]) => sa.forward(pass, a), backward: (pass, dy) => [sa.backward(pass, dy)] },
          seed,
        );
        expect(results.length).toBe(9);
        // k_proj.bias's gradient is exactly zero (gradErrors wants float32 noise there).
        for (const q of results) expect(q.error, `${form} causal ${causal} ${q.tensor} seed ${seed}: ${q.analytic} vs ${q.numeric}`).toBeLessThanOrEqual(GRAD_TOLERANCE);
      }
  });

  it('causal: streaming over the KV cache in chunks of any size equals the offline forward', async () => {
    const seed = freshSeed();
    const [d, b, l] = [8, 2, 21];
    const { gpu, params, input } = await setup(d, seed);
    const sa = new SelfAttention(params, NAME, { dModel: d, heads: 2, causal: true });
    const x = input(b, l);
    const enc = gpu.encoder();
    const offline = sa.forward({ enc, train: false }, x.t);
    enc.submit();
    const want = await offline.read();
    for (const chunking of [[1], [3, 2], [8], [l]]) {
      const state = sa.startState(gpu, b, 4); // small, so that the cache grows
      const got = new Float32Array(want.length);
      for (let t = 0, i = 0; t < l; i++) {
        const m = Math.min(chunking[i % chunking.length], l - t);
        const data = new Float32Array(b * m * d);
        for (let bb = 0; bb < b; bb++) data.set(x.data.subarray((bb * l + t) * d, (bb * l + t + m) * d), bb * m * d);
        const chunk = gpu.tensor([b, m, d], 'f32', data, 'chunk');
        const e = gpu.encoder();
        const y = sa.step({ enc: e, train: false }, chunk, state);
        e.submit();
        const out = await y.read();
        for (let bb = 0; bb < b; bb++) got.set(out.subarray(bb * m * d, (bb + 1) * m * d), (bb * l + t) * d);
        y.release();
        chunk.release();
        t += m;
      }
      expect(state.cache.length).toBe(l);
      state.release();
      expect(maxRelError(got, want), `chunks ${chunking} seed ${seed}`).toBeLessThan(1e-4);
    }
  });

  it('rejects bad inputs, naming the tensor; bidirectional attention does not stream', async () => {
    const seed = freshSeed();
    const { gpu, params } = await setup(8, seed);
    const sa = new SelfAttention(params, NAME, { dModel: 8, heads: 2, causal: false });
    const enc = gpu.encoder();
    const bad = gpu.tensor([2, 5, 6], 'f32', undefined, 'feats');
    expect(() => sa.forward({ enc, train: false }, bad)).toThrow(ShapeError);
    expect(() => sa.forward({ enc, train: false }, bad)).toThrow(/self_attn: input feats\[2, 5, 6\]/);
    expect(() => new SelfAttention(params, NAME, { dModel: 8, heads: 3, causal: true })).toThrow(/not a multiple of h = 3/);
    expect(() => sa.startState(gpu, 1)).toThrow(LabError);
    // The materialised form runs out of memory on long inputs (the paper's Transformer at 80 s); tiled does not.
    const l = Math.ceil(Math.sqrt(gpu.maxBindingBytes / 4 / 2)) + 1; // (1, 2, l, l) f32 scores > the binding limit
    const long = gpu.tensor([1, l, 8], 'f32', undefined, 'long');
    const materialised = new SelfAttention(params, NAME, { dModel: 8, heads: 2, causal: false, form: 'materialised' });
    expect(() => materialised.forward({ enc, train: false }, long)).toThrow(TooLargeError);
    expect(() => materialised.forward({ enc, train: false }, long)).toThrow(/attention scores/);
    long.release();
  });
});
