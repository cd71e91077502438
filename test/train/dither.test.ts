// Digital silence and the layer-norm extractor: exact zeros make every layer norm after the first conv see a row of
// equal values, whose gradient is 1/sqrt(eps) times its output's; the trainer's dither keeps real gradients.
import { describe, expect, it } from 'vitest';
import { HubertModel } from '../../src/models/hubert.ts';
import { rng } from '../../src/speech/rng.ts';
import { dither, DITHER, TrainingCorpus, type AudioBatch } from '../../src/train/data.ts';
import { ctcObjective } from '../../src/train/objectives.ts';
import { testGpu } from '../gpu.ts';
import { evalCorpus, smallConfig } from './fixtures.ts';

describe('dither', () => {
  it("adds seeded noise of DITHER's size to each utterance's own samples and leaves the padding zero", () => {
    const batch: AudioBatch = { entries: [], audio: new Float32Array(2 * 20_000), lengths: [20_000, 12_000], samples: 20_000 };
    dither(batch, rng(5));
    const second = batch.audio.subarray(20_000);
    expect(second.subarray(12_000).every((v) => v === 0)).toBe(true);
    const used = [...batch.audio.subarray(0, 20_000), ...second.subarray(0, 12_000)];
    const rms = Math.sqrt(used.reduce((s, v) => s + v * v, 0) / used.length);
    expect(rms / DITHER).toBeGreaterThan(0.97);
    expect(rms / DITHER).toBeLessThan(1.03);
    const again: AudioBatch = { ...batch, audio: new Float32Array(batch.audio.length) };
    dither(again, rng(5));
    expect(again.audio).toEqual(batch.audio);
  });

  it('keeps the gradient of utterances led by digital silence at its real size (without it, the norm explodes)', { timeout: 120_000 }, async () => {
    const gpu = await testGpu();
    const { corpus } = await TrainingCorpus.open(await evalCorpus(2));
    const batch = (await corpus.batch(corpus.entries))!;
    expect(batch.audio.subarray(0, 800).every((v) => v === 0)).toBe(true); // public/eval's files begin with exact zeros
    const model = HubertModel.create(gpu, smallConfig('mamba'), 3, { heads: { ctcHead: true } });
    const gradNorm = async (b: AudioBatch) => {
      gpu.run((enc) => model.params.zeroGrads(enc));
      await ctcObjective(model, b, true);
      let sum = 0;
      for (const p of model.params.all()) for (const g of p.grad ? await p.grad.read() : []) sum += g * g;
      return Math.sqrt(sum);
    };
    try {
      const silent = await gradNorm(batch);
      const dithered = { ...batch, audio: batch.audio.slice() };
      dither(dithered, rng(1));
      const real = await gradNorm(dithered);
      expect(silent).toBeGreaterThan(1e6);
      expect(real).toBeLessThan(1e4);
      expect(real).toBeGreaterThan(1);
    } finally {
      model.release();
    }
  });
});
