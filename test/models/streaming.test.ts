import { describe, expect, it } from 'vitest';
import { STREAM_TOLERANCE, streamingError, toyConfig } from '../../src/models/checks.ts';
import { LabError, ShapeError } from '../../src/gpu/errors.ts';
import { freshSeed } from '../../src/kernels/random.ts';
import type { EncoderKind } from '../../src/models/config.ts';
import { HubertModel } from '../../src/models/hubert.ts';
import { preset } from '../../src/models/presets.ts';
import { startStream, streamStep } from '../../src/models/streaming.ts';
import { testGpu } from '../gpu.ts';

describe('streaming a causal model', () => {
  for (const kind of ['mamba', 'causal-transformer'] as EncoderKind[]) {
    it(`${kind}: a longer file (over one scan chunk and one attention tile of frames) in 4000 and 1234 samples`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      const err = await streamingError(gpu, toyConfig(kind, { hubertStrides: true }), seed, 25000, [[4000], [1234, 777]]);
      expect(err, `seed ${seed}`).toBeLessThan(STREAM_TOLERANCE);
    });
  }

  it('a chunk too short to complete a frame gives (b, 0, d_model) and keeps the samples', async () => {
    const gpu = await testGpu();
    const model = HubertModel.create(gpu, toyConfig('mamba', { hubertStrides: true }), 1);
    const state = startStream(model, 2);
    const a = gpu.tensor([2, 200], 'f32', new Float32Array(400).fill(0.1), 'chunk');
    const b = gpu.tensor([2, 200], 'f32', new Float32Array(400).fill(0.1), 'chunk');
    const first = gpu.run((enc) => streamStep(model, { enc, train: false }, a, state, { allLayers: true }));
    const second = gpu.run((enc) => streamStep(model, { enc, train: false }, b, state));
    expect(first.out.shape).toEqual([2, 0, 8]);
    expect(first.layers!.map((t) => t.shape)).toEqual([[2, 0, 8], [2, 0, 8], [2, 0, 8]]);
    expect(second.out.shape).toEqual([2, 1, 8]); // 400 samples make the first 20 ms frame
    [a, b, second.out, ...first.layers!].forEach((t) => t.release());
    state.release();
    model.release();
  });

  it('refuses non-causal models, training passes and misshapen audio', async () => {
    const gpu = await testGpu();
    for (const kind of ['transformer', 'extbimamba', 'innbimamba', 'mamba-mlp'] as EncoderKind[]) {
      const model = HubertModel.create(gpu, toyConfig(kind), 1);
      expect(() => startStream(model, 1), kind).toThrow(LabError);
      expect(() => startStream(model, 1), kind).toThrow(/streaming needs a causal model/);
      model.release();
    }
    // A causal kind with the paper's group-norm front cannot stream either.
    const paper = HubertModel.create(gpu, { ...toyConfig('mamba'), extractor: { ...toyConfig('mamba').extractor, norm: 'group' } }, 1);
    expect(() => startStream(paper, 1)).toThrow(/extractor norm 'group'/);
    paper.release();
    const model = HubertModel.create(gpu, toyConfig('mamba'), 1);
    const state = startStream(model, 2);
    const audio = gpu.tensor([3, 100], 'f32', undefined, 'audio');
    const enc = gpu.encoder();
    expect(() => streamStep(model, { enc, train: false }, audio, state)).toThrow(ShapeError);
    expect(() => streamStep(model, { enc, train: false }, audio, state)).toThrow(/audio audio\[3, 100\] must be \(b=2, samples\)/);
    expect(() => streamStep(model, { enc, train: true }, audio, state)).toThrow(/streaming is for inference/);
    audio.release();
    state.release();
    model.release();
    expect(preset('mamba', 'base').extractor.norm).toBe('layer');
  });
});
