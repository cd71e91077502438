import { describe, expect, it } from 'vitest';
import { bestPath, greedyDecode } from '../../src/asr/greedy.ts';
import { charErrors, editDistance, errorRates, wordErrors } from '../../src/asr/wer.ts';

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
