import { describe, expect, it } from 'vitest';
import { firstVsLast, joinWithSilence, quantiles, statBytes, statNumber, summariseLive, type LivePush } from '../../src/bench/transcribe-bench.ts';

describe('bench-transcribe helpers', () => {
  it('quantiles by nearest rank', () => {
    const q = quantiles([5, 1, 4, 2, 3, 10, 9, 8, 7, 6]);
    expect(q).toEqual({ n: 10, mean: 5.5, p50: 6, p95: 10, max: 10 });
    const one = quantiles([7]);
    expect([one.p50, one.p95, one.mean]).toEqual([7, 7, 7]);
    expect(quantiles([]).n).toBe(0);
    expect(quantiles([]).p50).toBeNaN();
    expect(quantiles([NaN, 2, 4])).toEqual({ n: 2, mean: 3, p50: 4, p95: 4, max: 4 });
  });

  it('reads the page stats back as numbers', () => {
    expect(statNumber('123 ms')).toBe(123);
    expect(statNumber('0.042')).toBe(0.042);
    expect(statNumber('12.5 s')).toBe(12.5);
    expect(statNumber('160 ms of audio')).toBe(160);
    expect(statNumber('–')).toBeNaN();
    expect(statBytes('96.0 KiB')).toBe(98304);
    expect(statBytes('1.50 MiB')).toBe(1572864);
    expect(statBytes('–')).toBeNaN();
  });

  it('sums up live pushes: compiles skipped, real-time factor over the audio, catch-up pushes counted', () => {
    const push = (streamSeconds: number, audioMs: number, computeMs: number, latencyMs: number, backlogMs = 0): LivePush => ({ streamSeconds, audioMs, computeMs, latencyMs, backlogMs, stateBytes: 1000 });
    const rows = [push(0.16, 160, 900, 960), push(0.32, 160, 16, 60), push(0.48, 160, 32, 80, 10), push(1.44, 960, 48, 100, 30), push(1.6, 160, 24, 70)];
    const all = summariseLive(rows, 160);
    expect(all.pushes).toBe(5);
    expect(all.audioSeconds).toBeCloseTo(1.6, 12);
    expect(all.rtf).toBeCloseTo(1020 / 1600, 12);
    const s = summariseLive(rows, 160, 0.2);
    expect(s.pushes).toBe(4);
    expect(s.catchUpPushes).toBe(1);
    expect(s.audioSeconds).toBeCloseTo(1.44, 12);
    expect(s.computeSeconds).toBeCloseTo(0.12, 12);
    expect(s.rtf).toBeCloseTo(120 / 1440, 12);
    expect(s.computeMs).toEqual({ n: 4, mean: 30, p50: 32, p95: 48, max: 48 });
    expect(s.latencyMs.p50).toBe(80);
    expect(s.backlogMs.max).toBe(30);
  });

  it('first against last minute of a long stream: flat, growing, and cut short', () => {
    // 0.5 s chunks for 180 s: compute 10 ms flat, the first two chunks compile.
    const flat = Array.from({ length: 360 }, (_, i) => ({ t: (i + 1) * 0.5, computeMs: i < 2 ? 5000 : 10, stateBytes: 64 }));
    const f = firstVsLast(flat, 60, 2)!;
    expect(f.streamSeconds).toBe(180);
    expect(f.first.chunks).toBe(120);
    expect(f.first.meanComputeMs).toBe(10);
    expect(f.last.chunks).toBe(120);
    expect(f.last.from).toBe(120);
    expect(f.ratio).toBe(1);
    expect(f.overlapping).toBe(false);
    // A stream shorter than two windows: they overlap.
    const short = firstVsLast(flat.slice(0, 100), 60)!;
    expect([short.first.chunks, short.last.chunks, short.overlapping]).toEqual([100, 100, true]);
    // Without skipping, the compiles dominate the first minute.
    expect(firstVsLast(flat, 60)!.first.meanComputeMs).toBeCloseTo((2 * 5000 + 118 * 10) / 120, 9);
    // Compute growing with stream time (a KV cache), stopped at 150 s (out of memory).
    const grow = Array.from({ length: 300 }, (_, i) => ({ t: (i + 1) * 0.5, computeMs: (i + 1) * 0.5, stateBytes: (i + 1) * 100 }));
    const g = firstVsLast(grow, 60)!;
    expect(g.first.meanComputeMs).toBeCloseTo(30.25, 9); // mean of 0.5..60
    expect(g.last.meanComputeMs).toBeCloseTo(120.25, 9); // mean of 90.5..150
    expect(g.ratio).toBeCloseTo(120.25 / 30.25, 9);
    expect(g.last.stateBytes).toBe(30000);
    expect(firstVsLast([])).toBeUndefined();
  });

  it('joins clips after a lead of silence with gaps', () => {
    const out = joinWithSilence([new Float32Array([1, 2]), new Float32Array([3])], 10, 0.3, 0.1);
    expect([...out]).toEqual([0, 0, 0, 1, 2, 0, 3, 0]);
  });
});
