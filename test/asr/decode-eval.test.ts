// Scoring with the beam search and a language model (evaluate.ts with options.decode): the greedy WER of the same
// frames comes along, and equals a plain greedy evaluation.
import { describe, expect, it } from 'vitest';
import { evaluateSet } from '../../src/asr/evaluate.ts';
import { NgramLm } from '../../src/asr/ngram.ts';
import { MANIFEST_FILE, parseManifest } from '../../src/speech/manifest.ts';
import { textOf } from '../../src/speech/store.ts';
import { evalCorpus } from '../train/fixtures.ts';
import { testGpu } from '../gpu.ts';
import { asrConfig, ctcModel } from './fixtures.ts';

describe('eval with --beam / --lm', () => {
  it('reports the beam+LM scores and the greedy scores of the same frames', async () => {
    const gpu = await testGpu();
    const model = ctcModel(gpu, asrConfig('mamba'));
    const store = await evalCorpus(3);
    const texts = parseManifest(textOf(await store.read(MANIFEST_FILE))!).entries.map((e) => e.text);
    const lm = NgramLm.build(texts);
    const plain = await evaluateSet(model, store, { warmup: false });
    expect(plain.greedy).toBeUndefined();
    const withLm = await evaluateSet(model, store, { warmup: false, decode: { beam: 4, lm, lmWeight: 1, wordBonus: 2 } });
    expect(withLm.greedy).toEqual({ wer: plain.wer, cer: plain.cer, words: plain.words, chars: plain.chars });
    for (const u of withLm.utterances) expect(u.hyp.split(' ').every((w) => /^[A-Z']*$/.test(w))).toBe(true);
    model.release();
  });
});
