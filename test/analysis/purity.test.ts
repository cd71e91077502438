// The purity workflow on our kernels: k-means on features that equal the phones recovers them (purity 1, PNMI 1),
// a random model and the MFCC row give a row per layer on real aligned speech, deterministically, cached; bad input
// (no alignments, K above the frames, an unknown kind, utterances too large for the device) says what is wrong.
import { describe, expect, it } from 'vitest';
import { fitKmeans } from '../../src/analysis/kmeans.ts';
import { Contingency, measures } from '../../src/analysis/measures.ts';
import { analysePurity, chooseSplits, storeCache } from '../../src/analysis/purity.ts';
import { doneNotice, purityRows } from '../../src/analysis/report.ts';
import { parseRandom, type ModelSource } from '../../src/analysis/sources.ts';
import { saveModel } from '../../src/models/load.ts';
import { HubertModel } from '../../src/models/hubert.ts';
import { decodeSafetensors, encodeSafetensors } from '../../src/models/safetensors.ts';
import { MemoryRunStore } from '../../src/train/checkpoints.ts';
import { train } from '../../src/train/run.ts';
import { defaultSettings } from '../../src/train/settings.ts';
import { formatManifest, MANIFEST_FILE, parseManifest, type ManifestEntry } from '../../src/speech/manifest.ts';
import { bytesOf, MemoryStore, textOf } from '../../src/speech/store.ts';
import { assignFrames } from '../../src/train/targets.ts';
import { testGpu } from '../gpu.ts';
import { evalCorpus, smallConfig } from '../train/fixtures.ts';

function gaussian(seed: number): () => number {
  let s = seed;
  const u = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) + 1) / 4294967297;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

/** A corpus whose manifest is changed by `edit`. */
async function editedCorpus(n: number, edit: (e: ManifestEntry, i: number) => ManifestEntry): Promise<MemoryStore> {
  const store = await evalCorpus(n);
  const { entries } = parseManifest(textOf(await store.read(MANIFEST_FILE))!);
  await store.write(MANIFEST_FILE, bytesOf(formatManifest(entries.map(edit))));
  return store;
}

const quick = { K: 8, iterations: 5, seed: 3 };

describe('k-means on the GPU against phone labels', () => {
  it('features that equal the phones give phone purity 1, cluster purity 1 and PNMI 1', async () => {
    const gpu = await testGpu();
    const P = 6, D = P, N = 3000;
    const noise = gaussian(1);
    const make = (n: number, offset: number) => {
      const labels = Int32Array.from({ length: n }, (_, i) => (i * 7 + offset) % P);
      const x = new Float32Array(n * D);
      for (let i = 0; i < n; i++) for (let d = 0; d < D; d++) x[i * D + d] = (d === labels[i] ? 4 : 0) + 0.05 * noise();
      return { labels, x };
    };
    const fit = make(N, 0);
    const book = await fitKmeans(gpu, fit.x, N, D, { K: P, seed: 2, iterations: 10 });
    const held = make(1000, 3);
    const c = new Contingency(P, P);
    c.add(held.labels, await assignFrames(gpu, book, held.x));
    const m = measures(c.counts, P, P);
    expect(m.phonePurity).toBe(1);
    expect(m.clusterPurity).toBe(1);
    expect(m.pnmi!).toBeCloseTo(1, 9);
  });

  it('features independent of the labels give PNMI near 0', async () => {
    const gpu = await testGpu();
    const P = 5, D = 6, N = 4000, K = 8;
    const noise = gaussian(9);
    const x = Float32Array.from({ length: N * D }, noise);
    const book = await fitKmeans(gpu, x, N, D, { K, seed: 4, iterations: 10 });
    const held = Float32Array.from({ length: 20000 * D }, noise);
    const labels = Int32Array.from({ length: 20000 }, (_, i) => (i * 2654435761) % 4294967296 % P);
    const c = new Contingency(P, K);
    c.add(labels, await assignFrames(gpu, book, held));
    expect(measures(c.counts, P, K).pnmi!).toBeLessThan(0.003);
  });
});

