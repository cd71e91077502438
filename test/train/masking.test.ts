import { describe, expect, it } from 'vitest';
import { rng } from '../../src/speech/rng.ts';
import { PRETRAIN_MASK, spanMask } from '../../src/train/masking.ts';

describe('HuBERT span masking', () => {
  it('masks only inside each utterance, in runs of at least the span, deterministically for a seed', () => {
    const lengths = [250, 37, 11, 9];
    const l = 260;
    const m = spanMask(lengths, l, PRETRAIN_MASK, rng(7));
    expect(spanMask(lengths, l, PRETRAIN_MASK, rng(7))).toEqual(m);
    lengths.forEach((len, b) => {
      const row = Array.from(m.subarray(b * l, (b + 1) * l));
      expect(row.slice(len).every((x) => x === 0)).toBe(true);
      const span = Math.min(PRETRAIN_MASK.span, len);
      // every masked run is at least one span long (spans may merge)
      const runs = row.slice(0, len).join('').split('0').filter(Boolean).map((r) => r.length);
      expect(runs.length).toBeGreaterThan(0);
      for (const r of runs) expect(r).toBeGreaterThanOrEqual(span);
    });
  });
  it('masks about half of long utterances at p = 0.8, span 10 (overlaps merge), as fairseq', () => {
    const l = 500;
    const rand = rng(3);
    let masked = 0;
    for (let i = 0; i < 200; i++) masked += spanMask([l], l, PRETRAIN_MASK, rand).reduce((a, b) => a + b, 0);
    // expected share 1 - (1 - 0.08)^10 ~ 0.57 for independent starts; sampling without replacement and the edge lower it a little
    expect(masked / (200 * l)).toBeGreaterThan(0.5);
    expect(masked / (200 * l)).toBeLessThan(0.6);
  });
  it('masks nothing at probability 0 and without minimum spans', () => {
    expect(spanMask([40], 40, { prob: 0, span: 10 }, rng(1)).every((x) => x === 0)).toBe(true);
  });
});
