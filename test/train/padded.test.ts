// A padded batch trains as its utterances do alone: the CTC objective of a batch of utterances of different lengths
// (zero-padded, with their lengths) equals the mean of their own losses, and so do its gradients, for a
// bidirectional encoder (which looks ahead: every module that looks across time must honour the lengths) and a
// Transformer (whose attention must hide the padded keys).
import { describe, expect, it } from 'vitest';
import { maxRelError } from '../../src/kernels/compare.ts';
import { HubertModel } from '../../src/models/hubert.ts';
import type { EncoderKind } from '../../src/models/config.ts';
import { TrainingCorpus } from '../../src/train/data.ts';
import { ctcObjective } from '../../src/train/objectives.ts';
import { testGpu } from '../gpu.ts';
import { evalCorpus, smallConfig } from './fixtures.ts';

describe('padded batches', () => {
  for (const kind of ['extbimamba', 'transformer'] as EncoderKind[]) {
    it(`${kind}: CTC loss and gradients of a padded batch equal the mean over its utterances alone`, { timeout: 120_000 }, async () => {
      const gpu = await testGpu();
      const { corpus } = await TrainingCorpus.open(await evalCorpus(3));
      const entries = corpus.entries;
      expect(new Set(entries.map((e) => e.samples)).size).toBe(3); // three different lengths
      const model = HubertModel.create(gpu, smallConfig(kind), 7, { heads: { ctcHead: true } });
      const grads = async () => Promise.all(model.params.all().map((p) => (p.grad ? p.grad.read() : new Float32Array(p.value.size))));
      try {
        gpu.run((enc) => model.params.zeroGrads(enc));
        const batch = (await corpus.batch(entries))!;
        const together = await ctcObjective(model, batch, true);
        const batchGrads = await grads();
        let mean = 0;
        const sum = batchGrads.map((g) => new Float32Array(g.length));
        for (const e of entries) {
          gpu.run((enc) => model.params.zeroGrads(enc));
          mean += (await ctcObjective(model, (await corpus.batch([e]))!, true)).loss / entries.length;
          (await grads()).forEach((g, i) => g.forEach((v, j) => (sum[i][j] += v / entries.length)));
        }
        expect(Math.abs(together.loss - mean) / mean).toBeLessThan(1e-4);
        const scale = Math.max(...sum.map((g) => g.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
        batchGrads.forEach((g, i) => {
          const name = model.params.all()[i].name;
          let diff = 0;
          g.forEach((v, j) => (diff = Math.max(diff, Math.abs(v - sum[i][j]))));
          expect(diff / scale, name).toBeLessThan(1e-4);
        });
        expect(maxRelError(batchGrads.flatMap((g) => [...g]), sum.flatMap((g) => [...g]))).toBeLessThan(1e-3);
      } finally {
        model.release();
      }
    });
  }
});