describe('phone purity per layer', () => {
  it('random initial values and MFCC on aligned speech: a row per layer, deterministic, cached', async () => {
    const gpu = await testGpu();
    const store = await evalCorpus(8);
    const config = smallConfig('mamba');
    const model = HubertModel.create(gpu, config, 5);
    const bytes = await saveModel(model);
    model.release();
    const sources: ModelSource[] = [{ kind: 'checkpoint', name: 'small.safetensors', bytes }, { kind: 'mfcc' }];
    const seen: string[] = [];
    const a = await analysePurity(gpu, store, sources, { ...quick, onModel: (m) => seen.push(m.id) });
    expect(seen).toEqual(['small.safetensors', 'mfcc']);
    expect(a.notes[0]).toMatch(/no labelled "train" utterance: k-means is fitted on a seeded half of "test" \(4 utterances\)/);
    expect(a.set).toMatchObject({ utterances: 8, labelled: 8, fit: { split: 'test', part: 'half A', utterances: 4 }, eval: { part: 'half B', utterances: 4 } });
    const [m, mfcc] = a.models;
    expect(m.layers.map((l) => l.key)).toEqual(['cnn', 'proj', 'pos', '1', '2']);
    expect(m.model).toBe('mamba-tiny');
    expect(mfcc.layers.map((l) => l.key)).toEqual(['mfcc']);
    // Every frame of the evaluated utterances is labelled (phones tile the whole utterance).
    const { entries } = parseManifest(textOf(await store.read(MANIFEST_FILE))!);
    const { evaluated } = chooseSplits(entries, 'train', 'test', quick.seed);
    const frames = evaluated.reduce((n, e) => n + Math.floor((e.samples - 400) / 320) + 1, 0);
    for (const l of [...m.layers, ...mfcc.layers]) {
      expect(l.frames).toBe(frames);
      for (const v of [l.phonePurity, l.clusterPurity, l.pnmi!]) {
        expect(v).toBeGreaterThan(0);
        expect(v).toBeLessThanOrEqual(1);
      }
      expect(l.table!.reduce((s, [, , n]) => s + n, 0)).toBe(frames);
      const t = new Float64Array(41 * 8);
      for (const [y, z, n] of l.table!) t[y * 8 + z] = n;
      expect(measures(t, 41, 8).pnmi).toBeCloseTo(l.pnmi!, 12);
    }
    expect(m.fitFrames).toBe(mfcc.fitFrames);
    expect(purityRows(a.models)).toHaveLength(6);

    // The same seed gives the same numbers; a cache answers the second time with them.
    const cacheStore = new MemoryStore();
    const b = await analysePurity(gpu, store, sources, { ...quick, cache: storeCache(cacheStore) });
    expect(purityRows(b.models)).toEqual(purityRows(a.models));
    expect(cacheStore.files.size).toBe(2);
    const c = await analysePurity(gpu, store, sources, { ...quick, cache: storeCache(cacheStore), tables: false });
    expect(c.models.map((x) => x.cached)).toEqual([true, true]);
    expect(purityRows(c.models)).toEqual(purityRows(a.models));
    expect(c.models[0].layers[0].table).toBeUndefined();
    // Another K is another key.
    const d = await analysePurity(gpu, store, [{ kind: 'mfcc' }], { ...quick, K: 6, cache: storeCache(cacheStore) });
    expect(d.models[0].cached).toBe(false);
    expect(d.models[0].notCached).toBeUndefined();
    // A store that refuses the write: the result still comes, and says why it was not kept.
    const full = { read: cacheStore.read.bind(cacheStore), write: () => Promise.reject(new Error('quota exceeded')) };
    const e = await analysePurity(gpu, store, [{ kind: 'mfcc' }], { ...quick, K: 5, cache: storeCache(full) });
    expect(e.models[0].cached).toBe(false);
    expect(e.models[0].notCached).toBe('quota exceeded');
    expect(e.models[0].layers.length).toBe(1);
    expect(doneNotice(3.2, [...c.models, ...e.models])).toBe(
      'Done in 3 s (2 from the cache). mfcc could not be kept for next time (quota exceeded); the results shown are complete.',
    );
  });

  it('random:<preset> builds seeded initial values; utterances without phone intervals are skipped and counted', async () => {
    const gpu = await testGpu();
    const store = await editedCorpus(6, (e, i) => (i % 3 === 0 ? { ...e, phones: undefined } : e));
    const r = await analysePurity(gpu, store, [parseRandom('random:causal-transformer-tiny')!], { ...quick, K: 4, iterations: 2, fitSplit: 'test', evalSplit: 'test' });
    expect(r.set.skipped.noPhones).toBe(2);
    expect(r.set.labelled).toBe(4);
    expect(r.notes[0]).toMatch(/fitted and scored on the same 4 utterances/);
    expect(r.models[0]).toMatchObject({ id: 'random:causal-transformer-tiny', model: 'causal-transformer-tiny', source: 'random' });
    expect(r.models[0].layers).toHaveLength(3 + 4);
  });

  it("a training run's checkpoint (optimizer state, targets, metadata) is analysed like any other", async () => {
    const gpu = await testGpu();
    const corpus = await evalCorpus(4);
    const run = new MemoryRunStore();
    const quickTrain = { batchSeconds: 6, warmup: 1, evalEvery: 1000, saveEvery: 1000, clusters: 8, kmeansIterations: 3, steps: 2 };
    const s = await train(gpu, corpus, run, { settings: { ...defaultSettings('pretrain'), ...quickTrain }, config: smallConfig('extbimamba') });
    const bytes = (await run.read(s.lastCheckpoint!))!;
    expect(decodeSafetensors(bytes).metadata.train).toBeDefined();
    const r = await analysePurity(gpu, corpus, [{ kind: 'checkpoint', name: s.lastCheckpoint!, bytes }], { ...quick, K: 4, iterations: 2 });
    expect(r.models[0]).toMatchObject({ id: s.lastCheckpoint, model: 'extbimamba-tiny', source: 'checkpoint', cached: false });
    expect(r.models[0].layers.map((l) => l.key)).toEqual(['cnn', 'proj', 'pos', '1', '2']);
    for (const l of r.models[0].layers) expect(l.pnmi!).toBeGreaterThan(0);
  });
});

