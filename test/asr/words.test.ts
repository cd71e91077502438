import { describe, expect, it } from 'vitest';
import { ctcSpikes, greedyDecode, greedyTranscript, timedWords } from '../../src/asr/greedy.ts';
import { VOCAB } from '../../src/speech/vocab.ts';

const id = (c: string) => VOCAB.indexOf(c === ' ' ? '|' : c);

/** Log-probabilities (T, V) whose best label per frame is `path[t]` ('-' = blank), as log-softmax rows. */
function matrix(path: string[], V = 30): Float32Array {
  const lp = new Float32Array(path.length * V);
  path.forEach((c, t) => {
    const best = c === '-' ? 0 : id(c);
    const logits = Array.from({ length: V }, (_, v) => (v === best ? 4 : Math.sin(7 * t + v)));
    const lse = Math.log(logits.reduce((s, x) => s + Math.exp(x), 0));
    logits.forEach((x, v) => (lp[t * V + v] = x - lse));
  });
  return lp;
}

describe('word times from the CTC spikes', () => {
  // frame:  0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16
  const path = ['-', 'H', 'H', '-', 'I', ' ', ' ', '-', 'T', 'H', 'E', 'E', '-', 'E', '-', '-', ' '];

  it('a word spans its first character\'s first frame to its last character\'s last frame (20 ms frames)', () => {
    const lp = matrix(path);
    const r = greedyTranscript(lp, 30, path.length, 0.02);
    expect(r.text).toBe('HI THEE');
    expect(r.words.map((w) => w.word)).toEqual(['HI', 'THEE']);
    // HI: H from frame 1, I ends at frame 4 -> [0.02, 0.10); THEE: T at frame 8, the second E ends at frame 13.
    expect(r.words[0].start).toBeCloseTo(0.02, 12);
    expect(r.words[0].end).toBeCloseTo(0.1, 12);
    expect(r.words[1].start).toBeCloseTo(0.16, 12);
    expect(r.words[1].end).toBeCloseTo(0.28, 12);
    // The text is the plain greedy decoding's.
    expect(greedyDecode(lp, [1, path.length, 30], [path.length])).toEqual([r.text]);
  });

  it('spikes merge repeats and split on blanks; only the frames given count', () => {
    const ids = path.map((c) => (c === '-' ? 0 : id(c)));
    expect(ctcSpikes(ids).map((s) => [VOCAB[s.id], s.first, s.last])).toEqual([
      ['H', 1, 2], ['I', 4, 4], ['|', 5, 6], ['T', 8, 8], ['H', 9, 9], ['E', 10, 11], ['E', 13, 13], ['|', 16, 16],
    ]);
    expect(greedyTranscript(matrix(path), 30, 11, 0.02).words).toEqual([
      { word: 'HI', start: 0.02, end: 0.1 },
      { word: 'THE', start: 0.16, end: 0.22 },
    ]);
    expect(timedWords([], 0.02)).toEqual([]);
    expect(timedWords([1, 1, 0, 1], 0.02)).toEqual([]);
  });

  it('an apostrophe belongs to its word; leading and repeated boundaries make no empty word', () => {
    const ids = [" ", 'I', "'", 'M', ' ', '-', ' ', 'O', 'K'].map((c) => (c === '-' ? 0 : id(c)));
    expect(timedWords(ids, 0.02).map((w) => [w.word, +(w.start / 0.02).toFixed(6), +(w.end / 0.02).toFixed(6)])).toEqual([
      ["I'M", 1, 4],
      ['OK', 7, 9],
    ]);
  });
});
