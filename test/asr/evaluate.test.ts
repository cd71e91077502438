import { describe, expect, it } from 'vitest';
import { evaluateSet } from '../../src/asr/evaluate.ts';
import type { EvalStore } from '../../src/asr/evalset.ts';
import { charErrors, wordErrors, errorRates } from '../../src/asr/wer.ts';
import { MANIFEST_FILE, parseManifest } from '../../src/speech/manifest.ts';
import { bytesOf, MemoryStore, textOf } from '../../src/speech/store.ts';
import { TrainingCorpus } from '../../src/train/data.ts';
import { transcribeEntries } from '../../src/train/evaluate.ts';
import { evalCorpus } from '../train/fixtures.ts';
import { testGpu } from '../gpu.ts';
import { asrConfig, ctcModel } from './fixtures.ts';

/** The same utterances as a plain folder with manifest.tsv. */
async function asTsv(store: MemoryStore): Promise<MemoryStore> {
  const { entries } = parseManifest(textOf(await store.read(MANIFEST_FILE))!);
  const out = new MemoryStore();
  const rows = ['id\twav_relative_path\ttranscript'];
  for (const e of entries) {
    await out.write(`clips/${e.id}.wav`, (await store.read(e.audio))!);
    rows.push(`${e.id}\tclips/${e.id}.wav\t${e.text.toLowerCase()}.`);
  }
  await out.write('manifest.tsv', bytesOf(rows.join('\n') + '\n'));
  return out;
}

describe('lab eval on a tiny set', () => {
  it("a random-init model's WER and CER are those of its own hypotheses, which are the batched offline decoding's", async () => {
    const gpu = await testGpu();
    const model = ctcModel(gpu, asrConfig('mamba'));
    const store = await evalCorpus(6);
    const report = await evaluateSet(model, store, { worst: 3 });
    expect(report.set).toMatchObject({ file: 'manifest.jsonl', utterances: 6, inSet: 6 });
    expect(report.method).toBe('stream');

    // Hypotheses from an independent path: padded batches through the offline forward (src/train/evaluate.ts).
    const { corpus } = await TrainingCorpus.open(store);
    const batched = await transcribeEntries(model, corpus, corpus.entries, 16000 * 8);
    const hyp = new Map(batched.map((h) => [h.entry.id, h.text]));
    for (const u of report.utterances) expect(u.hyp, u.id).toBe(hyp.get(u.id));

    // Error rates recomputed from the hypotheses with the plain edit distance.
    const pairs = report.utterances.map((u) => ({ ref: corpus.entries.find((e) => e.id === u.id)!.text, hyp: u.hyp }));
    const want = errorRates(pairs);
    expect(report.wer).toBeCloseTo(want.wer, 12);
    expect(report.cer).toBeCloseTo(want.cer, 12);
    expect(report.words.length).toBe(want.words);
    for (const u of report.utterances) {
      const w = wordErrors(u.ref, u.hyp);
      const c = charErrors(u.ref, u.hyp);
      expect(u.words.substitutions + u.words.deletions + u.words.insertions).toBe(w.edits);
      expect(u.chars.substitutions + u.chars.deletions + u.chars.insertions).toBe(c.edits);
      expect([u.words.length, u.chars.length]).toEqual([w.length, c.length]);
    }
    const sum = (k: 'substitutions' | 'deletions' | 'insertions') => report.utterances.reduce((s, u) => s + u.words[k], 0);
    expect([report.words.substitutions, report.words.deletions, report.words.insertions]).toEqual([sum('substitutions'), sum('deletions'), sum('insertions')]);

    // Speakers partition the utterances; the worst come first; RTF is compute over audio.
    expect(report.speakers.reduce((s, r) => s + r.utterances, 0)).toBe(6);
    for (const r of report.speakers) {
      const mine = report.utterances.filter((u) => u.speaker === r.speaker);
      expect(r.words.length).toBe(mine.reduce((s, u) => s + u.words.length, 0));
    }
    expect(report.worst).toHaveLength(3);
    expect(report.worst.map((u) => u.wer)).toEqual([...report.worst.map((u) => u.wer)].sort((a, b) => b - a));
    expect(Math.max(...report.utterances.map((u) => u.wer))).toBe(report.worst[0].wer);
    expect(report.worst[0].alignment.ref.length).toBeGreaterThan(0);
    const seconds = corpus.entries.reduce((s, e) => s + e.samples / 16000, 0);
    expect(report.audioSeconds).toBeCloseTo(seconds, 6);
    expect(report.rtf).toBeCloseTo(report.computeSeconds / report.audioSeconds, 12);

    // The same set as manifest.tsv (lower case, punctuation): the same scores; --limit takes the first rows.
    const tsv = await evaluateSet(model, await asTsv(store), { warmup: false });
    expect(tsv.set.file).toBe('manifest.tsv');
    expect([tsv.wer, tsv.cer]).toEqual([report.wer, report.cer]);
    expect(tsv.speakers.map((s) => s.speaker)).toEqual(['-']);
    const two = await evaluateSet(model, store, { limit: 2, warmup: false });
    expect(two.set).toMatchObject({ utterances: 2, inSet: 6 });
    expect(two.utterances.map((u) => u.hyp)).toEqual(report.utterances.slice(0, 2).map((u) => u.hyp));
    model.release();
  });

  it('a bidirectional model runs whole files; a broken or missing file is named', async () => {
    const gpu = await testGpu();
    const model = ctcModel(gpu, asrConfig('extbimamba'));
    const store = await evalCorpus(3);
    const report = await evaluateSet(model, store, { warmup: false });
    expect(report.methods).toEqual({ whole: 3 });
    // The same hypotheses as a padded batch with per-utterance lengths.
    const { corpus } = await TrainingCorpus.open(store);
    const batched = new Map((await transcribeEntries(model, corpus, corpus.entries, 16000 * 8)).map((h) => [h.entry.id, h.text]));
    for (const u of report.utterances) expect(u.hyp, u.id).toBe(batched.get(u.id));
    const { entries } = parseManifest(textOf(await store.read(MANIFEST_FILE))!);
    const broken = new MemoryStore();
    for (const [k, v] of store.files) broken.files.set(k, v);
    broken.files.set(entries[1].audio, bytesOf('RIFF....WAVEjunk'));
    const named = Object.assign(broken, { name: 'sets/tiny' }) as MemoryStore & EvalStore;
    await expect(evaluateSet(model, named, { warmup: false })).rejects.toThrow(
      new RegExp(`^sets/tiny/manifest\\.jsonl line 2 \\(${entries[1].id}\\): audio ${entries[1].audio} does not decode: `),
    );
    broken.files.delete(entries[0].audio);
    await expect(evaluateSet(model, named, { warmup: false })).rejects.toThrow(`sets/tiny/manifest.jsonl line 1 (${entries[0].id}): audio ${entries[0].audio} is missing`);
    model.release();
  });
});
