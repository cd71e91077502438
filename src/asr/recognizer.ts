// The live recognizer: 16 kHz audio chunks of any size in -> the causal model's streaming step with carried state
// (models/streaming.ts) -> CTC log-probabilities -> an incremental decoder (greedy, or a prefix beam search with an
// optional n-gram LM: ctc-decode.ts) -> partial text (may still change) and final segments (fixed), each word with
// times in seconds of the stream from the CTC spikes.
//
// Samples are buffered and handed to the model in whole hops (320 samples = 20 ms for HuBERT's extractor): a push
// of one sample costs nothing on the GPU, and every chunking of the same audio feeds the model the same steps'
// worth of frames (streaming equals offline: the frames do not depend on the chunking at all).
//
// Endpointing: a frame is silent when its best label is blank (or its blank probability is at least
// `endpoint.blankProb`); a run of silent frames lasting `endpoint.silenceMs` (default 600 ms) ends the segment when
// it holds words: they become final, and the decoder (and the LM's sentence context) starts afresh.
//
// No DOM and no Node APIs: the asr worker and the CLI both use it.
import { LabError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { hopSamples } from '../models/config.ts';
import type { HubertModel } from '../models/hubert.ts';
import { startStream, streamStep, type HubertStreamState } from '../models/streaming.ts';
import { SAMPLE_RATE } from '../speech/audio.ts';
import { throwIfAborted } from '../speech/store.ts';
import { BLANK } from '../speech/vocab.ts';
import { argmax, makeDecoder, type CtcDecoder } from './ctc-decode.ts';
import type { TimedWord } from './greedy.ts';
import type { NgramLm } from './ngram.ts';
import { canStream, PRETRAINED_MESSAGE } from './transcribe.ts';

export type { TimedWord } from './greedy.ts';

export interface EndpointOptions {
  /** A run of silent frames at least this long ends a segment (default 600 ms). */
  silenceMs: number;
  /** A frame also counts as silent when P(blank) is at least this (default: only when blank is its best label). */
  blankProb?: number;
}

export const DEFAULT_SILENCE_MS = 600;

export interface RecognizerOptions {
  /** Beam width: 0 or 1 = greedy (with an LM, a beam of 1 is still a beam search). Default 0. */
  beam?: number;
  lm?: NgramLm;
  /** Weight of the LM's natural-log probabilities (default 0.5). */
  lmWeight?: number;
  /** Score added per word (default 0). */
  wordBonus?: number;
  /** Spell only the LM's words (default false). */
  lexicon?: boolean;
  /** Endpointing (default { silenceMs: 600 }); false: one segment until finish(). */
  endpoint?: EndpointOptions | false;
}

export interface Segment {
  text: string;
  words: TimedWord[];
  /** Seconds of the stream: the first word's start and the last word's end. */
  start: number;
  end: number;
}

export interface ChunkStats {
  /** Audio of this push, in seconds. */
  audioSeconds: number;
  /** Wall time of this push: model step, read back and decoding. */
  computeMs: number;
  /**
   * Audio captured -> text ready for the chunk's last sample: the audio not yet inside a decoded frame when the push
   * returns (the sub-hop remainder and the extractor's receptive field beyond the last frame) plus computeMs.
   */
  latencyMs: number;
  /** computeMs / the chunk's audio duration (0 for an empty chunk). */
  rtf: number;
  /** The carried streaming state in bytes: Mamba's constant; the Transformer's KV cache (frames held) growing. */
  stateBytes: number;
  /** Bytes of the state's buffers as allocated (the KV cache grows by doubling). */
  stateAllocatedBytes: number;
  /** Audio pushed since the start (or the last reset), in seconds. */
  streamSeconds: number;
  /** Model frames decoded by this push. */
  frames: number;
}

export interface RecognizerUpdate {
  /** The words of the open segment: they may still change. */
  partial: string;
  partialWords: TimedWord[];
  /** Segments fixed by this push (in order). */
  finals: Segment[];
  chunk: ChunkStats;
}

const nowMs = () => performance.now();

/** The extractor's receptive field in samples (400 for HuBERT's). */
export function receptiveField(model: HubertModel): number {
  let rf = 1;
  for (const [, k, s] of [...model.config.extractor.layers].reverse()) rf = (rf - 1) * s + k;
  return rf;
}

/** Bytes of the GPU tensors a stream state carries (used: KV caches count their filled frames; allocated: whole buffers). */
export function streamStateBytes(state: HubertStreamState): { used: number; allocated: number } {
  let used = 0, allocated = 0;
  const seen = new Set<object>();
  const visit = (o: unknown): void => {
    if (!o || typeof o !== 'object' || seen.has(o)) return;
    seen.add(o);
    const rec = o as Record<string, unknown>;
    if (isTensor(o)) {
      used += o.bytes;
      allocated += o.bytes;
      return;
    }
    // A KV cache: k and v of (b, capacity, d_model) with `length` frames filled.
    if (isTensor(rec.k) && isTensor(rec.v) && typeof rec.length === 'number') {
      const [b, cap, d] = rec.k.shape;
      allocated += rec.k.bytes + rec.v.bytes;
      used += 2 * b * Math.min(rec.length, cap) * d * 4;
      return;
    }
    for (const v of Array.isArray(o) ? o : Object.values(rec)) visit(v);
  };
  visit(state.extractor);
  visit(state.posConv);
  visit(state.layers);
  return { used, allocated };
}

function isTensor(o: unknown): o is Tensor {
  return !!o && typeof o === 'object' && 'buffer' in o && 'shape' in o && 'dtype' in o && 'gpu' in o;
}

/**
 * Decoding with endpointing, on the CPU: log-probability rows in (any number at a time), final segments out when a
 * silent run ends one, and the open segment's partial text. The recognizer feeds it the model's frames.
 */
export class SegmentDecoder {
  private readonly decoder: CtcDecoder;
  private readonly silenceFrames: number;
  private readonly blankLogProb: number;
  private silentRun = 0;
  /** Frames decoded since the start (or the last reset). */
  frames = 0;

  constructor(
    options: RecognizerOptions,
    readonly frameSeconds: number,
  ) {
    const { endpoint, ...decode } = options;
    this.decoder = makeDecoder(decode, frameSeconds);
    const ep = endpoint === undefined ? { silenceMs: DEFAULT_SILENCE_MS } : endpoint;
    if (ep && !(ep.silenceMs > 0)) throw new LabError('bad-input', `endpoint silence of ${ep.silenceMs} ms: it must be positive`);
    if (ep && ep.blankProb !== undefined && !(ep.blankProb > 0 && ep.blankProb <= 1)) throw new LabError('bad-input', `endpoint blank probability ${ep.blankProb}: it must be in (0, 1]`);
    this.silenceFrames = ep ? Math.max(1, Math.ceil(ep.silenceMs / 1000 / frameSeconds - 1e-9)) : Infinity;
    this.blankLogProb = ep && ep.blankProb !== undefined ? Math.log(ep.blankProb) : Infinity;
  }

  /** Rows (frames, V) row-major: the segments they close. */
  push(logProbs: Float32Array, V: number): Segment[] {
    const finals: Segment[] = [];
    const n = logProbs.length / V;
    for (let i = 0; i < n; i++) {
      const row = logProbs.subarray(i * V, (i + 1) * V);
      this.decoder.step(row, this.frames++);
      const silent = argmax(row) === BLANK || row[BLANK] >= this.blankLogProb;
      this.silentRun = silent ? this.silentRun + 1 : 0;
      if (this.silentRun >= this.silenceFrames && !this.decoder.empty) this.close(finals);
    }
    return finals;
  }

  /** The end of the stream: the open segment, if it holds words. */
  finish(): Segment[] {
    const finals: Segment[] = [];
    if (!this.decoder.empty) this.close(finals);
    return finals;
  }

  partial(): { text: string; words: TimedWord[] } {
    return this.decoder.partial();
  }

  reset(): void {
    this.decoder.reset();
    this.silentRun = this.frames = 0;
  }

  private close(finals: Segment[]): void {
    const h = this.decoder.finish();
    this.decoder.reset();
    if (h.words.length) finals.push({ text: h.text, words: h.words, start: h.words[0].start, end: h.words[h.words.length - 1].end });
  }
}

export class Recognizer {
  readonly frameSeconds: number;
  readonly hop: number;
  private state: HubertStreamState | undefined;
  private readonly decoder: SegmentDecoder;
  private readonly rf: number;
  /** Samples received but not yet given to the model (fewer than a hop). */
  private pending = new Float32Array(0);
  private samples = 0;
  private finished = false;
  private busy = false;

  constructor(
    readonly model: HubertModel,
    readonly options: RecognizerOptions = {},
  ) {
    if (!model.ctcHead) throw new LabError('bad-input', PRETRAINED_MESSAGE);
    if (!canStream(model)) startStream(model, 1); // throws the reason
    this.hop = hopSamples(model.config);
    this.frameSeconds = this.hop / SAMPLE_RATE;
    this.rf = receptiveField(model);
    this.decoder = new SegmentDecoder(options, this.frameSeconds);
    this.state = startStream(model, 1);
  }

  /** Audio pushed so far, in seconds. */
  get streamSeconds(): number {
    return this.samples / SAMPLE_RATE;
  }

  /** The carried state's size now. */
  stateBytes(): { used: number; allocated: number } {
    return this.state ? streamStateBytes(this.state) : { used: 0, allocated: 0 };
  }

  /** 16 kHz mono samples of any count. */
  async push(samples16k: Float32Array): Promise<RecognizerUpdate> {
    if (this.finished) throw new LabError('bad-input', 'the recognizer has finished this stream; reset() starts a new one');
    return this.run(samples16k, false);
  }

  /** The end of the stream: the buffered remainder goes through the model, and the open segment becomes final. */
  async finish(): Promise<RecognizerUpdate> {
    if (this.finished) throw new LabError('bad-input', 'the recognizer has already finished this stream');
    const u = await this.run(new Float32Array(0), true);
    this.finished = true;
    return u;
  }

  /** Forget the stream: a fresh state and decoder, times from 0 again. */
  reset(): void {
    if (this.busy) throw new LabError('bad-input', 'reset() while a push is running');
    this.state?.release();
    this.state = startStream(this.model, 1);
    this.decoder.reset();
    this.pending = new Float32Array(0);
    this.samples = 0;
    this.finished = false;
  }

  /** Give back the carried state (the model stays the caller's). */
  release(): void {
    this.state?.release();
    this.state = undefined;
  }

  private async run(samples: Float32Array, flush: boolean): Promise<RecognizerUpdate> {
    if (!this.state) throw new LabError('bad-input', 'the recognizer was released');
    if (this.busy) throw new LabError('bad-input', 'push() while another push is running: await each push before the next');
    this.busy = true;
    try {
      const t0 = nowMs();
      const buf = new Float32Array(this.pending.length + samples.length);
      buf.set(this.pending);
      buf.set(samples, this.pending.length);
      this.samples += samples.length;
      const take = flush ? buf.length : buf.length - (buf.length % this.hop);
      this.pending = buf.slice(take);
      const finals: Segment[] = [];
      let frames = 0;
      if (take > 0) {
        const lp = await this.step(buf.subarray(0, take));
        const V = this.model.config.vocab;
        frames = lp.length / V;
        finals.push(...this.decoder.push(lp, V));
      }
      if (flush) finals.push(...this.decoder.finish());
      const p = this.decoder.partial();
      const computeMs = nowMs() - t0;
      const done = this.decoder.frames;
      const covered = done > 0 ? (done - 1) * this.hop + this.rf : 0;
      const waiting = Math.max(0, this.samples - covered);
      const audioSeconds = samples.length / SAMPLE_RATE;
      const bytes = this.stateBytes();
      return {
        partial: p.text,
        partialWords: p.words,
        finals,
        chunk: {
          audioSeconds,
          computeMs,
          latencyMs: computeMs + (flush ? 0 : (waiting / SAMPLE_RATE) * 1000),
          rtf: audioSeconds > 0 ? computeMs / 1000 / audioSeconds : 0,
          stateBytes: bytes.used,
          stateAllocatedBytes: bytes.allocated,
          streamSeconds: this.samples / SAMPLE_RATE,
          frames,
        },
      };
    } finally {
      this.busy = false;
    }
  }

  /** The model's streaming step over `audio`: the log-probabilities (frames, V) of the frames it completed. */
  private async step(audio: Float32Array): Promise<Float32Array> {
    const { gpu } = this.model;
    const head = this.model.ctcHead!;
    const state = this.state!;
    let lp: Tensor | undefined;
    const x = gpu.tensor([1, audio.length], 'f32', audio, 'audio chunk');
    try {
      lp = gpu.run((enc) => {
        const pass = { enc, train: false };
        const { out } = streamStep(this.model, pass, x, state);
        if (out.shape[1] === 0) {
          enc.releaseAfter(out);
          return undefined;
        }
        const y = head.logProbs(pass, out);
        enc.releaseAfter(out);
        return y;
      });
      return lp ? ((await lp.read()) as Float32Array) : new Float32Array(0);
    } finally {
      x.release();
      lp?.release();
    }
  }
}

export interface ChunkSummary {
  chunks: number;
  audioSeconds: number;
  computeSeconds: number;
  /** Compute seconds / audio seconds over the stream. */
  rtf: number;
  computeMs: { mean: number; p50: number; p95: number; max: number };
  latencyMs: { mean: number; p50: number; p95: number; max: number };
  stateBytes: { first: number; last: number };
}

function quantiles(xs: readonly number[]): { mean: number; p50: number; p95: number; max: number } {
  if (!xs.length) return { mean: 0, p50: 0, p95: 0, max: 0 };
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { mean: xs.reduce((a, b) => a + b, 0) / xs.length, p50: q(0.5), p95: q(0.95), max: s[s.length - 1] };
}

/** Per-chunk statistics summed up (the final flush, which carries no audio, is left out of the quantiles). */
export function summariseChunks(chunks: readonly ChunkStats[]): ChunkSummary {
  const real = chunks.filter((c) => c.audioSeconds > 0);
  const audioSeconds = real.reduce((s, c) => s + c.audioSeconds, 0);
  const computeSeconds = chunks.reduce((s, c) => s + c.computeMs, 0) / 1000;
  return {
    chunks: real.length,
    audioSeconds,
    computeSeconds,
    rtf: audioSeconds ? computeSeconds / audioSeconds : 0,
    computeMs: quantiles(real.map((c) => c.computeMs)),
    latencyMs: quantiles(real.map((c) => c.latencyMs)),
    stateBytes: { first: real[0]?.stateBytes ?? 0, last: real[real.length - 1]?.stateBytes ?? 0 },
  };
}

export interface RecognizeResult {
  /** The finals joined by spaces. */
  text: string;
  segments: Segment[];
  /** Each change of the partial text, with the stream time it appeared at. */
  partials: { at: number; text: string }[];
  chunks: ChunkStats[];
  summary: ChunkSummary;
}

/**
 * Stream 16 kHz samples through a recognizer in chunks of `chunkSamples`, as the microphone would (but as fast as it
 * goes): the final segments, the partial text as it changed, every chunk's statistics. With `warmup` (default true)
 * a throwaway recognizer first runs three chunks of silence so that compiling pipelines is not timed.
 */
export async function recognizeSamples(
  model: HubertModel,
  samples: Float32Array,
  opts: RecognizerOptions & { chunkSamples?: number; warmup?: boolean; signal?: AbortSignal; onUpdate?: (u: RecognizerUpdate) => void } = {},
): Promise<RecognizeResult> {
  const chunk = Math.floor(opts.chunkSamples ?? 2560);
  if (!(chunk >= 1)) throw new LabError('bad-input', `chunk of ${opts.chunkSamples} samples: it must be at least 1`);
  const { chunkSamples: _c, warmup, signal, onUpdate, ...options } = opts;
  if (warmup ?? true) {
    const w = new Recognizer(model, options);
    try {
      for (let i = 0; i < 3; i++) await w.push(new Float32Array(chunk));
    } finally {
      w.release();
    }
  }
  const r = new Recognizer(model, options);
  const segments: Segment[] = [];
  const partials: { at: number; text: string }[] = [];
  const chunks: ChunkStats[] = [];
  let last = '';
  const take = (u: RecognizerUpdate) => {
    segments.push(...u.finals);
    chunks.push(u.chunk);
    if (u.partial !== last) partials.push({ at: u.chunk.streamSeconds, text: u.partial });
    last = u.partial;
    onUpdate?.(u);
  };
  try {
    for (let at = 0; at < samples.length; at += chunk) {
      throwIfAborted(signal);
      take(await r.push(samples.subarray(at, at + chunk)));
    }
    take(await r.finish());
  } finally {
    r.release();
  }
  return { text: segments.map((s) => s.text).join(' '), segments, partials, chunks, summary: summariseChunks(chunks) };
}
