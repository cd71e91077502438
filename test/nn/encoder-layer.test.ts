import { describe, expect, it } from 'vitest';
import { EncoderLayer } from '../../src/nn/encoder-layer.ts';
import { Linear } from '../../src/nn/linear.ts';
import { SelfAttention } from '../../src/nn/self-attention.ts';
import type { Mixer, MixerState } from '../../src/nn/mixer.ts';
import { GRAD_TOLERANCE, gradErrors } from '../../src/nn/gradcheck.ts';
import { Parameter, ParameterSet, type Pass } from '../../src/nn/module.ts';
import { LabError, ShapeError } from '../../src/gpu/errors.ts';
import type { Tensor } from '../../src/gpu/tensor.ts';
import { preset } from '../../src/models/presets.ts';
import { parameterSpecs } from '../../src/models/parameters.ts';
import { isMamba, type EncoderKind, type ModelConfig } from '../../src/models/config.ts';
import { freshSeed, randomNormal, seeded } from '../../src/kernels/random.ts';
import { attentionRef } from '../../src/kernels/reference/attention.ts';
import { matmulRef } from '../../src/kernels/reference/matmul.ts';
import { layerNormRef } from '../../src/kernels/reference/norm.ts';
import { maxRelError } from '../../src/kernels/compare.ts';
import { testGpu } from '../gpu.ts';

/** Against the float64 CPU twin: float32 rounding through several kernels, relative to a floor of 1e-3 of the largest value. */
const FORWARD_BOUND = 1e-3;

const P = 'encoder.layers.0';

/**
 * A stand-in for the Mamba mixers (written elsewhere): a per-frame linear map through `mixer.out_proj`
 * (d_model, d_inner), d_inner = d_model here; trivially causal, so its step is its forward. The layer's other
 * Mamba parameters are unused (zero gradients).
 */
class FrameMixer implements Mixer<MixerState> {
  readonly name = `${P}.mixer`;
  readonly proj: Linear;

  constructor(params: ParameterSet, d: number) {
    this.proj = new Linear(params, `${P}.mixer.out_proj`, d, d, { bias: false });
  }

  forward(pass: Pass, x: Tensor): Tensor {
    return this.proj.forward(pass, x);
  }

  backward(pass: Pass, dy: Tensor): Tensor {
    return this.proj.backward(pass, dy);
  }

  startState(): MixerState {
    return { release: () => undefined };
  }

  step(pass: Pass, x: Tensor): Tensor {
    return this.forward(pass, x);
  }
}

function tinyConfig(kind: EncoderKind): ModelConfig {
  const base = preset(kind, 'tiny');
  return { ...base, d_model: 8, h: 2, ffn: base.ffn > 0 ? 12 : 0, expand: 1, dt_rank: 1, d_state: 2 };
}

/** The layer's parameters by the model schema (parameters.ts), random values. */
async function setup(kind: EncoderKind, seed: number) {
  const gpu = await testGpu();
  const rand = seeded(seed);
  const config = tinyConfig(kind);
  const params = new ParameterSet();
  const values = new Map<string, Float32Array>();
  for (const spec of parameterSpecs(config).filter((s) => s.name.startsWith(`${P}.`))) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const isNorm = /norm\.weight$/.test(spec.name);
    const v = randomNormal(n, rand, isNorm ? 0.3 : 1 / Math.sqrt(spec.shape[spec.shape.length - 1])).map((x) => (isNorm ? 1 + x : x));
    values.set(spec.name.slice(P.length + 1), v);
    params.add(new Parameter(spec.name, gpu.tensor(spec.shape, 'f32', v, spec.name), spec.decay));
  }
  const mixer: Mixer =
    kind === 'transformer' || kind === 'causal-transformer'
      ? new SelfAttention(params, `${P}.self_attn`, { dModel: config.d_model, heads: config.h, causal: kind === 'causal-transformer' })
      : new FrameMixer(params, config.d_model);
  const input = (b: number, l: number) => {
    const data = randomNormal(b * l * config.d_model, rand);
    return { data, t: gpu.tensor([b, l, config.d_model], 'f32', data, 'x') };
  };
  return { gpu, params, values, config, layer: new EncoderLayer(params, { d_model: config.d_model, ffn: config.ffn, mixerNorm: isMamba(kind) ? 'norm' : 'self_attn_layer_norm' }, 0, mixer), input };
}

