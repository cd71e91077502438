import { describe, expect, it } from 'vitest';
import { decodeLogProbs, GreedyDecoder, PrefixBeamSearch } from '../../src/asr/ctc-decode.ts';
import { greedyTranscript } from '../../src/asr/greedy.ts';
import { NgramLm } from '../../src/asr/ngram.ts';
import { VOCAB } from '../../src/speech/vocab.ts';

const V = 30; // the head's outputs: blank, 28 characters and the unused 30th
const FS = 0.02;
const id = (ch: string) => (ch === '_' ? 0 : ch === ' ' ? VOCAB.indexOf('|') : VOCAB.indexOf(ch));

/** Log-probability rows from per-frame {label: probability} (the rest share what is left evenly). */
function matrix(frames: Record<string, number>[]): Float32Array {
  const out = new Float32Array(frames.length * V);
  frames.forEach((f, t) => {
    const given = Object.entries(f);
    const rest = (1 - given.reduce((s, [, p]) => s + p, 0)) / (V - given.length);
    for (let v = 0; v < V; v++) out[t * V + v] = Math.log(rest);
    for (const [ch, p] of given) out[t * V + id(ch)] = Math.log(p);
  });
  return out;
}

/** A seeded generator (mulberry32). */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** A small LM of cats and dogs, for the decoders with a language model. */
const CAT_LM = NgramLm.build(['the cat sat on the mat', 'a cat and a dog', 'the cat ate']);

/** Appends a frame where `ch` has probability p, then a blank frame. */
const sayInto = (frames: Record<string, number>[]) => (ch: string, p = 0.9) => frames.push({ [ch]: p }, { _: 0.9 });

