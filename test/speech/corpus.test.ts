import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildCorpus, parseSentences, sentenceSplit, voiceSplit } from '../../src/speech/corpus.ts';
import { decodeAudio } from '../../src/speech/audio.ts';
import { MANIFEST_FILE, parseManifest, validateCorpus } from '../../src/speech/manifest.ts';
import { MemoryStore } from '../../src/speech/store.ts';
import { allVoices } from '../../src/speech/synth.ts';

const sentences = parseSentences(readFileSync(new URL('../../data/kjv-sentences.txt', import.meta.url), 'utf8'));
const sameBytes = (x: Uint8Array | undefined, y: Uint8Array) => !!x && x.length === y.length && x.every((v, i) => v === y[i]);
const manifestOf = (s: MemoryStore) => parseManifest(new TextDecoder().decode(s.files.get(MANIFEST_FILE))).entries;

describe('synthetic corpus', () => {
  it('the committed sentences are a modest file, and voice splits are fixed and disjoint', () => {
    expect(sentences.length).toBeGreaterThan(5000);
    const voices = allVoices();
    const bySplit = { train: 0, dev: 0, test: 0 };
    for (const v of voices) bySplit[voiceSplit(v)]++;
    expect(bySplit.test).toBeGreaterThan(30);
    expect(bySplit.dev).toBeGreaterThan(30);
    expect(sentenceSplit(20)).toBe('test');
  });

  it('builds about 20 s deterministically, validates, keeps splits by voice, and resumes byte-identically', async () => {
    const opts = { seed: 11, minutes: 20 / 60, splits: { train: 0.5, dev: 0.25, test: 0.25 } };
    const a = new MemoryStore();
    const progress: number[] = [];
    const sa = await buildCorpus(sentences, a, opts, { onProgress: (d) => progress.push(d) });
    expect(sa.seconds).toBeGreaterThanOrEqual(20);
    expect(sa.unmappedPhonemes).toEqual({});
    expect(progress.length).toBe(sa.utterances);
    const report = await validateCorpus(async (p) => a.files.get(p));
    expect(report.problems).toEqual([]);
    expect(report.valid).toBe(sa.utterances);
    const entries = manifestOf(a);
    for (const e of entries) {
      expect(voiceSplit(e.speaker)).toBe(e.split);
      expect(sentenceSplit(e.source!.sentence as number)).toBe(e.split);
      expect(decodeAudio(a.files.get(e.audio)!).channels[0].length).toBe(e.samples);
      expect(e.phones!.filter(([p]) => p !== 'sil').length).toBeGreaterThan(3);
    }
    // resume: drop the manifest's tail, delete one WAV, corrupt another
    const b = new MemoryStore();
    for (const [k, v] of a.files) b.files.set(k, v.slice());
    const lines = new TextDecoder().decode(b.files.get(MANIFEST_FILE)).trim().split('\n');
    b.files.set(MANIFEST_FILE, new TextEncoder().encode(lines.slice(0, lines.length - 2).join('\n') + '\n{"id": "trunc'));
    b.files.delete(entries[1].audio);
    b.files.set(entries[2].audio, b.files.get(entries[2].audio)!.slice(0, 100));
    const sb = await buildCorpus(sentences, b, opts);
    expect(sb.made).toBe(4);
    expect(sb.reused).toBe(sa.utterances - 4);
    for (const [k, v] of a.files) if (k !== 'corpus.json') expect(sameBytes(b.files.get(k), v), k).toBe(true);
  }, 60_000);

  it('augments (noise, gain, speed) and refuses to mix options in one folder', async () => {
    const s = new MemoryStore();
    const opts = { seed: 5, count: 4, maxWords: 6, augment: { prob: 1, snrDb: [10, 10] as [number, number], gainDb: [-6, -6] as [number, number], speeds: [1.1] } };
    const sum = await buildCorpus(sentences, s, opts);
    expect(sum.utterances).toBe(4);
    expect((await validateCorpus(async (p) => s.files.get(p))).problems).toEqual([]);
    for (const e of manifestOf(s)) expect(e.source).toMatchObject({ speed: 1.1, gain_db: -6, snr_db: 10 });
    await expect(buildCorpus(sentences, s, { ...opts, seed: 6 })).rejects.toThrow(/other options/);
    const ac = new AbortController();
    ac.abort();
    await expect(buildCorpus(sentences, new MemoryStore(), { seed: 1, count: 2 }, { signal: ac.signal })).rejects.toThrow();
  }, 60_000);
});
