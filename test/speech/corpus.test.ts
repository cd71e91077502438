import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nodeAssets } from '../../src/cli/commands/corpus.ts';
import { speechPower } from '../../src/speech/augment.ts';
import { DEFAULT_AUGMENT, buildCorpus, parseSentences, sentenceSplit, voiceSplit, type BuildOptions } from '../../src/speech/corpus.ts';
import { decodeAudio } from '../../src/speech/audio.ts';
import type { EngineName } from '../../src/speech/engines/engine.ts';
import { MANIFEST_FILE, parseManifest, validateCorpus, type ManifestEntry } from '../../src/speech/manifest.ts';
import { MemoryStore } from '../../src/speech/store.ts';
import { allVoices } from '../../src/speech/synth.ts';
import { everydaySource, lineSource } from '../../src/speech/text/sources.ts';
import { normaliseTranscript } from '../../src/speech/vocab.ts';

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

describe('multi-engine corpus', () => {
  const texts = [
    lineSource('kjv', readFileSync(new URL('../../data/kjv-sentences.txt', import.meta.url), 'utf8')),
    lineSource('austen', readFileSync(new URL('../../data/austen-sentences.txt', import.meta.url), 'utf8')),
    everydaySource(3000),
  ];
  const rt = { assets: nodeAssets };

  it('mixes espeak, flite and Pico over three texts with every augmentation; splits hold; resumes byte-identically', async () => {
    const opts: BuildOptions = {
      seed: 21, count: 14, maxWords: 8, engines: ['espeak', 'flite', 'pico'], splits: { train: 0.6, dev: 0.2, test: 0.2 },
      // babble is measured in the SNR test below (its bank costs 8 extra syntheses per split)
      augment: { ...DEFAULT_AUGMENT, prob: 1, noise: ['white', 'pink'], reverb: { ...DEFAULT_AUGMENT.reverb, prob: 0.5 }, telephone: 0.5, tilt: { ...DEFAULT_AUGMENT.tilt, prob: 0.5 } },
    };
    const a = new MemoryStore();
    const sum = await buildCorpus(texts, a, opts, rt);
    expect(sum.utterances).toBe(14);
    expect((await validateCorpus(async (p) => a.files.get(p))).problems).toEqual([]);
    const entries = manifestOf(a);
    const engineOf = (e: ManifestEntry) => ({ 'espeak-ng': 'espeak', flite: 'flite', 'svox-pico': 'pico' })[e.source!.synth as string];
    expect(new Set(entries.map(engineOf))).toEqual(new Set(['espeak', 'flite', 'pico']));
    for (const e of entries) {
      const src = texts.find((t) => t.name === e.source!.text)!;
      expect(src.split(e.source!.sentence as number), e.id).toBe(e.split);
      expect(normaliseTranscript(src.sentences[e.source!.sentence as number]).text).toBe(e.text);
      if (engineOf(e) === 'pico') expect(e.phones, e.id).toBeUndefined();
      else expect(e.phones!.filter(([p]) => p !== 'sil').length, e.id).toBeGreaterThan(3);
      if (engineOf(e) === 'espeak') expect(voiceSplit(e.speaker)).toBe(e.split);
      else expect(e.speaker).toMatch(/^(flite|pico)-/);
    }
    const kinds = new Set(entries.map((e) => e.source!.noise ?? 'white'));
    expect(kinds.size).toBeGreaterThan(1);
    expect(entries.some((e) => e.source!.rt60 !== undefined)).toBe(true);
    expect(entries.some((e) => e.source!.band === 'telephone')).toBe(true);
    expect(entries.some((e) => e.source!.tilt_db_per_octave !== undefined)).toBe(true);
    expect(sum.withoutPhones).toEqual(['pico']);
    const total = (t: Record<string, { seconds: number }>) => Object.values(t).reduce((s, x) => s + x.seconds, 0);
    expect(total(sum.engines)).toBeCloseTo(sum.seconds, 6);
    expect(total(sum.texts)).toBeCloseTo(sum.seconds, 6);
    expect(total(Object.assign({}, ...Object.values(sum.voices)))).toBeCloseTo(sum.seconds, 6);

    // resume after losing the manifest's tail and two WAVs: the same bytes
    const b = new MemoryStore();
    for (const [k, v] of a.files) b.files.set(k, v.slice());
    const lines = new TextDecoder().decode(b.files.get(MANIFEST_FILE)).trim().split('\n');
    b.files.set(MANIFEST_FILE, new TextEncoder().encode(lines.slice(0, 10).join('\n') + '\n'));
    b.files.delete(entries[3].audio);
    b.files.delete(entries[6].audio);
    const sb = await buildCorpus(texts, b, opts, rt);
    expect(sb.made).toBe(6);
    for (const [k, v] of a.files) if (k !== 'corpus.json') expect(sameBytes(b.files.get(k), v), k).toBe(true);
    await expect(buildCorpus(texts, b, { ...opts, engines: ['espeak', 'flite'] }, rt)).rejects.toThrow(/other options/);
    await expect(buildCorpus(texts, b, { ...opts, augment: { ...opts.augment, telephone: 0.2 } }, rt)).rejects.toThrow(/other options/);
  }, 120_000);

  it('a held-out engine set: Pico only, test split only, no phones', async () => {
    const s = new MemoryStore();
    const sum = await buildCorpus(texts, s, { seed: 4, count: 4, engines: ['pico'], splits: { test: 1 }, maxWords: 7 }, rt);
    const entries = manifestOf(s);
    expect(entries.every((e) => e.split === 'test' && e.phones === undefined && e.speaker.startsWith('pico-'))).toBe(true);
    expect(sum.splits.test.utterances).toBe(4);
    expect((await validateCorpus(async (p) => s.files.get(p))).problems).toEqual([]);
    await expect(buildCorpus(texts, new MemoryStore(), { seed: 4, count: 1, engines: ['espeak'], voices: ['flite:slt'] }, rt)).rejects.toThrow(/unknown voice/);
    await expect(buildCorpus(texts, new MemoryStore(), { seed: 4, count: 1, engines: ['espeak'], voices: ['en-us+f3'], splits: { test: 1 } }, rt)).rejects.toThrow(/no voices in the test split/);
  }, 60_000);

  it('public/heldout is what its README command builds (first utterances, byte for byte)', async () => {
    const dir = new URL('../../public/heldout/', import.meta.url);
    const readme = readFileSync(new URL('README.md', dir), 'utf8');
    expect(readme).toContain('--engines pico --text kjv,everyday --split test --count 70 --max-words 6 --seed 2027 --prefix heldout --pad 0.05:0.1');
    const s = new MemoryStore();
    const heldoutTexts = [texts[0], everydaySource()];
    await buildCorpus(heldoutTexts, s, { seed: 2027, count: 3, splits: { test: 1 }, engines: ['pico'], maxWords: 6, pad: [0.05, 0.1], prefix: 'heldout' }, rt);
    const shipped = readFileSync(new URL('manifest.jsonl', dir), 'utf8').split('\n');
    manifestOf(s).forEach((e, i) => {
      expect(JSON.stringify(e)).toBe(shipped[i]);
      expect(sameBytes(s.files.get(e.audio), new Uint8Array(readFileSync(new URL(e.audio, dir))))).toBe(true);
    });
  }, 60_000);

  it('noise lands at the SNR drawn, measured against the same utterance built clean (white, pink, babble; with and without phones)', async () => {
    const base = { seed: 8, count: 3, maxWords: 8, engines: ['flite', 'pico'] as EngineName[] };
    const clean = new MemoryStore();
    await buildCorpus(texts, clean, { ...base, augment: { prob: 1, gainDb: [-14, -14] } }, rt);
    const cleanEntries = manifestOf(clean);
    for (const noise of ['white', 'pink', 'babble'] as const) {
      const noisy = new MemoryStore();
      await buildCorpus(texts, noisy, { ...base, augment: { prob: 1, gainDb: [-14, -14], snrDb: [12, 12], noise: [noise] } }, rt);
      manifestOf(noisy).forEach((e, i) => {
        const c = cleanEntries[i];
        expect(e.text).toBe(c.text);
        const x = decodeAudio(clean.files.get(c.audio)!).channels[0];
        const y = decodeAudio(noisy.files.get(e.audio)!).channels[0];
        const n = y.map((v, k) => v - x[k]);
        const p = speechPower(x, 16000, c.phones);
        const measured = 10 * Math.log10(p / (n.reduce((s, v) => s + v * v, 0) / n.length));
        expect(Math.abs(measured - 12), `${noise} ${e.speaker}`).toBeLessThan(0.5);
      });
    }
  }, 120_000);
});
