// Training throughput: seconds of audio trained per wall second, for one CTC training step as `lab train` runs it
// (forward, CTC head, backward, AdamW with clipping: src/train's ctcObjective and AdamW), on a synthetic batch of
// b utterances of the same length. Optionally a profiled step after the timed ones: every dispatch timed with
// GPU timestamps (src/gpu/timing.ts's DispatchProfiler) and summed per kernel family and per entry point.
// No fs, no DOM: runs in a worker or in the CLI.
import type { Gpu } from '../gpu/device.ts';
import { DispatchProfiler, median, type DispatchTotal } from '../gpu/timing.ts';
import { framesFor, type EncoderKind, type ModelConfig, type Size } from '../models/config.ts';
import { HubertModel } from '../models/hubert.ts';
import { preset } from '../models/presets.ts';
import type { AttentionForm } from '../nn/self-attention.ts';
import type { ManifestEntry } from '../speech/manifest.ts';
import { hash32, rng } from '../speech/rng.ts';
import type { AudioBatch } from '../train/data.ts';
import { ctcObjective } from '../train/objectives.ts';
import { AdamW } from '../train/optimizer.ts';

export const SAMPLE_RATE = 16000;

export interface TrainBenchOptions {
  models: EncoderKind[];
  preset: Size;
  /** Utterances per batch, and seconds of audio each. */
  batch: number;
  seconds: number;
  /** Timed steps after `warmup` untimed ones; the median and the best are reported. */
  reps: number;
  warmup: number;
  /** Run one more step with every dispatch timed (needs timestamp-query; skipped without it). */
  profile: boolean;
  /** Attention form of the Transformer kinds (default: the model's own choice). */
  attention?: AttentionForm;
  seed: number;
  lr: number;
  /** Replace the preset's configuration (tests run a toy model). */
  configFor?: (kind: EncoderKind, size: Size) => ModelConfig;
}

export const DEFAULT_TRAIN_BENCH: TrainBenchOptions = {
  models: ['mamba', 'causal-transformer'],
  preset: 'tiny',
  batch: 8,
  seconds: 4,
  reps: 3,
  warmup: 1,
  profile: true,
  seed: 1,
  lr: 1e-4,
};

/** One kernel family's (or entry point's) share of the profiled step's GPU time. */
export interface KernelShare {
  family: string;
  /** Entry point; absent in the per-family table. */
  entry?: string;
  ms: number;
  /** ms over the profiled step's summed dispatch time. */
  share: number;
  dispatches: number;
}

export interface TrainProfile {
  method: 'timestamp-query';
  /** Wall time of the profiled step (a pass per dispatch makes it a little slower than the timed steps). */
  stepMs: number;
  /** Sum of every dispatch's GPU time. */
  gpuMs: number;
  /** Dispatches whose timestamps were equal (timed as 0; a driver that quantises timestamps coarsely). */
  zeroDispatches: number;
  families: KernelShare[];
  /** The largest entry points (at most 20). */
  entries: KernelShare[];
}

export interface TrainBenchRow {
  model: EncoderKind;
  preset: Size;
  batch: number;
  /** Seconds of audio per utterance, and in the batch. */
  seconds: number;
  audioSeconds: number;
  frames: number;
  parameters: number;
  /** Wall milliseconds of each timed step (forward + CTC + backward + AdamW, until the GPU is idle). */
  stepMs: number[];
  medianMs: number;
  bestMs: number;
  /** Audio seconds trained per wall second: at the median step, and at the best one. */
  audioPerSecond: number;
  audioPerSecondBest: number;
  /** Per step: encoder submits and the dispatches they held. */
  submitsPerStep: number;
  dispatchesPerStep: number;
  /** CTC loss of each step (warm-up and timed, in order) and the gradient norm of the last. */
  losses: number[];
  gradNorm: number;
  profile?: TrainProfile;
}

export interface TrainBenchHooks {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, label: string) => void;
}

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A synthetic batch: b utterances of noise with a tone, all `samples` long, each with a random transcript (about 12 characters per second). */
export function syntheticBatch(b: number, samples: number, seed: number): AudioBatch {
  const rand = rng(hash32(seed, 'train-bench'));
  const audio = new Float32Array(b * samples);
  const entries: ManifestEntry[] = [];
  const chars = Math.max(1, Math.round((samples / SAMPLE_RATE) * 12));
  for (let i = 0; i < b; i++) {
    const f = 100 + 400 * rand();
    for (let t = 0; t < samples; t++) audio[i * samples + t] = 0.3 * Math.sin((2 * Math.PI * f * t) / SAMPLE_RATE) + 0.1 * (rand() - 0.5);
    let text = '';
    while (text.length < chars) {
      const word = Array.from({ length: 2 + Math.floor(rand() * 6) }, () => LETTERS[Math.floor(rand() * 26)]).join('');
      text = text ? `${text} ${word}` : word;
    }
    text = text.slice(0, chars).trim();
    entries.push({ id: `bench-${i}`, audio: `bench-${i}.wav`, samples, duration: samples / SAMPLE_RATE, sample_rate: SAMPLE_RATE, speaker: 'bench', text });
  }
  return { entries, audio, lengths: entries.map(() => samples), samples };
}

