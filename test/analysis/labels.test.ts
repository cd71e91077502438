// Frame labels at the extractor's frames: the geometry (receptive field, hop) comes from the conv stack, the label
// is the phone at the frame's centre, and the boundaries fall where the real extractor says they do.
import { describe, expect, it } from 'vitest';
import { extractorGeometry, frameCentre, frameLabels, framesOf, phoneProblem } from '../../src/analysis/labels.ts';
import { framesFor } from '../../src/models/config.ts';
import { preset } from '../../src/models/presets.ts';
import { FeatureExtractor } from '../../src/nn/feature-extractor.ts';
import { Parameter, ParameterSet } from '../../src/nn/module.ts';
import { frameCount } from '../../src/speech/mfcc.ts';
import { phoneIndex, type PhoneInterval } from '../../src/speech/phones.ts';
import { testGpu } from '../gpu.ts';

const HUBERT = preset('mamba', 'tiny').extractor;

describe('frame geometry', () => {
  it("HuBERT's extractor sees 400 samples every 320: frame j is centred at (320 j + 200) / 16000 s", () => {
    const g = extractorGeometry(HUBERT.layers);
    expect(g).toEqual({ field: 400, hop: 320 });
    expect(frameCentre(g, 0)).toBe(200 / 16000);
    expect(frameCentre(g, 7)).toBe((7 * 320 + 200) / 16000);
    expect(extractorGeometry([[8, 3, 1], [8, 2, 2], [8, 3, 3]])).toEqual({ field: 1 + 2 + 1 + 2 * 2, hop: 6 });
  });

  it('frame counts agree with the model and with the MFCC frames', () => {
    const config = preset('transformer', 'base');
    const g = extractorGeometry(config.extractor.layers);
    for (const n of [0, 1, 399, 400, 401, 719, 720, 721, 16000, 44936, 123457]) {
      expect(framesOf(g, n), `${n} samples`).toBe(framesFor(config, n));
      expect(framesOf(g, n), `${n} samples`).toBe(frameCount(n));
    }
  });
});

describe('frame labels', () => {
  const g = extractorGeometry(HUBERT.layers);
  const at = (sample: number) => sample / 16000;
  const labels = (phones: PhoneInterval[], frames: number) => [...frameLabels(phones, frames, g)];
  const [sil, ae, t] = [phoneIndex('sil'), phoneIndex('ae'), phoneIndex('t')];

  it('a boundary exactly at a centre belongs to the phone that starts there; one sample either side moves it', () => {
    // Frame 2 is centred at sample 840.
    expect(labels([['sil', 0, at(840)], ['ae', at(840), at(2000)]], 5)).toEqual([sil, sil, ae, ae, ae]);
    expect(labels([['sil', 0, at(839)], ['ae', at(839), at(2000)]], 5)).toEqual([sil, sil, ae, ae, ae]);
    expect(labels([['sil', 0, at(841)], ['ae', at(841), at(2000)]], 5)).toEqual([sil, sil, sil, ae, ae]);
  });

  it('a phone shorter than the hop may hold no centre; a gap or the end leaves frames unlabelled (-1)', () => {
    // Centres at 200, 520, 840, 1160: "t" spans 530..830 and holds none.
    expect(labels([['sil', 0, at(530)], ['t', at(530), at(830)], ['ae', at(830), at(1300)]], 4)).toEqual([sil, sil, ae, ae]);
    expect(labels([['sil', 0, at(300)], ['t', at(600), at(1000)]], 4)).toEqual([sil, -1, t, -1]);
  });

  it('names bad phone intervals', () => {
    expect(phoneProblem(undefined)).toBe('no phone intervals');
    expect(phoneProblem([])).toBe('no phone intervals');
    expect(phoneProblem([['xx', 0, 1]])).toMatch(/"xx".*not in the 41-label inventory/);
    expect(phoneProblem([['ae', 1, 1]])).toMatch(/not after its start/);
    expect(phoneProblem([['ae', 0, 1], ['t', 0.5, 2]])).toMatch(/starts before/);
    expect(phoneProblem([['ae', 0, 1], ['t', 1, 2]])).toBeUndefined();
  });

  it("the real extractor's frame j depends on samples 320 j .. 320 j + 399 exactly", async () => {
    // A per-frame (layer-norm) extractor with random weights: an impulse at sample n changes frame j iff n is in its field.
    const gpu = await testGpu();
    const dims = { layers: HUBERT.layers.map(([, k, s]) => [4, k, s] as const), norm: 'layer' as const };
    const params = new ParameterSet();
    let seed = 7;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296 - 0.5);
    let cIn = 1;
    dims.layers.forEach(([c, k], i) => {
      params.add(new Parameter(`feature_extractor.conv_layers.${i}.0.weight`, gpu.tensor([c, cIn, k], 'f32', Array.from({ length: c * cIn * k }, rand)), false));
      cIn = c;
    });
    params.add(new Parameter('feature_extractor.conv_layers.0.2.weight', gpu.tensor([4], 'f32', [1, 1, 1, 1]), false));
    params.add(new Parameter('feature_extractor.conv_layers.0.2.bias', gpu.tensor([4], 'f32', [0.1, -0.2, 0.3, 0]), false));
    const extractor = new FeatureExtractor(params, dims);
    const samples = 320 * 6 + 80;
    const run = async (impulse: number) => {
      const x = new Float32Array(samples);
      if (impulse >= 0) x[impulse] = 1;
      const audio = gpu.tensor([1, samples], 'f32', x);
      const y = gpu.run((enc) => extractor.forward({ enc, train: false }, audio));
      const out = (await y.read()) as Float32Array;
      y.release();
      audio.release();
      return out;
    };
    const base = await run(-1);
    const frames = framesOf(extractorGeometry(dims.layers), samples);
    const touched = async (n: number) => {
      const y = await run(n);
      const out: number[] = [];
      for (let j = 0; j < frames; j++) {
        let d = 0;
        for (let c = 0; c < 4; c++) d = Math.max(d, Math.abs(y[j * 4 + c] - base[j * 4 + c]));
        if (d > 1e-6) out.push(j);
      }
      return out;
    };
    expect(base.length).toBe(frames * 4);
    // Frames 2 and 3 share samples 960..1039; frame 2 starts at 640 and ends at 1039.
    expect(await touched(639)).toEqual([1]);
    expect(await touched(640)).toEqual([1, 2]);
    expect(await touched(960)).toEqual([2, 3]);
    expect(await touched(1039)).toEqual([2, 3]);
    expect(await touched(1040)).toEqual([3]);
    params.release();
  });
});
