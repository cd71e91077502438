import { describe, expect, it } from 'vitest';
import { FeatureExtractor, type ExtractorDims } from '../../src/nn/feature-extractor.ts';
import { GRAD_TOLERANCE, gradErrors } from '../../src/nn/gradcheck.ts';
import { Parameter, ParameterSet } from '../../src/nn/module.ts';
import { LabError, ShapeError } from '../../src/gpu/errors.ts';
import { framesFor, type ModelConfig } from '../../src/models/config.ts';
import { freshSeed, randomNormal, seeded } from '../../src/kernels/random.ts';
import { conv1dRef } from '../../src/kernels/reference/conv.ts';
import { unaryRef } from '../../src/kernels/reference/elementwise.ts';
import { groupNormRef, layerNormRef } from '../../src/kernels/reference/norm.ts';
import { maxRelError } from '../../src/kernels/compare.ts';
import { testGpu } from '../gpu.ts';

/** Against the float64 CPU twin: float32 rounding through several kernels, relative to a floor of 1e-3 of the largest value. */
const FORWARD_BOUND = 5e-4;

const LAYERS: ExtractorDims['layers'] = [
  [4, 6, 3],
  [5, 3, 2],
  [5, 2, 2],
];

async function setup(norm: ExtractorDims['norm'], seed: number) {
  const gpu = await testGpu();
  const rand = seeded(seed);
  const params = new ParameterSet();
  const values = new Map<string, Float32Array>();
  const add = (name: string, shape: number[], v: Float32Array) => {
    values.set(name, v);
    params.add(new Parameter(name, gpu.tensor(shape, 'f32', v, name), true));
  };
  let cIn = 1;
  LAYERS.forEach(([c, k], i) => {
    add(`feature_extractor.conv_layers.${i}.0.weight`, [c, cIn, k], randomNormal(c * cIn * k, rand, Math.sqrt(2 / (cIn * k))));
    cIn = c;
  });
  add('feature_extractor.conv_layers.0.2.weight', [4], randomNormal(4, rand, 0.3).map((v) => 1 + v));
  add('feature_extractor.conv_layers.0.2.bias', [4], randomNormal(4, rand, 0.3));
  const audio = (b: number, samples: number) => {
    const data = randomNormal(b * samples, rand);
    return { data, t: gpu.tensor([b, samples], 'f32', data, 'audio') };
  };
  return { gpu, params, values, audio, fe: new FeatureExtractor(params, { layers: LAYERS, norm }) };
}

/** The extractor on the CPU: (b, samples) -> (b, l, c). */
function reference(values: Map<string, Float32Array>, norm: ExtractorDims['norm'], audio: Float32Array, b: number, samples: number): Float64Array {
  let x: ArrayLike<number> = audio;
  let l = samples;
  let cIn = 1;
  LAYERS.forEach(([c, k, stride], i) => {
    const s = { b, l, cIn, cOut: c, k, stride, groups: 1, padLeft: 0, padRight: 0 };
    let y: ArrayLike<number> = conv1dRef(x, values.get(`feature_extractor.conv_layers.${i}.0.weight`)!, s);
    l = Math.floor((l - k) / stride) + 1;
    if (i === 0) {
      const g = values.get('feature_extractor.conv_layers.0.2.weight')!;
      const be = values.get('feature_extractor.conv_layers.0.2.bias')!;
      y = norm === 'group' ? groupNormRef(y, g, be, b, l, c, c).y : layerNormRef(y, g, be, b * l, c).y;
    }
    x = unaryRef('gelu', y);
    cIn = c;
  });
  return x as Float64Array;
}

