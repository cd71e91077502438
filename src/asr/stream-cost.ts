// The cost of a long stream, the paper's argument made measurable: feed one causal model a long stream (a file
// looped, or seeded noise) chunk by chunk as fast as it goes, through the same Recognizer as the microphone, and
// record per chunk the compute time and the carried state's size against stream time. Mamba's state is constant
// and its compute per chunk flat; the causal Transformer's KV cache grows with every chunk and so does its attention
// cost, until the device (or a given state budget) runs out, which the result marks.
import { LabError } from '../gpu/errors.ts';
import type { HubertModel } from '../models/hubert.ts';
import { SAMPLE_RATE } from '../speech/audio.ts';
import { throwIfAborted, type ProgressFn } from '../speech/store.ts';
import { Recognizer } from './recognizer.ts';
import { DEFAULT_CHUNK_SAMPLES, isOutOfMemory } from './transcribe.ts';

export interface StreamCostOptions {
  /** Stream length in seconds. */
  seconds: number;
  /** Samples per chunk (default 160 ms). */
  chunkSamples?: number;
  /** 16 kHz audio to loop; default: seeded white noise at a speech-like level. */
  audio?: Float32Array;
  /** Stop and mark the stream when the carried state's buffers exceed this many bytes (a device budget). */
  stateLimitBytes?: number;
  /** Stop the stream (marked as such) after this much wall time, seconds: a growing model can take hours. */
  maxWallSeconds?: number;
  /** Chunks run before the measured stream to compile the pipelines (default 3; not recorded). */
  warmupChunks?: number;
  signal?: AbortSignal;
  /** (stream seconds done, stream seconds in all, what). */
  onProgress?: ProgressFn;
  /** Each measured chunk, as it comes (for a live chart). */
  onPoint?: (p: StreamCostPoint) => void;
}

export interface StreamCostPoint {
  /** Stream time at the end of the chunk, seconds. */
  streamSeconds: number;
  computeMs: number;
  latencyMs: number;
  stateBytes: number;
  stateAllocatedBytes: number;
}

export interface StreamCostResult {
  chunkSamples: number;
  chunks: number;
  /** Stream seconds reached (the whole stream unless it ran out of memory). */
  streamSeconds: number;
  points: StreamCostPoint[];
  /** Where the stream stopped for lack of memory, and why. */
  outOfMemory?: { streamSeconds: number; stateBytes: number; message: string };
  /** Where the wall-time budget stopped the stream. */
  stoppedAt?: { streamSeconds: number; reason: string };
  /**
   * The stream time from which the mean compute per chunk over the trailing 10 s stays above the chunk's duration
   * to the end: from there a live stream falls further and further behind (a passing slow spell does not count).
   */
  behindRealTimeAt?: number;
  wallSeconds: number;
}

/** Seeded white noise (mulberry32), amplitude `level`. */
export function noise(samples: number, seed = 1, level = 0.05): Float32Array {
  const out = new Float32Array(samples);
  let s = seed | 0;
  for (let i = 0; i < samples; i++) {
    s = (s + 0x6d2b79f5) | 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    out[i] = level * (2 * (((x ^ (x >>> 14)) >>> 0) / 4294967296) - 1);
  }
  return out;
}

