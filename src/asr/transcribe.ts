// File transcription with any model kind and any length of audio, greedy CTC decoding with word times.
//
// - Causal models with a streaming front (mamba, causal-transformer: streaming.ts) stream through the file in
//   chunks, carrying their state; the frames equal the offline forward's, and memory stays flat however long the file.
// - Other models (the bidirectional kinds, or a causal kind with the paper's group-norm front) take the whole file
//   in one forward when it fits the device, and otherwise overlapping windows whose frames are stitched by time:
//   each frame of the file is taken from the window in which it lies farthest from an edge (an edge at the start or
//   end of the file counts as no edge: nothing is missing there). Windows start on the frame grid, so a window's
//   frame j is the file's frame start / hop + j. With a per-frame extractor norm the stitched frames match the
//   whole file's to float noise (test/asr/transcribe.test.ts); the paper's group-norm front normalises each window
//   by that window's own statistics, so there windows are an approximation.
//
// Audio in any format audio.ts decodes, at any rate (resampled to 16 kHz by resample.ts), channels mixed down.
// No DOM and no Node APIs: the CLI and the asr worker both use it.
import type { Gpu } from '../gpu/device.ts';
import { formatBytes, LabError, TooLargeError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { loadCheckpoint, type Checkpoint } from '../models/checkpoint.ts';
import { framesFor, hopSamples, isCausal } from '../models/config.ts';
import { HubertModel, type HubertOptions } from '../models/hubert.ts';
import { startStream, streamStep } from '../models/streaming.ts';
import { decodeAudio, SAMPLE_RATE, toMono } from '../speech/audio.ts';
import { resample } from '../speech/resample.ts';
import { throwIfAborted, type ProgressFn } from '../speech/store.ts';
import { decodeLogProbs, type DecoderOptions } from './ctc-decode.ts';
import { greedyTranscript, type TimedWord } from './greedy.ts';

/** What a checkpoint without the CTC head is told. */
export const PRETRAINED_MESSAGE = 'this is a pre-trained model (no CTC head); fine-tune it first (`lab train finetune --from CKPT ...`)';

/** Streaming chunk of `lab transcribe` by default: 160 ms. */
export const DEFAULT_CHUNK_SAMPLES = 2560;
/** Windows of the non-causal kinds when a file does not fit the device whole: 30 s, overlapping by 6 s. */
export const DEFAULT_WINDOW_SAMPLES = 30 * SAMPLE_RATE;
export const DEFAULT_OVERLAP_SAMPLES = 6 * SAMPLE_RATE;
/** Streaming: chunks recorded per submit (and read back together); progress and cancel act between groups. */
const GROUP_SAMPLES = 2 * SAMPLE_RATE;

export type TranscribeMode = 'auto' | 'stream' | 'offline';

export interface TranscribeOptions {
  /**
   * 'auto' (default): stream when the model can, else offline. 'stream': refuse a model that cannot stream.
   * 'offline': whole file or windows, for any model (a causal model's offline output equals its streamed one).
   */
  mode?: TranscribeMode;
  /** Streaming: samples per step (default 160 ms). */
  chunkSamples?: number;
  /**
   * Offline: windows of this many samples (rounded down to whole frames) for files longer than it, overlapping by
   * `overlapSamples` (default 6 s, or a fifth of the window if that is less). Without it the whole file is taken
   * when it fits the device, and 30 s windows otherwise.
   */
  windowSamples?: number;
  overlapSamples?: number;
  /** Keep the (frames, vocab) log-probabilities in the result. */
  keepLogProbs?: boolean;
  /** Decoding: greedy by default; a beam above 1, or an LM, runs the CTC prefix beam search (ctc-decode.ts). */
  decode?: DecoderOptions;
  signal?: AbortSignal;
  /** (samples done, samples in all, what): after each group of chunks or each window. */
  onProgress?: ProgressFn;
}

export type Method =
  | { mode: 'stream'; chunkSamples: number; chunks: number }
  | { mode: 'whole' }
  | { mode: 'windows'; windows: number; windowSamples: number; overlapSamples: number; reason: string };

export interface Transcript {
  text: string;
  words: TimedWord[];
  /** Model frames (20 ms with HuBERT's extractor). */
  frames: number;
  frameSeconds: number;
  /** Audio duration at 16 kHz. */
  seconds: number;
  /** Wall time of the model and decoding (upload, forward, read back, greedy search), not of reading the file. */
  computeSeconds: number;
  method: Method;
  /** With keepLogProbs: (frames, vocab) row-major. */
  logProbs?: Float32Array;
  vocab: number;
}

/** True when the model streams (streaming.ts's requirements): a causal kind with a per-frame front. */
export function canStream(model: HubertModel): boolean {
  const { kind, extractor, pos_conv } = model.config;
  return isCausal(kind) && extractor.norm === 'layer' && pos_conv.padding === 'causal';
}

const now = () => performance.now() / 1000;

function ctcHeadOf(model: HubertModel) {
  const head = model.ctcHead;
  if (!head) throw new LabError('bad-input', PRETRAINED_MESSAGE);
  return head;
}

/** Log-probabilities (1, T, V) of one stretch of audio by the offline forward. */
async function offlineLogProbs(model: HubertModel, samples: Float32Array): Promise<Float32Array> {
  const { gpu } = model;
  const head = ctcHeadOf(model);
  const audio = gpu.tensor([1, samples.length], 'f32', samples, 'audio');
  let lp: Tensor | undefined;
  try {
    lp = gpu.run((enc) => {
      const pass = { enc, train: false };
      const r = model.forward(pass, audio);
      const y = head.logProbs(pass, r.out);
      enc.releaseAfter(r.out);
      return y;
    });
    return (await lp.read()) as Float32Array;
  } finally {
    audio.release();
    lp?.release();
  }
}

/** Streaming: every frame's log-probabilities, chunk by chunk with carried state. */
async function streamLogProbs(model: HubertModel, samples: Float32Array, chunk: number, opts: TranscribeOptions): Promise<{ lp: Float32Array; chunks: number }> {
  const { gpu } = model;
  const head = ctcHeadOf(model);
  const V = model.config.vocab;
  const total = framesFor(model.config, samples.length);
  const out = new Float32Array(total * V);
  let filled = 0, chunks = 0;
  const perGroup = Math.max(1, Math.floor(GROUP_SAMPLES / chunk));
  const state = startStream(model, 1);
  try {
    for (let start = 0; start < samples.length; ) {
      throwIfAborted(opts.signal);
      const lps: Tensor[] = [];
      gpu.run((enc) => {
        const pass = { enc, train: false };
        for (let k = 0; k < perGroup && start < samples.length; k++, start += chunk, chunks++) {
          const audio = gpu.tensor([1, Math.min(chunk, samples.length - start)], 'f32', samples.subarray(start, start + chunk), 'audio chunk');
          const { out: y } = streamStep(model, pass, audio, state);
          if (y.shape[1] > 0) lps.push(head.logProbs(pass, y));
          enc.releaseAfter(audio, y);
        }
      });
      try {
        for (const part of await Promise.all(lps.map((t) => t.read()))) {
          out.set(part as Float32Array, filled);
          filled += part.length;
        }
      } finally {
        lps.forEach((t) => t.release());
      }
      opts.onProgress?.(Math.min(start, samples.length), samples.length, 'streaming');
    }
  } finally {
    state.release();
  }
  if (filled !== out.length) throw new LabError('shape', `streaming made ${filled / V} frames, the offline forward makes ${total}`);
  return { lp: out, chunks };
}

/** Where a window starts (samples, on the frame grid), its length, and the file frames it owns. */
export interface WindowPlan {
  start: number;
  length: number;
  /** File frames [from, to) taken from this window. */
  from: number;
  to: number;
}

/**
 * Windows over `samples` of audio: `window` and `overlap` rounded down to whole hops; consecutive windows start
 * window - overlap apart, the last one ends at the end of the file. Each file frame goes to the window in which it
 * lies farthest from an edge (a file edge is not an edge); ties go to the earlier window.
 */
export function planWindows(samples: number, hop: number, frames: (n: number) => number, window: number, overlap: number): WindowPlan[] {
  const W = Math.floor(window / hop) * hop;
  const O = Math.floor(overlap / hop) * hop;
  if (W <= 0 || frames(W) <= 0) throw new LabError('bad-input', `window of ${window} samples is shorter than one model frame`);
  if (O < 0 || O >= W) throw new LabError('bad-input', `window overlap ${overlap} samples must be at least 0 and less than the window (${W})`);
  const step = W - O;
  // The last window starts where it reaches the end of the file (on the grid, so it may be a little shorter).
  const lastStart = Math.max(0, Math.ceil((samples - W) / hop) * hop);
  const starts: number[] = [0];
  while (starts[starts.length - 1] + W < samples) starts.push(Math.min(starts[starts.length - 1] + step, lastStart));
  const total = frames(samples);
  const wins = starts.map((start) => {
    const length = Math.min(W, samples - start);
    const first = start / hop;
    return { start, length, first, last: first + frames(length) - 1, atStart: start === 0, atEnd: start + length >= samples };
  });
  const owner = new Int32Array(total).fill(-1);
  for (let g = 0; g < total; g++) {
    let best = -1, bestDist = -1;
    wins.forEach((w, i) => {
      if (g < w.first || g > w.last) return;
      const left = w.atStart ? Infinity : g - w.first;
      const right = w.atEnd ? Infinity : w.last - g;
      const d = Math.min(left, right);
      if (d > bestDist) [best, bestDist] = [i, d];
    });
    if (best < 0) throw new LabError('shape', `window plan leaves frame ${g} of ${total} uncovered`);
    owner[g] = best;
  }
  return wins
    .map((w, i) => {
      const mine = [...owner.keys()].filter((g) => owner[g] === i);
      return { start: w.start, length: w.length, from: mine.length ? mine[0] : 0, to: mine.length ? mine[mine.length - 1] + 1 : 0 };
    })
    .filter((w) => w.to > w.from);
}

async function windowedLogProbs(model: HubertModel, samples: Float32Array, plan: WindowPlan[], opts: TranscribeOptions): Promise<Float32Array> {
  const V = model.config.vocab;
  const hop = hopSamples(model.config);
  const out = new Float32Array(framesFor(model.config, samples.length) * V);
  for (const [i, w] of plan.entries()) {
    throwIfAborted(opts.signal);
    const lp = await offlineLogProbs(model, samples.subarray(w.start, w.start + w.length));
    const first = w.start / hop;
    out.set(lp.subarray((w.from - first) * V, (w.to - first) * V), w.from * V);
    opts.onProgress?.(i + 1 === plan.length ? samples.length : w.start + w.length, samples.length, `window ${i + 1}/${plan.length}`);
  }
  return out;
}

/** Why the whole file would not fit one forward on this device (undefined when it should fit). */
export function wholeFileProblem(model: HubertModel, samples: number): string | undefined {
  const { config, gpu } = model;
  const limit = gpu.maxBindingBytes;
  const mb = formatBytes;
  if (config.extractor.norm === 'group') {
    // The group-norm extractor normalises over the whole utterance, so it cannot run in segments: each of its
    // outputs must fit one binding.
    let l = samples;
    for (const [c, k, s] of config.extractor.layers) {
      l = l < k ? 0 : Math.floor((l - k) / s) + 1;
      if (l * c * 4 > limit) return `the feature extractor's output [${l}, ${c}] would need ${mb(l * c * 4)}, over the ${mb(limit)} a binding allows`;
    }
  }
  const l = framesFor(config, samples);
  const widest = Math.max(2 * config.expand * config.d_model, config.ffn, 3 * config.d_model);
  if (l * widest * 4 > limit) return `the encoder's widest activation [${l}, ${widest}] would need ${mb(l * widest * 4)}, over the ${mb(limit)} a binding allows`;
  return undefined;
}

/** A device or buffer-size exhaustion (TooLargeError, a too-large LabError, a driver out-of-memory message). */
export function isOutOfMemory(e: unknown): boolean {
  return e instanceof TooLargeError || (e instanceof LabError && e.code === 'too-large') || (e instanceof Error && /out of memory|OutOfMemory/i.test(e.message));
}

/** The whole file in one forward, inside an out-of-memory error scope: undefined when the device ran out. */
async function tryWhole(gpu: Gpu, run: () => Promise<Float32Array>): Promise<{ lp?: Float32Array; problem?: string }> {
  gpu.device.pushErrorScope('out-of-memory');
  let lp: Float32Array | undefined, error: unknown;
  try {
    lp = await run();
  } catch (e) {
    error = e;
  }
  const scoped = await gpu.device.popErrorScope();
  if (scoped) return { problem: `out of memory: ${scoped.message}` };
  if (error === undefined) return { lp };
  if (isOutOfMemory(error)) {
    gpu.pool.trim();
    return { problem: (error as Error).message };
  }
  throw error;
}

/** Transcribe 16 kHz mono samples with a CTC model. */
export async function transcribeSamples(model: HubertModel, samples: Float32Array, opts: TranscribeOptions = {}): Promise<Transcript> {
  ctcHeadOf(model);
  const { config, gpu } = model;
  const V = config.vocab;
  const hop = hopSamples(config);
  const frameSeconds = hop / SAMPLE_RATE;
  const mode = opts.mode ?? 'auto';
  if (mode === 'stream' && !canStream(model)) startStream(model, 1); // throws the reason
  const chunk = Math.floor(opts.chunkSamples ?? DEFAULT_CHUNK_SAMPLES);
  if (!(chunk >= 1)) throw new LabError('bad-input', `streaming chunk of ${opts.chunkSamples} samples: it must be at least 1`);
  const t0 = now();
  const frames = framesFor(config, samples.length);
  let lp: Float32Array;
  let method: Method;
  throwIfAborted(opts.signal);
  if (frames === 0) {
    lp = new Float32Array(0);
    method = { mode: 'whole' };
  } else if (mode !== 'offline' && canStream(model)) {
    const r = await streamLogProbs(model, samples, chunk, opts);
    [lp, method] = [r.lp, { mode: 'stream', chunkSamples: chunk, chunks: r.chunks }];
  } else {
    const explicit = opts.windowSamples !== undefined;
    const window = Math.floor(opts.windowSamples ?? DEFAULT_WINDOW_SAMPLES);
    const overlap = Math.floor(opts.overlapSamples ?? Math.min(DEFAULT_OVERLAP_SAMPLES, Math.floor(window / 5)));
    let reason: string | undefined = explicit ? (samples.length > window ? `longer than the ${(window / SAMPLE_RATE).toFixed(1)} s window asked for` : undefined) : wholeFileProblem(model, samples.length);
    let whole: Float32Array | undefined;
    if (!reason) {
      const r = await tryWhole(gpu, () => offlineLogProbs(model, samples));
      [whole, reason] = [r.lp, r.problem];
      if (whole) opts.onProgress?.(samples.length, samples.length, 'whole file');
    }
    if (whole) [lp, method] = [whole, { mode: 'whole' }];
    else {
      const plan = planWindows(samples.length, hop, (n) => framesFor(config, n), window, overlap);
      lp = await windowedLogProbs(model, samples, plan, opts);
      method = { mode: 'windows', windows: plan.length, windowSamples: Math.floor(window / hop) * hop, overlapSamples: Math.floor(overlap / hop) * hop, reason: reason ?? '' };
    }
  }
  const beam = opts.decode && ((opts.decode.beam ?? 0) > 1 || opts.decode.lm);
  const { text, words } = beam ? decodeLogProbs(lp, V, frames, frameSeconds, opts.decode) : greedyTranscript(lp, V, frames, frameSeconds);
  return {
    text,
    words,
    frames,
    frameSeconds,
    seconds: samples.length / SAMPLE_RATE,
    computeSeconds: now() - t0,
    method,
    logProbs: opts.keepLogProbs ? lp : undefined,
    vocab: V,
  };
}

/** What a file held before conversion to 16 kHz mono. */
export interface AudioInput {
  sampleRate: number;
  channels: number;
  /** Duration in seconds. */
  seconds: number;
}

/** Decode any supported file (WAV, FLAC, NIST SPHERE), mix its channels down and resample to 16 kHz. */
export function audioForModel(bytes: Uint8Array): { samples: Float32Array; input: AudioInput } {
  const audio = decodeAudio(bytes);
  const mono = toMono(audio);
  const samples = audio.sampleRate === SAMPLE_RATE ? mono : resample(mono, audio.sampleRate, SAMPLE_RATE);
  return { samples, input: { sampleRate: audio.sampleRate, channels: audio.channels.length, seconds: mono.length / audio.sampleRate } };
}

/** Transcribe a file's bytes. */
export async function transcribeFile(model: HubertModel, bytes: Uint8Array, opts: TranscribeOptions = {}): Promise<Transcript & { input: AudioInput }> {
  const { samples, input } = audioForModel(bytes);
  return { ...(await transcribeSamples(model, samples, opts)), input };
}

/** A checkpoint checked for transcription (on the CPU, before any device is opened): it must hold the CTC head. */
export function recognizerCheckpoint(bytes: Uint8Array): Checkpoint {
  const checkpoint = loadCheckpoint(bytes);
  if (!checkpoint.heads.ctcHead) throw new LabError('bad-input', PRETRAINED_MESSAGE);
  return checkpoint;
}

/**
 * A model for transcription from checkpoint bytes (or a checkpoint already read): refuses one without the CTC head
 * (a pre-trained model) before uploading anything; only the encoder and the CTC head go to the GPU.
 */
export function loadRecognizer(gpu: Gpu, source: Uint8Array | Checkpoint, opts: Omit<HubertOptions, 'heads'> = {}): { model: HubertModel; checkpoint: Checkpoint } {
  const checkpoint = source instanceof Uint8Array ? recognizerCheckpoint(source) : source;
  if (!checkpoint.heads.ctcHead) throw new LabError('bad-input', PRETRAINED_MESSAGE);
  const values = new Map([...checkpoint.params].map(([name, t]) => [name, t.data]));
  const model = HubertModel.fromValues(gpu, checkpoint.config, values, { ...opts, heads: { ctcHead: true } });
  return { model, checkpoint };
}
