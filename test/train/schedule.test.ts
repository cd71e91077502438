import { describe, expect, it } from 'vitest';
import { learningRate } from '../../src/train/schedule.ts';

describe('learning-rate schedules', () => {
  it('linear: warms up to the peak, then decays linearly to the final value at the last update', () => {
    const s = { kind: 'linear' as const, lr: 1e-3, total: 100, warmup: 9 };
    expect(learningRate(s, 1)).toBeCloseTo(1e-4, 12); // (0 + 1) / (9 + 1) of the peak
    expect(learningRate(s, 10)).toBeCloseTo(1e-3, 12);
    expect(learningRate(s, 55)).toBeCloseTo(1e-3 * (1 - 45 / 91), 12);
    expect(learningRate(s, 101)).toBeCloseTo(0, 12);
  });
  it('cosine: half the peak halfway through the decay, the final value at the end', () => {
    const s = { kind: 'cosine' as const, lr: 2e-3, total: 110, warmup: 10, finalScale: 0.1 };
    expect(learningRate(s, 11)).toBeCloseTo(2e-3, 12);
    expect(learningRate(s, 61)).toBeCloseTo(2e-4 + (2e-3 - 2e-4) / 2, 12);
    expect(learningRate(s, 111)).toBeCloseTo(2e-4, 12);
  });
  it("tri-stage (fairseq's fine-tuning): initial scale, hold at the peak, exponential decay to the final scale", () => {
    const s = { kind: 'tri-stage' as const, lr: 1e-3, total: 100, warmup: 10, hold: 40, initScale: 0.01, finalScale: 0.05 };
    expect(learningRate(s, 1)).toBeCloseTo(1e-5, 12);
    expect(learningRate(s, 6)).toBeCloseTo(1e-5 + (1e-3 - 1e-5) * 0.5, 12);
    expect(learningRate(s, 11)).toBeCloseTo(1e-3, 12);
    expect(learningRate(s, 50)).toBeCloseTo(1e-3, 12);
    expect(learningRate(s, 76)).toBeCloseTo(1e-3 * Math.pow(0.05, 0.5), 12);
    expect(learningRate(s, 101)).toBeCloseTo(5e-5, 12);
  });
});