/** Per-entry totals -> shares of their sum. */
function shares(totals: DispatchTotal[], gpuMs: number, withEntry: boolean): KernelShare[] {
  return totals.map((t) => ({
    family: t.family,
    ...(withEntry ? { entry: t.entry } : {}),
    ms: t.ms,
    share: gpuMs > 0 ? t.ms / gpuMs : 0,
    dispatches: t.dispatches,
  }));
}

async function benchModel(gpu: Gpu, kind: EncoderKind, o: TrainBenchOptions, hooks: TrainBenchHooks, done: number, total: number): Promise<TrainBenchRow> {
  const config = o.configFor ? o.configFor(kind, o.preset) : preset(kind, o.preset);
  const samples = Math.round(o.seconds * SAMPLE_RATE);
  const batch = syntheticBatch(o.batch, samples, o.seed);
  const model = HubertModel.create(gpu, config, o.seed, { heads: { ctcHead: true }, attention: o.attention });
  const opt = new AdamW(gpu, model.params, { weightDecay: 0.01, maxGradNorm: 10 });
  const losses: number[] = [];
  let gradNorm = NaN;
  let stepNo = 0;
  const step = async (): Promise<number> => {
    const t0 = performance.now();
    const r = await ctcObjective(model, batch, true);
    const u = await opt.update({ step: ++stepNo, lr: o.lr });
    await gpu.device.queue.onSubmittedWorkDone();
    const ms = performance.now() - t0;
    losses.push(r.loss);
    gradNorm = u.gradNorm;
    return ms;
  };
  try {
    const label = `${kind}-${o.preset}`;
    for (let i = 0; i < o.warmup; i++) {
      hooks.signal?.throwIfAborted();
      hooks.onProgress?.(done, total, `${label}: warm-up step ${i + 1}/${o.warmup}`);
      await step();
    }
    const before = { ...gpu.counters };
    const stepMs: number[] = [];
    for (let i = 0; i < o.reps; i++) {
      hooks.signal?.throwIfAborted();
      hooks.onProgress?.(done, total, `${label}: step ${i + 1}/${o.reps}`);
      stepMs.push(await step());
    }
    const reps = Math.max(1, o.reps);
    const submitsPerStep = (gpu.counters.submits - before.submits) / reps;
    const dispatchesPerStep = (gpu.counters.dispatches - before.dispatches) / reps;
    let profile: TrainProfile | undefined;
    if (o.profile && gpu.timestamps) {
      hooks.signal?.throwIfAborted();
      hooks.onProgress?.(done, total, `${label}: profiled step`);
      const profiler = new DispatchProfiler(gpu);
      gpu.profiler = profiler;
      let ms: number;
      try {
        ms = await step();
      } finally {
        gpu.profiler = undefined;
      }
      const entries = await profiler.byEntry();
      const families = await profiler.byFamily();
      const gpuMs = families.reduce((s, f) => s + f.ms, 0);
      profile = {
        method: 'timestamp-query',
        stepMs: ms,
        gpuMs,
        zeroDispatches: profiler.zeroDispatches,
        families: shares(families, gpuMs, false),
        entries: shares(entries.slice(0, 20), gpuMs, true),
      };
    }
    const medianMs = median(stepMs);
    const bestMs = Math.min(...stepMs);
    const audioSeconds = o.batch * o.seconds;
    return {
      model: kind,
      preset: o.preset,
      batch: o.batch,
      seconds: o.seconds,
      audioSeconds,
      frames: framesFor(config, samples),
      parameters: model.params.count,
      stepMs,
      medianMs,
      bestMs,
      audioPerSecond: audioSeconds / (medianMs / 1000),
      audioPerSecondBest: audioSeconds / (bestMs / 1000),
      submitsPerStep,
      dispatchesPerStep,
      losses,
      gradNorm,
      profile,
    };
  } finally {
    await gpu.device.queue.onSubmittedWorkDone();
    opt.release();
    model.release();
  }
}

/** Benchmark a training step of each model in turn. */
export async function runTrainBench(gpu: Gpu, options: Partial<TrainBenchOptions> = {}, hooks: TrainBenchHooks = {}): Promise<TrainBenchRow[]> {
  const o = { ...DEFAULT_TRAIN_BENCH, ...options };
  if (!(o.batch >= 1 && Number.isInteger(o.batch))) throw new RangeError(`train bench: batch ${o.batch} must be a positive integer`);
  if (!(o.seconds > 0)) throw new RangeError(`train bench: seconds ${o.seconds} must be positive`);
  if (!(o.reps >= 1 && Number.isInteger(o.reps))) throw new RangeError(`train bench: reps ${o.reps} must be a positive integer`);
  const rows: TrainBenchRow[] = [];
  for (const kind of o.models) rows.push(await benchModel(gpu, kind, o, hooks, rows.length, o.models.length));
  hooks.onProgress?.(rows.length, o.models.length, 'done');
  return rows;
}