/** Run the stream; the model stays the caller's. */
export async function streamCost(model: HubertModel, opts: StreamCostOptions): Promise<StreamCostResult> {
  const chunk = Math.floor(opts.chunkSamples ?? DEFAULT_CHUNK_SAMPLES);
  if (!(chunk >= 1)) throw new LabError('bad-input', `chunk of ${opts.chunkSamples} samples: it must be at least 1`);
  if (!(opts.seconds > 0)) throw new LabError('bad-input', `stream of ${opts.seconds} s: it must be positive`);
  const source = opts.audio && opts.audio.length > 0 ? opts.audio : noise(60 * SAMPLE_RATE);
  const total = Math.round(opts.seconds * SAMPLE_RATE);
  const piece = new Float32Array(chunk);
  let at = 0;
  const next = (): Float32Array => {
    for (let i = 0; i < chunk; i++) piece[i] = source[(at + i) % source.length];
    at = (at + chunk) % source.length;
    return piece;
  };
  const t0 = performance.now();
  const warm = new Recognizer(model, { endpoint: false });
  try {
    for (let i = 0; i < (opts.warmupChunks ?? 3); i++) await warm.push(next());
  } finally {
    warm.release();
  }
  at = 0;
  const r = new Recognizer(model, { endpoint: false });
  const points: StreamCostPoint[] = [];
  let outOfMemory: StreamCostResult['outOfMemory'];
  let stoppedAt: StreamCostResult['stoppedAt'];
  const tStream = performance.now();
  const { gpu } = model;
  try {
    let lastProgress = 0;
    for (let done = 0; done < total; done += chunk) {
      throwIfAborted(opts.signal);
      gpu.device.pushErrorScope('out-of-memory');
      let error: unknown, u: Awaited<ReturnType<Recognizer['push']>> | undefined;
      try {
        u = await r.push(next());
      } catch (e) {
        error = e;
      }
      const scoped = await gpu.device.popErrorScope();
      const streamSeconds = (done + chunk) / SAMPLE_RATE;
      if (scoped || (error !== undefined && isOutOfMemory(error))) {
        const message = scoped ? `out of memory: ${scoped.message}` : (error as Error).message;
        outOfMemory = { streamSeconds: done / SAMPLE_RATE, stateBytes: points.length ? points[points.length - 1].stateAllocatedBytes : 0, message };
        gpu.pool.trim();
        break;
      }
      if (error !== undefined) throw error;
      const c = u!.chunk;
      const p = { streamSeconds, computeMs: c.computeMs, latencyMs: c.latencyMs, stateBytes: c.stateBytes, stateAllocatedBytes: c.stateAllocatedBytes };
      points.push(p);
      opts.onPoint?.(p);
      if (opts.stateLimitBytes !== undefined && c.stateAllocatedBytes > opts.stateLimitBytes) {
        outOfMemory = { streamSeconds, stateBytes: c.stateAllocatedBytes, message: `the carried state (${c.stateAllocatedBytes} bytes) is over the budget of ${opts.stateLimitBytes} bytes` };
        break;
      }
      if (opts.maxWallSeconds !== undefined && (performance.now() - tStream) / 1000 > opts.maxWallSeconds && done + chunk < total) {
        stoppedAt = { streamSeconds, reason: `the wall-time budget of ${opts.maxWallSeconds} s ran out` };
        opts.onProgress?.(streamSeconds, total / SAMPLE_RATE, 'stopped');
        break;
      }
      if (streamSeconds - lastProgress >= 10 || done + chunk >= total) {
        lastProgress = streamSeconds;
        opts.onProgress?.(Math.min(streamSeconds, total / SAMPLE_RATE), total / SAMPLE_RATE, 'streaming');
      }
    }
  } finally {
    r.release();
  }
  return {
    chunkSamples: chunk,
    chunks: points.length,
    streamSeconds: points.length ? points[points.length - 1].streamSeconds : 0,
    points,
    outOfMemory,
    stoppedAt,
    behindRealTimeAt: behindFrom(points, chunk / SAMPLE_RATE),
    wallSeconds: (performance.now() - t0) / 1000,
  };
}

/** See StreamCostResult.behindRealTimeAt. */
export function behindFrom(points: readonly StreamCostPoint[], chunkSeconds: number): number | undefined {
  const n = Math.max(10, Math.ceil(10 / chunkSeconds));
  if (points.length < n) return undefined;
  let sum = 0;
  let from: number | undefined;
  points.forEach((p, i) => {
    sum += p.computeMs;
    if (i >= n) sum -= points[i - n].computeMs;
    if (i < n - 1) return;
    if (sum / n > chunkSeconds * 1000) from ??= points[i - n + 1].streamSeconds - chunkSeconds;
    else from = undefined;
  });
  return from;
}

export interface CostRow {
  /** The window of stream time [from, to) in seconds. */
  from: number;
  to: number;
  chunks: number;
  meanComputeMs: number;
  maxComputeMs: number;
  meanLatencyMs: number;
  /** State at the window's end. */
  stateBytes: number;
  stateAllocatedBytes: number;
}

/** The points in `rows` windows of equal stream time (fewer when the stream stopped early). */
export function costRows(points: readonly StreamCostPoint[], windowSeconds: number): CostRow[] {
  const rows: CostRow[] = [];
  let cur: StreamCostPoint[] = [];
  let from = 0;
  const flush = (to: number) => {
    if (!cur.length) return;
    const last = cur[cur.length - 1];
    rows.push({
      from,
      to,
      chunks: cur.length,
      meanComputeMs: cur.reduce((s, p) => s + p.computeMs, 0) / cur.length,
      maxComputeMs: Math.max(...cur.map((p) => p.computeMs)),
      meanLatencyMs: cur.reduce((s, p) => s + p.latencyMs, 0) / cur.length,
      stateBytes: last.stateBytes,
      stateAllocatedBytes: last.stateAllocatedBytes,
    });
    cur = [];
  };
  for (const p of points) {
    while (p.streamSeconds > from + windowSeconds + 1e-9) {
      flush(from + windowSeconds);
      from += windowSeconds;
    }
    cur.push(p);
  }
  flush(points.length ? Math.min(from + windowSeconds, points[points.length - 1].streamSeconds) : 0);
  return rows;
}