describe('FeatureExtractor', () => {
  it('forward equals the CPU conv stack, with group and with layer norm', async () => {
    const seed = freshSeed();
    for (const norm of ['group', 'layer'] as const) {
      const { gpu, values, audio, fe } = await setup(norm, seed);
      const a = audio(2, 113);
      for (const train of [false, true]) {
        const enc = gpu.encoder();
        const y = fe.forward({ enc, train }, a.t);
        if (train) fe.backward({ enc, train }, y);
        enc.submit();
        const l = framesFor({ extractor: { layers: LAYERS, norm } } as ModelConfig, 113);
        expect(y.shape).toEqual([2, l, 5]);
        expect(maxRelError(await y.read(), reference(values, norm, a.data, 2, 113)), `${norm} train ${train} seed ${seed}`).toBeLessThan(FORWARD_BOUND);
        y.release();
      }
    }
  });

  it('backward matches finite differences for every parameter', async () => {
    const seed = freshSeed();
    for (const norm of ['group', 'layer'] as const) {
      const { gpu, params, audio, fe } = await setup(norm, seed);
      const a = audio(2, 47);
      const results = await gradErrors(
        gpu,
        {
          params,
          inputs: [a.t],
          forward: (pass, [x]) => fe.forward(pass, x),
          backward: (pass, dy) => {
            fe.backward(pass, dy);
            return [undefined];
          },
        },
        seed,
      );
      const checked = results.filter((q) => !q.tensor.startsWith('input'));
      expect(checked.length).toBe(5);
      for (const q of checked) expect(q.error, `${norm} ${q.tensor} seed ${seed}: ${q.analytic} vs ${q.numeric}`).toBeLessThanOrEqual(GRAD_TOLERANCE);
    }
  });

  it('streaming audio in chunks of any number of samples equals the offline frames (layer norm)', async () => {
    const seed = freshSeed();
    const { gpu, audio, fe } = await setup('layer', seed);
    const samples = 131;
    const a = audio(2, samples);
    const enc = gpu.encoder();
    const offline = fe.forward({ enc, train: false }, a.t);
    enc.submit();
    const want = await offline.read();
    const c = fe.channels;
    for (const chunking of [[1], [7, 2], [40], [samples]]) {
      const state = fe.startState(gpu, 2);
      const parts: { data: Float32Array; n: number }[] = [];
      for (let t = 0, i = 0; t < samples; i++) {
        const m = Math.min(chunking[i % chunking.length], samples - t);
        const chunkData = new Float32Array(2 * m);
        for (let bb = 0; bb < 2; bb++) chunkData.set(a.data.subarray(bb * samples + t, bb * samples + t + m), bb * m);
        const chunk = gpu.tensor([2, m], 'f32', chunkData, 'chunk');
        const e = gpu.encoder();
        const y = fe.step({ enc: e, train: false }, chunk, state);
        e.submit();
        parts.push({ data: (await y.read()) as Float32Array, n: y.shape[1] });
        y.release();
        chunk.release();
        t += m;
      }
      state.release();
      const frames = parts.reduce((s, p) => s + p.n, 0);
      expect(frames, `chunks ${chunking}`).toBe(offline.shape[1]);
      const got = new Float32Array(want.length);
      let t0 = 0;
      for (const { data, n } of parts) {
        for (let bb = 0; bb < 2; bb++) got.set(data.subarray(bb * n * c, (bb + 1) * n * c), (bb * frames + t0) * c);
        t0 += n;
      }
      expect(maxRelError(got, want), `chunks ${chunking} seed ${seed}`).toBeLessThan(1e-4);
    }
  });

  it('rejects bad inputs, naming the tensor', async () => {
    const seed = freshSeed();
    const { gpu, fe } = await setup('group', seed);
    const enc = gpu.encoder();
    const bad = gpu.tensor([2, 50, 1], 'f32', undefined, 'wav');
    expect(() => fe.forward({ enc, train: false }, bad)).toThrow(ShapeError);
    expect(() => fe.forward({ enc, train: false }, bad)).toThrow(/audio wav\[2, 50, 1\]/);
    const short = gpu.tensor([1, 4], 'f32', undefined, 'short');
    expect(() => fe.forward({ enc, train: false }, short)).toThrow(/short/);
    expect(() => fe.startState(gpu, 1)).toThrow(LabError);
  });
});