describe('bad input', () => {
  it('a set without phone alignments says so and what format is needed', async () => {
    const gpu = await testGpu();
    const store = await editedCorpus(3, (e) => ({ ...e, phones: undefined }));
    await expect(analysePurity(gpu, store, [{ kind: 'mfcc' }], quick)).rejects.toThrow(
      /the set cannot be scored: none of its 3 utterances has phone intervals\. Phone purity needs frame labels: each manifest line .*"phones": \[\["sil",0,0\.1425\]/,
    );
    const bad = await editedCorpus(2, (e) => ({ ...e, phones: [['qq', 0, e.duration]] }));
    await expect(analysePurity(gpu, bad, [{ kind: 'mfcc' }], quick)).rejects.toThrow(/"qq" \(interval 0\) is not in the 41-label inventory/);
  });

  it('K larger than the frames to fit on', async () => {
    const gpu = await testGpu();
    const store = await evalCorpus(2);
    await expect(analysePurity(gpu, store, [{ kind: 'mfcc' }], { ...quick, K: 1000 })).rejects.toThrow(/K = 1000 clusters, but the fitting utterances \(test, half A: 1\) hold only \d+ frames of mfcc; use K <= \d+/);
  });

  it('a checkpoint of an unknown kind, a damaged file, an unknown preset', async () => {
    const gpu = await testGpu();
    const store = await evalCorpus(2);
    const model = HubertModel.create(gpu, smallConfig('mamba'), 1);
    const file = decodeSafetensors(await saveModel(model));
    model.release();
    const config = JSON.parse(file.metadata.config);
    const alien = encodeSafetensors([...file.tensors], { ...file.metadata, config: JSON.stringify({ ...config, kind: 'hyena' }) });
    await expect(analysePurity(gpu, store, [{ kind: 'checkpoint', name: 'alien.safetensors', bytes: alien }], quick)).rejects.toThrow(
      /alien\.safetensors: encoder kind "hyena" is not one this lab knows \(mamba, extbimamba/,
    );
    await expect(analysePurity(gpu, store, [{ kind: 'checkpoint', name: 'junk.bin', bytes: bytesOf('not a checkpoint') }], quick)).rejects.toThrow(/junk\.bin is not a checkpoint of this lab/);
    expect(() => parseRandom('random:mamba-huge')).toThrow(/random:<kind>-<size>\[:seed\]/);
    expect(() => parseRandom('random:hyena-tiny')).toThrow(/unknown preset "hyena-tiny"/);
    expect(parseRandom('ckpt.safetensors')).toBeUndefined();
    expect(parseRandom('random:mamba-tiny:7')).toEqual({ kind: 'random', preset: 'mamba-tiny', seed: 7 });
  });

  it('utterances too large for the device are skipped with the limit; none left says so', async () => {
    const gpu = await testGpu();
    const store = await evalCorpus(2);
    const limits = gpu.limits as Record<string, number>;
    const saved = limits.maxStorageBufferBindingSize;
    limits.maxStorageBufferBindingSize = 512 * 1024; // the model's weights fit, a second of audio's first conv output does not
    try {
      await expect(analysePurity(gpu, store, [{ kind: 'random', preset: 'mamba-tiny' }], { ...quick, K: 2 })).rejects.toThrow(
        /random:mamba-tiny: 0 frames to fit k-means on, fewer than K = 2; 1 utterance\(s\) did not fit the device, e.g. eval-\d+: feature_extractor\.conv_layers\.0 output .* needs .* but this device allows at most 512\.0 KiB/,
      );
    } finally {
      limits.maxStorageBufferBindingSize = saved;
    }
  });
});