describe('CTC decoders', () => {
  it('the incremental greedy decoder equals greedyTranscript, words and times', () => {
    const r = rng(1);
    for (let trial = 0; trial < 20; trial++) {
      const T = 1 + Math.floor(r() * 80);
      const lp = new Float32Array(T * V).map(() => Math.log(0.01 + r()) * 3);
      const g = greedyTranscript(lp, V, T, FS);
      const d = new GreedyDecoder(FS);
      for (let t = 0; t < T; t++) d.step(lp.subarray(t * V, (t + 1) * V), t);
      expect(d.finish()).toEqual(g);
      expect(decodeLogProbs(lp, V, T, FS)).toEqual(g);
    }
  });

  it('beam search of width 1 without an LM equals greedy when each frame has a label above 1/2', () => {
    const r = rng(7);
    const labels = ['_', '_', '_', ' ', 'A', 'B', 'C', "'"];
    for (let trial = 0; trial < 30; trial++) {
      const T = 1 + Math.floor(r() * 60);
      let prev = '_';
      const frames = Array.from({ length: T }, () => {
        const ch = r() < 0.4 ? prev : labels[Math.floor(r() * labels.length)];
        prev = ch;
        const other = labels[Math.floor(r() * labels.length)];
        return ch === other ? { [ch]: 0.55 + 0.4 * r() } : { [ch]: 0.55 + 0.3 * r(), [other]: 0.1 * r() };
      });
      const lp = matrix(frames);
      const g = greedyTranscript(lp, V, T, FS);
      const b = new PrefixBeamSearch({ beam: 1 }, FS);
      for (let t = 0; t < T; t++) b.step(lp.subarray(t * V, (t + 1) * V), t);
      expect(b.finish()).toEqual(g);
      // A wider beam on such peaked frames finds the same text.
      expect(decodeLogProbs(lp, V, T, FS, { beam: 8 }).text).toBe(g.text);
    }
  });

  it('finds the most probable labelling that the best path misses (the classic example)', () => {
    // Two frames with P(A) = 0.4, P(blank) = 0.6: the best path is blank-blank (""; 0.36), but "A" has
    // probability 0.4*0.4 + 0.4*0.6 + 0.6*0.4 = 0.64.
    const lp = matrix([{ _: 0.6, A: 0.4 - 1e-6 }, { _: 0.6, A: 0.4 - 1e-6 }]);
    expect(greedyTranscript(lp, V, 2, FS).text).toBe('');
    const b = new PrefixBeamSearch({ beam: 4 }, FS);
    b.step(lp.subarray(0, V), 0);
    b.step(lp.subarray(V, 2 * V), 1);
    const hyps = b.hypotheses();
    expect(hyps[0].text).toBe('A');
    expect(Math.exp(hyps[0].score)).toBeCloseTo(0.64, 4);
    expect(hyps.find((h) => h.text === '')!.score).toBeCloseTo(Math.log(0.36), 4);
    const words = b.finish().words;
    expect(words).toEqual([{ word: 'A', start: 0, end: 0.02 }]);
    // "AA" needs a blank between: A _ A frames; a repeat without one collapses.
    const aa = matrix([{ A: 0.9 }, { _: 0.9 }, { A: 0.9 }]);
    expect(decodeLogProbs(aa, V, 3, FS, { beam: 4 }).text).toBe('AA');
    expect(decodeLogProbs(matrix([{ A: 0.9 }, { A: 0.9 }]), V, 2, FS, { beam: 4 }).text).toBe('A');
  });

  it('the LM picks the spelling it knows when the acoustics lean slightly the other way', () => {
    const lm = CAT_LM;
    const frames: Record<string, number>[] = [];
    const say = sayInto(frames);
    for (const ch of 'THE ') say(ch);
    frames.push({ K: 0.5, C: 0.45 }, { _: 0.9 });
    for (const ch of 'AT SAT') say(ch);
    const lp = matrix(frames);
    const T = frames.length;
    expect(greedyTranscript(lp, V, T, FS).text).toBe('THE KAT SAT');
    expect(decodeLogProbs(lp, V, T, FS, { beam: 8 }).text).toBe('THE KAT SAT');
    const withLm = decodeLogProbs(lp, V, T, FS, { beam: 8, lm, lmWeight: 0.5 });
    expect(withLm.text).toBe('THE CAT SAT');
    expect(withLm.words.map((w) => [w.word, w.start, w.end])).toEqual([
      ['THE', 0, 0.1],
      ['CAT', 0.16, 0.26],
      ['SAT', 0.32, 0.42],
    ].map(([w, s, e]) => [w, expect.closeTo(s as number, 9), expect.closeTo(e as number, 9)]));
    // A zero LM weight is the plain beam search; a word bonus alone does not change the spelling.
    expect(decodeLogProbs(lp, V, T, FS, { beam: 8, lm, lmWeight: 0 }).text).toBe('THE KAT SAT');
    expect(decodeLogProbs(lp, V, T, FS, { beam: 8, wordBonus: 2 }).text).toBe('THE KAT SAT');
  });

  it('with an LM, a word it has never seen ends where the acoustics end it (an unfinished word is not free)', () => {
    // Were the word in progress free until it ends, the prefixes that never end one would fill the beam after ZUB:
    // "THE ZUBSATONTHEKOG".
    const lm = CAT_LM;
    const frames: Record<string, number>[] = [];
    for (const ch of 'THE ZUB SAT ON THE KOG') frames.push(ch === ' ' ? { ' ': 0.8, _: 0.18 } : { [ch]: 0.9 }, { _: 0.9 });
    const lp = matrix(frames);
    expect(decodeLogProbs(lp, V, frames.length, FS, { beam: 8, lm, lmWeight: 0.5 }).text).toBe('THE ZUB SAT ON THE KOG');
  });

  it('with a lexicon, only the LM\'s words are spelt: a word it has never seen becomes the nearest known one', () => {
    const lm = CAT_LM;
    const frames: Record<string, number>[] = [];
    // "THE ZAT SAT ON THE DOK": Z and K far more likely than the known words' C and G.
    const say = sayInto(frames);
    for (const ch of 'THE ') say(ch);
    frames.push({ Z: 0.95, C: 0.01 }, { _: 0.9 });
    for (const ch of 'AT SAT ON THE DO') say(ch);
    frames.push({ K: 0.95, G: 0.01 }, { _: 0.9 });
    const lp = matrix(frames);
    const T = frames.length;
    // A light LM leaves them as heard; the lexicon, at the same weight, has only known words to offer.
    expect(decodeLogProbs(lp, V, T, FS, { beam: 8, lm, lmWeight: 0.1 }).text).toBe('THE ZAT SAT ON THE DOK');
    const fixed = decodeLogProbs(lp, V, T, FS, { beam: 8, lm, lmWeight: 0.1, lexicon: true });
    expect(fixed.text).toBe('THE CAT SAT ON THE DOG');
    expect(fixed.words.map((w) => w.word)).toEqual(['THE', 'CAT', 'SAT', 'ON', 'THE', 'DOG']);
    // At every frame the beam holds only prefixes of known words.
    const d = new PrefixBeamSearch({ beam: 8, lm, lmWeight: 0.1, lexicon: true }, FS);
    for (let t = 0; t < T; t++) {
      d.step(lp.subarray(t * V, (t + 1) * V), t);
      for (const h of d.hypotheses()) {
        const words = h.text.split(' ').filter(Boolean);
        words.slice(0, -1).forEach((w) => expect(lm.wordId(w), `${h.text} at frame ${t}`).toBeDefined());
        if (words.length) expect(lm.isPrefix(words[words.length - 1]), `${h.text} at frame ${t}`).toBe(true);
      }
    }
  });

  it('with a lexicon, a segment that stops inside a word ends before it', () => {
    const lm = NgramLm.build(['the cat sat on the mat']);
    const frames: Record<string, number>[] = [];
    for (const ch of 'THE MA') frames.push({ [ch]: 0.99 }, { _: 0.99 });
    const lp = matrix(frames);
    // prune 5: no frame offers a T to end MAT with. A beam of 8 keeps "THE" too, and ends there; a beam of 1 keeps
    // only "THE MA", and drops the unfinished word.
    expect(decodeLogProbs(lp, V, frames.length, FS, { beam: 8, lm, lmWeight: 0.5, prune: 5 }).text).toBe('THE MA');
    for (const beam of [8, 1]) expect(decodeLogProbs(lp, V, frames.length, FS, { beam, lm, lmWeight: 0.5, prune: 5, lexicon: true }).text).toBe('THE');
  });

  it('a lexicon without a language model is refused in one line', () => {
    expect(() => decodeLogProbs(matrix([{ A: 0.9 }]), V, 1, FS, { beam: 8, lexicon: true })).toThrow(/a lexicon needs a language model/);
  });

  it('a leading or repeated word boundary adds no empty word', () => {
    const lp = matrix([{ ' ': 0.9 }, { A: 0.9 }, { ' ': 0.9 }, { _: 0.9 }, { ' ': 0.9 }, { B: 0.9 }, { ' ': 0.9 }]);
    for (const beam of [0, 1, 4]) expect(decodeLogProbs(lp, V, 7, FS, { beam }).words.map((w) => w.word)).toEqual(['A', 'B']);
  });
});
