import { describe, expect, it } from 'vitest';
import { behindFrom, costRows, noise, streamCost } from '../../src/asr/stream-cost.ts';
import { testGpu } from '../gpu.ts';
import { asrConfig, ctcModel } from './fixtures.ts';

describe('stream cost (long stream, state and compute per chunk)', () => {
  it('mamba: constant state; causal transformer: growing KV cache, stopped and marked at a state budget', async () => {
    const gpu = await testGpu();
    const mamba = ctcModel(gpu, asrConfig('mamba'));
    const m = await streamCost(mamba, { seconds: 4, chunkSamples: 2560, warmupChunks: 1 });
    mamba.release();
    expect(m.chunks).toBe(Math.ceil((4 * 16000) / 2560));
    expect(m.outOfMemory).toBeUndefined();
    expect(new Set(m.points.map((p) => p.stateBytes)).size).toBe(1);
    expect(m.points.every((p) => p.computeMs > 0)).toBe(true);
    expect(m.points[m.points.length - 1].streamSeconds).toBeCloseTo(4, 9);

    const tr = ctcModel(gpu, asrConfig('causal-transformer'));
    const t = await streamCost(tr, { seconds: 4, chunkSamples: 2560, warmupChunks: 1, audio: noise(16000, 3) });
    for (let i = 1; i < t.points.length; i++) expect(t.points[i].stateBytes).toBeGreaterThan(t.points[i - 1].stateBytes);
    // The cache starts with room for 256 frames (5.1 s) and doubles: a budget of the first allocation stops the
    // stream at the chunk that grew it, and says so.
    const budget = t.points[0].stateAllocatedBytes;
    const cut = await streamCost(tr, { seconds: 7, chunkSamples: 2560, warmupChunks: 1, stateLimitBytes: budget });
    tr.release();
    expect(cut.outOfMemory).toMatchObject({ message: expect.stringMatching(/over the budget/) });
    expect(cut.outOfMemory!.stateBytes).toBeGreaterThan(budget);
    expect(cut.streamSeconds).toBeGreaterThan(5);
    expect(cut.streamSeconds).toBeLessThan(6);
    expect(cut.points[cut.points.length - 1].stateAllocatedBytes).toBeGreaterThan(budget);
  });

  it('rows summarise windows of stream time', () => {
    const pts = Array.from({ length: 10 }, (_, i) => ({ streamSeconds: (i + 1) * 0.5, computeMs: i, latencyMs: 2 * i, stateBytes: 100 * i, stateAllocatedBytes: 128 * i }));
    const rows = costRows(pts, 2.5);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ from: 0, to: 2.5, chunks: 5, meanComputeMs: 2, maxComputeMs: 4, meanLatencyMs: 4, stateBytes: 400 });
    expect(rows[1]).toMatchObject({ from: 2.5, to: 5, chunks: 5, stateBytes: 900 });
    expect(costRows([], 1)).toEqual([]);
    // Slower than real time from where the trailing 10 s mean stays above the chunk (a passing spike does not count).
    const at = (ms: number[]) => ms.map((computeMs, i) => ({ streamSeconds: (i + 1) * 1, computeMs, latencyMs: 0, stateBytes: 0, stateAllocatedBytes: 0 }));
    const spike = at([...Array(30).fill(100), 50000, ...Array(30).fill(100)]);
    expect(behindFrom(spike, 1)).toBeUndefined();
    const growing = at(Array.from({ length: 60 }, (_, i) => 100 + 40 * i));
    // The mean of chunks i-9..i is 100 + 40 * (i - 4.5), above 1000 ms from i = 28: the window from chunk 19 (19 s).
    expect(behindFrom(growing, 1)).toBe(19);
    expect(behindFrom(at([2000, 2000]), 1)).toBeUndefined();
    const n = noise(1000, 7);
    expect(Math.max(...n.map(Math.abs))).toBeLessThanOrEqual(0.05);
    expect(noise(1000, 7)).toEqual(n);
  });
});
