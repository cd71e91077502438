import { describe, expect, it } from 'vitest';
import { lmFromText, NgramLm, sentencesOf } from '../../src/asr/ngram.ts';

const CORPUS = [
  'the cat sat on the mat',
  'the dog sat on the log',
  'a cat and a dog',
  'the cat ate the fish',
  'she saw the cat on the mat',
  "the dog's bone was on the log",
];

describe('word n-gram LM (interpolated Witten-Bell, character fallback)', () => {
  const lm = NgramLm.build(CORPUS);

  it('probabilities over the vocabulary, </s> and <unk> sum to 1 for seen, unseen and start contexts', () => {
    const ids = lm.words.map((_, i) => i).filter((i) => lm.words[i] !== '<s>');
    const contexts = [lm.start(), lm.score(lm.start(), 'THE').context, lm.score(lm.score(lm.start(), 'THE').context, 'CAT').context, lm.score(lm.start(), 'ZEBRA').context, [lm.wordId('MAT')!, lm.wordId('DOG')!]];
    for (const ctx of contexts) {
      const sum = ids.reduce((s, id) => s + lm.prob(ctx, id), 0);
      expect(sum).toBeCloseTo(1, 10);
    }
    for (const [order, minCount] of [[1, 1], [2, 1], [4, 1], [3, 2]]) {
      const m = NgramLm.build(CORPUS, { order, minCount });
      const ctx = m.score(m.start(), 'THE').context;
      expect(m.words.map((_, i) => i).filter((i) => i !== 2).reduce((s, id) => s + m.prob(ctx, id), 0)).toBeCloseTo(1, 10);
    }
  });

  it('the character speller is a distribution over spellings (sum over all words up to 3 letters + end tends to 1)', () => {
    // Sum of P_char over every word of length 1..3 is below 1 and grows with the length bound.
    const letters = [..."ABCDEFGHIJKLMNOPQRSTUVWXYZ'"];
    let s1 = 0, s2 = 0;
    for (const a of letters) {
      s1 += Math.exp(lm.spellingLogProb(a));
      for (const b of letters) s2 += Math.exp(lm.spellingLogProb(a + b));
    }
    expect(s1).toBeGreaterThan(0);
    expect(s1 + s2).toBeLessThan(1);
    expect(s1 + s2).toBeGreaterThan(s1);
  });

  it('known sentences score higher than shuffled ones; unknown words are spelled, real-looking ones better', () => {
    for (const s of CORPUS) {
      const text = s.toUpperCase();
      const words = text.split(' ');
      const shuffled = [...words.slice(1), words[0]].join(' ');
      if (shuffled === text) continue;
      expect(lm.sentenceLogProb(text)).toBeGreaterThan(lm.sentenceLogProb(shuffled));
      expect(lm.sentenceLogProb(text)).toBeGreaterThan(lm.sentenceLogProb([...words].reverse().join(' ')));
    }
    expect(lm.sentenceLogProb('THE CAT')).toBeGreaterThan(lm.sentenceLogProb('THE KAT'));
    expect(Number.isFinite(lm.sentenceLogProb('THE ZQXJ'))).toBe(true);
    expect(lm.score(lm.start(), 'THAT').logProb).toBeGreaterThan(lm.score(lm.start(), 'QXZQ').logProb);
  });

  it('round-trips through JSON with the same scores; bad documents are refused', () => {
    const json = JSON.parse(JSON.stringify(lm.toJSON()));
    const back = NgramLm.fromJSON(json);
    expect(back.toJSON()).toEqual(lm.toJSON());
    for (const s of ['THE CAT SAT ON THE LOG', 'A DOG ATE THE ZEBRA', 'MAT THE']) expect(back.sentenceLogProb(s)).toBe(lm.sentenceLogProb(s));
    expect(json).toMatchObject({ format: 'lab-ngram', version: 1, smoothing: 'witten-bell', order: 3, sentences: 6 });
    expect(() => NgramLm.fromJSON({ format: 'x' })).toThrow(/not a language model/);
    expect(() => NgramLm.fromJSON({ ...json, version: 9 })).toThrow(/version 9/);
    expect(() => NgramLm.fromJSON({ ...json, counts: [[1, 2, 3]] })).toThrow(/count tables/);
    expect(() => NgramLm.build(['123', ''])).toThrow(/no sentence/);
    // Pruning rare n-grams makes the file smaller and keeps it a distribution (above).
    const pruned = NgramLm.build(CORPUS, { minCount: 2 }).toJSON();
    expect(pruned.counts[2].length).toBeLessThan(json.counts[2].length);
    expect(pruned.counts[0]).toEqual(json.counts[0]);
  });

  it('normalises text and splits a file into sentences', () => {
    expect(sentencesOf('One two. Three four!\nFive six?  Seven\n\n')).toEqual(['One two.', 'Three four!', 'Five six?', 'Seven']);
    const m = NgramLm.build(sentencesOf('Hello, world. Hello there!'));
    expect(m.vocabulary).toEqual(['HELLO', 'WORLD', 'THERE']);
    expect([m.sentences, m.tokens]).toEqual([2, 4]);
  });

  it("a file's text gives an LM: an lm.json is read, other text is built; a binary file or broken JSON is refused naming it", () => {
    const fromJson = lmFromText(`\uFEFF${JSON.stringify(lm.toJSON())}`, 'lm.json');
    expect(fromJson.toJSON()).toEqual(lm.toJSON());
    const built = lmFromText(CORPUS.join('\n'), 'mine.txt');
    expect(built.toJSON()).toEqual(lm.toJSON());
    expect(() => lmFromText('RIFF\u0000\u0000WAVEfmt ', 'speech.wav')).toThrow(/^speech\.wav: not a text file/);
    expect(() => lmFromText('{"format": "lab-ngram", ', 'cut.json')).toThrow(/^cut\.json: not valid JSON/);
    expect(() => lmFromText('{"format": "other"}', 'x.json')).toThrow(/^x\.json: not a language model of this lab/);
    expect(() => lmFromText('123 456\n', 'digits.txt')).toThrow(/^digits\.txt: .*no sentence/);
  });
});
