// Pure helpers of `lab bench-transcribe` (the Transcribe page measured in headless Chromium): the page's live stats
// read back as numbers, per-push rows summed up (p50/p95, real-time factor), and a long stream's compute per chunk
// in its first and last minute. No DOM, no Node: the command (src/cli/commands/bench-transcribe.ts) feeds them.

/** Mean, p50, p95 and max (nearest rank, as the recognizer's own chunk summary). */
export interface Quantiles {
  n: number;
  mean: number;
  p50: number;
  p95: number;
  max: number;
}

/** Of the finite values (a stat the page showed as '–' is NaN and left out). */
export function quantiles(values: readonly number[]): Quantiles {
  const xs = values.filter(Number.isFinite);
  if (!xs.length) return { n: 0, mean: NaN, p50: NaN, p95: NaN, max: NaN };
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, mean: s.reduce((a, b) => a + b, 0) / s.length, p50: q(0.5), p95: q(0.95), max: s[s.length - 1] };
}

/** '123 ms' -> 123, '0.042' -> 0.042, '12.5 s' -> 12.5, '–' (nothing yet) -> NaN. */
export function statNumber(text: string | null | undefined): number {
  const m = /-?\d+(\.\d+)?/.exec(text ?? '');
  return m ? Number(m[0]) : NaN;
}

/** '96.0 KiB' -> 98304, '1.50 MiB' -> 1572864 (the page's carried-state stat); NaN when it shows nothing. */
export function statBytes(text: string | null | undefined): number {
  const m = /(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB)\b/.exec(text ?? '');
  if (!m) return NaN;
  const scale = { B: 1, KiB: 1024, MiB: 2 ** 20, GiB: 2 ** 30 }[m[2] as 'B' | 'KiB' | 'MiB' | 'GiB'];
  return Number(m[1]) * scale;
}

/** One push of the live stream as the page showed it (its stats panel, read when the chunk counter moved). */
export interface LivePush {
  /** Stream time at the end of the push, s. */
  streamSeconds: number;
  /** Audio in the push, ms (a push catching up holds several chunks). */
  audioMs: number;
  computeMs: number;
  /** Audio captured -> text ready, as the recognizer reports it (excludes the wait in the ring: `backlogMs`). */
  latencyMs: number;
  /** Audio waiting in the ring and the worker when the push was reported, ms. */
  backlogMs: number;
  stateBytes: number;
}

export interface LiveSummary {
  pushes: number;
  /** Pushes of more than one chunk (the worker was catching up). */
  catchUpPushes: number;
  audioSeconds: number;
  computeSeconds: number;
  /** Compute seconds / audio seconds over the pushes summed up. */
  rtf: number;
  computeMs: Quantiles;
  latencyMs: Quantiles;
  backlogMs: Quantiles;
  /** Carried state at the first and the last push, bytes. */
  stateBytes: { first: number; last: number };
}

/** Pushes summed up; those ending at or before `skipSeconds` of stream time (pipeline compiles) are left out. */
export function summariseLive(pushes: readonly LivePush[], chunkMs: number, skipSeconds = 0): LiveSummary {
  const rows = pushes.filter((p) => p.streamSeconds > skipSeconds && p.audioMs > 0);
  const audioMs = rows.reduce((a, p) => a + p.audioMs, 0);
  const computeMs = rows.reduce((a, p) => a + p.computeMs, 0);
  return {
    pushes: rows.length,
    catchUpPushes: rows.filter((p) => p.audioMs > chunkMs * 1.5).length,
    audioSeconds: audioMs / 1000,
    computeSeconds: computeMs / 1000,
    rtf: audioMs ? computeMs / audioMs : NaN,
    computeMs: quantiles(rows.map((p) => p.computeMs)),
    latencyMs: quantiles(rows.map((p) => p.latencyMs)),
    backlogMs: quantiles(rows.map((p) => p.backlogMs)),
    stateBytes: { first: rows[0]?.stateBytes ?? NaN, last: rows[rows.length - 1]?.stateBytes ?? NaN },
  };
}

/** One chunk of the long stream (the page's long-stream export). */
export interface StreamPointLike {
  /** Stream time at the end of the chunk, s. */
  t: number;
  computeMs: number;
  stateBytes: number;
}

export interface MinuteWindow {
  /** Stream time the window covers, s (end exclusive of the next window's chunks). */
  from: number;
  to: number;
  chunks: number;
  meanComputeMs: number;
  p95ComputeMs: number;
  /** Carried state at the window's last chunk, bytes. */
  stateBytes: number;
}

export interface FirstLast {
  /** Stream seconds reached (the last chunk's end). */
  streamSeconds: number;
  first: MinuteWindow;
  last: MinuteWindow;
  /** Last window's mean compute per chunk over the first's (1 = flat). */
  ratio: number;
  /** The stream was shorter than two windows: they share chunks (the ratio then says little). */
  overlapping: boolean;
}

function windowOf(points: readonly StreamPointLike[], from: number, to: number): MinuteWindow {
  const inside = points.filter((p) => p.t > from && p.t <= to);
  const q = quantiles(inside.map((p) => p.computeMs));
  return { from, to, chunks: inside.length, meanComputeMs: q.mean, p95ComputeMs: q.p95, stateBytes: inside[inside.length - 1]?.stateBytes ?? NaN };
}

/**
 * Mean compute per chunk in the first `windowSeconds` of stream time and in the last `windowSeconds` reached (a
 * stream cut short by running out of memory ends where it stopped), and their ratio. The first `skipChunks` chunks
 * (pipeline compiles, seconds each on a CPU adapter) are left out of the first window. Undefined for no points.
 * A stream shorter than two windows gets overlapping ones.
 */
export function firstVsLast(points: readonly StreamPointLike[], windowSeconds = 60, skipChunks = 0): FirstLast | undefined {
  if (!points.length) return undefined;
  const end = points[points.length - 1].t;
  const measured = points.slice(Math.min(skipChunks, points.length - 1));
  const start = measured[0].t - 1e-9;
  const first = windowOf(measured, start, Math.min(end, start + windowSeconds));
  const last = windowOf(measured, Math.max(start, end - windowSeconds), end);
  return { streamSeconds: end, first, last, ratio: last.meanComputeMs / first.meanComputeMs, overlapping: last.from < first.to };
}

/** A lead of silence, then each clip with `gap` seconds of silence after it: one 16-bit-WAV-ready buffer. */
export function joinWithSilence(clips: readonly Float32Array[], sampleRate: number, leadSeconds: number, gapSeconds: number): Float32Array {
  const lead = Math.round(leadSeconds * sampleRate);
  const gap = Math.round(gapSeconds * sampleRate);
  const out = new Float32Array(lead + clips.reduce((a, c) => a + c.length + gap, 0));
  let at = lead;
  for (const c of clips) {
    out.set(c, at);
    at += c.length + gap;
  }
  return out;
}
