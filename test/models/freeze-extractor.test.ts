// Fine-tuning's frozen extractor: the extractor runs as in inference and gets no gradient, and every other
// parameter's gradient is what the full backward gives.
import { describe, expect, it } from 'vitest';
import { randomNormal, seeded } from '../../src/kernels/random.ts';
import { toyConfig } from '../../src/models/checks.ts';
import { framesFor } from '../../src/models/config.ts';
import { HubertModel } from '../../src/models/hubert.ts';
import { testGpu } from '../gpu.ts';

describe('freezeExtractor', () => {
  it('leaves the extractor without gradients and the rest as the full backward', async () => {
    const gpu = await testGpu();
    const c = toyConfig('extbimamba', { hubertStrides: true });
    const model = HubertModel.create(gpu, c, 3, { heads: { ctcHead: true } });
    const samples = 4000;
    const audio = gpu.tensor([2, samples], 'f32', randomNormal(2 * samples, seeded(1)), 'audio');
    const dy = gpu.tensor([2, framesFor(c, samples), c.d_model], 'f32', randomNormal(2 * framesFor(c, samples) * c.d_model, seeded(2)), 'dy');
    const gradients = async (freezeExtractor: boolean) => {
      gpu.run((enc) => {
        model.params.zeroGrads(enc);
        const { out } = model.forward({ enc, train: true }, audio, { freezeExtractor, lengths: [samples, 3100] });
        model.backward({ enc, train: true }, dy);
        enc.releaseAfter(out);
      });
      return new Map(await Promise.all(model.params.all().map(async (p) => [p.name, p.grad ? await p.grad.read() : undefined] as const)));
    };
    try {
      const full = await gradients(false);
      const frozen = await gradients(true);
      for (const [name, g] of full) {
        if (name.startsWith('feature_extractor.')) {
          expect(g!.some((v) => v !== 0), name).toBe(true);
          expect(frozen.get(name)!.every((v) => v === 0), name).toBe(true);
        } else if (g) {
          expect([...frozen.get(name)!], name).toEqual([...g]);
        }
      }
    } finally {
      [audio, dy].forEach((t) => t.release());
      model.release();
    }
  });
});