/** The block on the CPU: LN(x + Mixer(x)), then LN(x + FFN(x)) when the config has one. */
function reference(kind: EncoderKind, c: ModelConfig, v: Map<string, Float32Array>, x: Float32Array, b: number, l: number): ArrayLike<number> {
  const d = c.d_model;
  const rows = b * l;
  const lin = (name: string, input: ArrayLike<number>, n: number, k: number, act: 'none' | 'gelu' = 'none') =>
    matmulRef(input, v.get(`${name}.weight`)!, { batch: 1, M: rows, N: n, K: k, transB: true }, v.get(`${name}.bias`), act);
  let m: ArrayLike<number>;
  if (kind === 'transformer' || kind === 'causal-transformer') {
    const p = (name: string) => lin(`self_attn.${name}`, x, d, d);
    const attn = attentionRef(p('q_proj'), p('k_proj'), p('v_proj'), { b, l, dModel: d, heads: c.h, causal: kind === 'causal-transformer' }).out;
    m = lin('self_attn.out_proj', attn, d, d);
  } else {
    m = lin('mixer.out_proj', x, d, d);
  }
  const n1 = kind === 'transformer' || kind === 'causal-transformer' ? 'self_attn_layer_norm' : 'norm';
  const x1 = layerNormRef(x, v.get(`${n1}.weight`)!, v.get(`${n1}.bias`)!, rows, d, 1e-5, m).y;
  if (c.ffn === 0) return x1;
  const f = lin('fc2', lin('fc1', x1, c.ffn, d, 'gelu'), d, c.ffn);
  return layerNormRef(x1, v.get('final_layer_norm.weight')!, v.get('final_layer_norm.bias')!, rows, d, 1e-5, f).y;
}

const KINDS: EncoderKind[] = ['transformer', 'causal-transformer', 'mamba', 'mamba-mlp'];

describe('EncoderLayer', () => {
  it('forward equals the CPU post-LN block for attention and frame mixers, with and without FFN', async () => {
    const seed = freshSeed();
    for (const kind of KINDS) {
      const { gpu, values, config, layer, input } = await setup(kind, seed);
      const x = input(2, 9);
      for (const train of [false, true]) {
        const enc = gpu.encoder();
        const y = layer.forward({ enc, train }, x.t);
        if (train) enc.releaseAfter(layer.backward({ enc, train }, y));
        enc.submit();
        expect(y.shape).toEqual([2, 9, 8]);
        expect(maxRelError(await y.read(), reference(kind, config, values, x.data, 2, 9)), `${kind} train ${train} seed ${seed}`).toBeLessThan(FORWARD_BOUND);
        y.release();
      }
    }
  });

  it('backward matches finite differences for x and every parameter', async () => {
    const seed = freshSeed();
    for (const kind of KINDS) {
      const { gpu, params, layer, input } = await setup(kind, seed);
      const x = input(2, 4);
      const results = await gradErrors(
        gpu,
        { params, inputs: [x.t], forward: (pass, [a]) => layer.forward(pass, a), backward: (pass, dy) => [layer.backward(pass, dy)] },
        seed,
      );
      expect(results.length).toBe(1 + params.all().length);
      for (const q of results) expect(q.error, `${kind} ${q.tensor} seed ${seed}: ${q.analytic} vs ${q.numeric}`).toBeLessThanOrEqual(GRAD_TOLERANCE);
    }
  });

  it('streaming in chunks of any size equals the offline forward (causal transformer, frame mixer)', async () => {
    const seed = freshSeed();
    for (const kind of ['causal-transformer', 'mamba-mlp'] as EncoderKind[]) {
      const { gpu, layer, input } = await setup(kind, seed);
      const [b, l, d] = [2, 13, 8];
      const x = input(b, l);
      const enc = gpu.encoder();
      const offline = layer.forward({ enc, train: false }, x.t);
      enc.submit();
      const want = await offline.read();
      for (const chunking of [[1], [4, 3], [l]]) {
        const state = layer.startState(gpu, b);
        const got = new Float32Array(want.length);
        for (let t = 0, i = 0; t < l; i++) {
          const m = Math.min(chunking[i % chunking.length], l - t);
          const data = new Float32Array(b * m * d);
          for (let bb = 0; bb < b; bb++) data.set(x.data.subarray((bb * l + t) * d, (bb * l + t + m) * d), bb * m * d);
          const chunk = gpu.tensor([b, m, d], 'f32', data, 'chunk');
          const e = gpu.encoder();
          const y = layer.step({ enc: e, train: false }, chunk, state);
          e.submit();
          const out = await y.read();
          for (let bb = 0; bb < b; bb++) got.set(out.subarray(bb * m * d, (bb + 1) * m * d), (bb * l + t) * d);
          y.release();
          chunk.release();
          t += m;
        }
        state.release();
        expect(maxRelError(got, want), `${kind} chunks ${chunking} seed ${seed}`).toBeLessThan(1e-4);
      }
    }
  });

  it('rejects bad inputs, naming the tensor; a bidirectional mixer does not stream', async () => {
    const seed = freshSeed();
    const { gpu, params, layer } = await setup('transformer', seed);
    const enc = gpu.encoder();
    const bad = gpu.tensor([2, 5, 6], 'f32', undefined, 'feats');
    expect(() => layer.forward({ enc, train: false }, bad)).toThrow(ShapeError);
    expect(() => layer.forward({ enc, train: false }, bad)).toThrow(/encoder.layers.0: input feats\[2, 5, 6\]/);
    expect(() => layer.startState(gpu, 1)).toThrow(LabError);
    const mixer = layer.mixer;
    // The Mamba kinds' norm is `norm`, absent from a Transformer's parameters.
    expect(() => new EncoderLayer(params, { ...layer.dims, mixerNorm: 'norm' }, 0, mixer)).toThrow(/encoder.layers.0.norm.weight does not exist/);
  });
});
