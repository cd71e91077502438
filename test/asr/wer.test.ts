import { describe, expect, it } from 'vitest';
import { bestPath, greedyDecode } from '../../src/asr/greedy.ts';
import { align, alignChars, alignmentLines, alignWords, charErrors, editDistance, errorRates, tallyEdits, wordErrors } from '../../src/asr/wer.ts';
import { seeded } from '../../src/kernels/random.ts';

describe('error rates', () => {
  it('counts substitutions, deletions and insertions', () => {
    expect(editDistance([...'kitten'], [...'sitting'])).toBe(3);
    expect(wordErrors('THE CAT SAT ON THE MAT', 'THE CAT SAT ON MAT')).toEqual({ edits: 1, length: 6 });
    expect(wordErrors('A B C', 'X A B C D')).toEqual({ edits: 2, length: 3 });
    expect(charErrors('AB CD', 'AB CE')).toEqual({ edits: 1, length: 5 });
    expect(wordErrors('A B', '')).toEqual({ edits: 2, length: 2 });
  });
  it('sums edits over the corpus (not a mean of ratios)', () => {
    const r = errorRates([
      { ref: 'A B C D', hyp: 'A B C D' },
      { ref: 'E', hyp: 'F' },
    ]);
    expect(r.wer).toBeCloseTo(1 / 5, 12);
    expect(r.words).toBe(5);
  });
});

describe('alignment with substitutions, deletions and insertions', () => {
  it('names each edit', () => {
    const a = alignWords('THE CAT SAT ON THE MAT TODAY', 'THE BAT SAT THE MAT TODAY AGAIN');
    expect(a.tally).toEqual({ substitutions: 1, deletions: 1, insertions: 1, length: 7 });
    expect(a.steps.map((s) => s.op)).toEqual(['ok', 'sub', 'ok', 'del', 'ok', 'ok', 'ok', 'ins']);
    expect(a.steps[1]).toEqual({ op: 'sub', ref: 'CAT', hyp: 'BAT' });
    expect(a.steps[3]).toEqual({ op: 'del', ref: 'ON' });
    expect(a.steps[7]).toEqual({ op: 'ins', hyp: 'AGAIN' });
    expect(alignWords('A B', '').tally).toEqual({ substitutions: 0, deletions: 2, insertions: 0, length: 2 });
    expect(alignWords('', 'A').tally).toEqual({ substitutions: 0, deletions: 0, insertions: 1, length: 0 });
    expect(alignChars('AB CD', 'AB CE').tally).toEqual({ substitutions: 1, deletions: 0, insertions: 0, length: 5 });
  });

  it('its edits are the edit distance, on random strings', () => {
    const rand = seeded(11);
    for (let k = 0; k < 200; k++) {
      const word = () => Array.from({ length: Math.floor(rand() * 8) }, () => 'ABC'[Math.floor(rand() * 3)]);
      const [ref, hyp] = [word(), word()];
      const { steps, tally } = align(ref, hyp);
      expect(tallyEdits(tally)).toBe(editDistance(ref, hyp));
      // The steps spell both sequences back.
      expect(steps.filter((s) => s.ref !== undefined).map((s) => s.ref)).toEqual(ref);
      expect(steps.filter((s) => s.hyp !== undefined).map((s) => s.hyp)).toEqual(hyp);
      expect(steps.filter((s) => s.op !== 'ok').length).toBe(tallyEdits(tally));
    }
  });

  it('prints the alignment sclite style', () => {
    expect(alignmentLines(alignWords('THE CAT SAT', 'THE BATS SAT NOW').steps)).toEqual({
      ref: 'the CAT  sat ***',
      hyp: 'the BATS sat NOW',
    });
  });

  it('agrees with errorRates on a corpus', () => {
    const pairs = [
      { ref: 'A B C D', hyp: 'A X C' },
      { ref: 'E', hyp: 'E F' },
    ];
    const w = pairs.map((p) => alignWords(p.ref, p.hyp).tally);
    const c = pairs.map((p) => alignChars(p.ref, p.hyp).tally);
    const r = errorRates(pairs);
    expect(r.wer).toBeCloseTo(w.reduce((s, t) => s + tallyEdits(t), 0) / 5, 12);
    expect(r.cer).toBeCloseTo(c.reduce((s, t) => s + tallyEdits(t), 0) / c.reduce((s, t) => s + t.length, 0), 12);
    expect(w[0]).toEqual({ substitutions: 1, deletions: 1, insertions: 0, length: 4 });
  });
});

describe('greedy CTC decoding', () => {
  it('merges repeats, drops blanks, reads only each utterance\'s frames and the vocabulary\'s labels', () => {
    const V = 30;
    // frames: H H blank I | (29 = outside the vocabulary, never chosen) ; label ids: H = 9, I = 10, | = 1
    const frames = [9, 9, 0, 10, 1, 1, 10];
    const lp = new Float32Array(frames.length * V).fill(-10);
    frames.forEach((id, t) => {
      lp[t * V + id] = -0.1;
      lp[t * V + 29] = 5; // the unused 30th output, larger than all: ignored
    });
    expect(Array.from(bestPath(lp, V, 4))).toEqual([9, 9, 0, 10]);
    expect(greedyDecode(lp, [1, frames.length, V], [5])).toEqual(['HI']);
    expect(greedyDecode(lp, [1, frames.length, V], [7])).toEqual(['HI I']);
  });
});
