// The four stages chain as the paper's recipe: pre-training iteration 1 (MFCC targets) -> iteration 2 (targets from
// a layer of the iteration-1 model) -> CTC fine-tuning (extractor frozen, encoder frozen for the first updates).
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../src/models/checkpoint.ts';
import { decodeSafetensors } from '../../src/models/safetensors.ts';
import { MemoryRunStore } from '../../src/train/checkpoints.ts';
import { train } from '../../src/train/run.ts';
import { defaultSettings } from '../../src/train/settings.ts';
import { testGpu } from '../gpu.ts';
import { evalCorpus, smallConfig } from './fixtures.ts';

const quick = { batchSeconds: 6, warmup: 1, evalEvery: 1000, saveEvery: 1000, clusters: 8, kmeansIterations: 3 };

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('training stages', () => {
  it('iteration 1 -> iteration 2 on layer features -> fine-tuning with frozen parts', async () => {
    const gpu = await testGpu();
    const corpus = await evalCorpus(6);
    const it1 = new MemoryRunStore();
    const s1 = await train(gpu, corpus, it1, { settings: { ...defaultSettings('pretrain'), ...quick, steps: 2 }, config: smallConfig() });
    const ck1 = (await it1.read(s1.lastCheckpoint!))!;
    expect(JSON.parse(decodeSafetensors((await it1.read('targets.safetensors'))!).metadata.codebook).source).toBe('mfcc');

    const it2 = new MemoryRunStore();
    const s2 = await train(gpu, corpus, it2, { settings: { ...defaultSettings('pretrain'), ...quick, steps: 2, iteration: 2, layer: 1 }, from: ck1 });
    const book = decodeSafetensors((await it2.read('targets.safetensors'))!);
    expect(JSON.parse(book.metadata.codebook)).toMatchObject({ source: 'layer', layer: 1 });
    expect(book.tensors.get('targets.centroids')!.shape).toEqual([8, smallConfig().d_model]);
    const pre = loadCheckpoint((await it2.read(s2.lastCheckpoint!))!);

    const ft = new MemoryRunStore();
    const settings = { ...defaultSettings('finetune'), ...quick, steps: 1, freezeEncoderSteps: 1, hold: 1 };
    const s3 = await train(gpu, corpus, ft, { settings, from: (await it2.read(s2.lastCheckpoint!))! });
    const after1 = loadCheckpoint((await ft.read(s3.lastCheckpoint!))!);
    expect(after1.heads).toEqual({ pretrainHead: true, ctcHead: true });
    for (const [name, t] of pre.params) expect(maxAbsDiff(after1.params.get(name)!.data, t.data), name).toBe(0);
    const s4 = await train(gpu, corpus, ft, { settings, resume: true, steps: 3 });
    expect(s4.step).toBe(3);
    const after3 = loadCheckpoint((await ft.read(s4.lastCheckpoint!))!);
    for (const [name, t] of pre.params) {
      const d = maxAbsDiff(after3.params.get(name)!.data, t.data);
      if (name.startsWith('feature_extractor.')) expect(d, name).toBe(0);
    }
    expect(maxAbsDiff(after3.params.get('encoder.layers.0.mixer.in_proj.weight')!.data, pre.params.get('encoder.layers.0.mixer.in_proj.weight')!.data)).toBeGreaterThan(0);
    expect(maxAbsDiff(after3.params.get('ctc_proj.weight')!.data, after1.params.get('ctc_proj.weight')!.data)).toBeGreaterThan(0);
  });

  it('CTC from a checkpoint (--from): starts from its weights, keeps its configuration, and every part trains', async () => {
    const gpu = await testGpu();
    const corpus = await evalCorpus(6);
    const first = new MemoryRunStore();
    const ctc = { ...defaultSettings('ctc'), ...quick };
    const s1 = await train(gpu, corpus, first, { settings: { ...ctc, steps: 2 }, config: smallConfig('causal-transformer') });
    const before = loadCheckpoint((await first.read(s1.lastCheckpoint!))!);
    const next = new MemoryRunStore();
    const s2 = await train(gpu, corpus, next, { settings: { ...ctc, steps: 1 }, from: (await first.read(s1.lastCheckpoint!))! });
    const after = loadCheckpoint((await next.read(s2.lastCheckpoint!))!);
    expect(after.config).toEqual(before.config);
    expect(after.heads).toEqual({ ctcHead: true });
    expect(JSON.parse(after.metadata.train!).step).toBe(1); // a new run: its own update count and schedule
    for (const [name, t] of before.params) {
      const d = maxAbsDiff(after.params.get(name)!.data, t.data);
      // One AdamW step moves each weight by about the learning rate at most: near the checkpoint, and moved.
      if (/weight$/.test(name) && !/norm/.test(name)) expect(d, name).toBeGreaterThan(0);
      expect(d, name).toBeLessThan(10 * ctc.lr);
    }
  });
});
