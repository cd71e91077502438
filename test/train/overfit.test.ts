// Learning, end to end on our kernels: a small model trained on 8 short utterances decodes them back exactly (CTC),
// and pre-training predicts masked frames' k-means targets well above chance.
import { describe, expect, it } from 'vitest';
import { TrainingCorpus } from '../../src/train/data.ts';
import { MemoryRunStore } from '../../src/train/checkpoints.ts';
import { transcribeEntries } from '../../src/train/evaluate.ts';
import { train } from '../../src/train/run.ts';
import { defaultSettings } from '../../src/train/settings.ts';
import { decodeSafetensors } from '../../src/models/safetensors.ts';
import { loadModel } from '../../src/models/load.ts';
import { testGpu } from '../gpu.ts';
import { evalCorpus, smallConfig } from './fixtures.ts';

describe('training learns', () => {
  it('CTC from scratch: 8 utterances decode back exactly after 150 updates', { timeout: 600_000 }, async () => {
    const gpu = await testGpu();
    const corpusStore = await evalCorpus(8);
    const runStore = new MemoryRunStore();
    // All 8 in one padded batch per update (each utterance with its own length). A bidirectional encoder: a causal
    // one that memorises 8 utterances learns to emit each text as soon as it can tell them apart, and cannot tell
    // them apart during their (identical) leading silence.
    const settings = { ...defaultSettings('ctc'), steps: 150, lr: 1e-2, schedule: 'tri-stage' as const, warmup: 20, hold: 1000, batchSeconds: 12, evalEvery: 1000, saveEvery: 1000 };
    const summary = await train(gpu, corpusStore, runStore, { settings, config: smallConfig('extbimamba') });
    const { model } = loadModel(gpu, (await runStore.read(summary.lastCheckpoint!))!);
    const { corpus } = await TrainingCorpus.open(corpusStore);
    const hyps = await transcribeEntries(model, corpus, corpus.entries, 16000);
    model.release();
    expect(hyps.map((h) => h.text)).toEqual(hyps.map((h) => h.entry.text));
  });

  it('pre-training: masked-frame accuracy on the k-means targets well above the most frequent target', { timeout: 600_000 }, async () => {
    const gpu = await testGpu();
    const runStore = new MemoryRunStore();
    const settings = { ...defaultSettings('pretrain'), steps: 80, lr: 5e-3, warmup: 10, batchSeconds: 12, clusters: 16, kmeansIterations: 10, evalEvery: 80, saveEvery: 1000 };
    const summary = await train(gpu, await evalCorpus(8), runStore, { settings, config: smallConfig('mamba') });
    const targets = decodeSafetensors((await runStore.read('targets.safetensors'))!);
    const counts = new Map<number, number>();
    let frames = 0;
    for (const [name, t] of targets.tensors) if (name.startsWith('utt.')) for (const id of t.data) [counts.set(id, (counts.get(id) ?? 0) + 1), frames++];
    const majority = Math.max(...counts.values()) / frames;
    expect(counts.size).toBeGreaterThan(8);
    expect(summary.dev!.accuracy!).toBeGreaterThan(Math.max(2 * majority, 0.3));
  });
});
