// HuBERT's pre-training targets: frame features of the training audio -> k-means on the GPU (our kernel) ->
// one cluster id per model frame. Iteration 1 clusters 39-d MFCC frames (MFCC frame j covers the same
// samples 320 j .. 320 j + 400 as the extractor's frame j); iteration 2 clusters the output of layer k of an
// iteration-1 model. Features are standardised per dimension (mean and deviation of the fitting sample)
// before clustering, so that no coefficient dominates the distances by its scale alone.
//
// Fitting uses a seeded sample of at most `maxFrames` frames; assignment then streams every utterance again,
// so the whole corpus's features never sit in memory at once.
import type { Gpu } from '../gpu/device.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { kmeansAssign, kmeansPlusPlusInit, lloydStep } from '../kernels/kmeans.ts';
import type { HubertModel } from '../models/hubert.ts';
import type { NamedTensor } from '../models/safetensors.ts';
import type { ManifestEntry } from '../speech/manifest.ts';
import { mfcc } from '../speech/mfcc.ts';
import { hash32, rng } from '../speech/rng.ts';
import { throwIfAborted, type WorkflowOptions } from '../speech/store.ts';
import type { TrainingCorpus } from './data.ts';

/** Where the features come from: MFCC (iteration 1) or an encoder layer of a model (iteration 2). */
export type FeatureSource = { kind: 'mfcc' } | { kind: 'layer'; model: HubertModel; layer: number };

/** A fitted target model: standardisation and centroids (K, D). */
export interface Codebook {
  source: 'mfcc' | 'layer';
  layer?: number;
  K: number;
  D: number;
  mean: Float32Array;
  std: Float32Array;
  centroids: Float32Array;
  /** Mean squared distance to the nearest centroid of the fitting sample, per k-means iteration. */
  inertia: number[];
}

/** Frame features (frames, D) of one utterance's samples, exactly `frames` long (the model's frame count). */
export async function frameFeatures(gpu: Gpu, source: FeatureSource, samples: Float32Array, frames: number): Promise<{ data: Float32Array; D: number }> {
  if (source.kind === 'mfcc') {
    const m = mfcc(samples);
    return { data: fitFrames(m.data, m.frames, m.dim, frames), D: m.dim };
  }
  const { model, layer } = source;
  const audio = gpu.tensor([1, samples.length], 'f32', samples, 'audio');
  try {
    const out = gpu.run((enc) => model.forward({ enc, train: false }, audio, { exitAfter: layer }).out);
    const data = (await out.read()) as Float32Array;
    out.release();
    return { data: fitFrames(data, out.shape[1], model.config.d_model, frames), D: model.config.d_model };
  } finally {
    audio.release();
  }
}

/** (have, D) -> (want, D): truncated, or the last frame repeated (MFCC and model frame counts agree at 20 ms hops). */
function fitFrames(x: Float32Array, have: number, D: number, want: number): Float32Array {
  if (have === want) return x;
  const out = new Float32Array(want * D);
  for (let t = 0; t < want; t++) {
    const src = Math.min(t, have - 1);
    if (src >= 0) out.set(x.subarray(src * D, (src + 1) * D), t * D);
  }
  return out;
}

/** Each entry's frame features in turn (entries that fail to decode are skipped), with progress and cancel. */
async function* utteranceFeatures(
  gpu: Gpu,
  corpus: TrainingCorpus,
  entries: readonly ManifestEntry[],
  source: FeatureSource,
  o: WorkflowOptions & { framesOf: (samples: number) => number },
  label: string,
): AsyncGenerator<{ e: ManifestEntry; f: { data: Float32Array; D: number } }> {
  for (const [i, e] of entries.entries()) {
    throwIfAborted(o.signal);
    o.onProgress?.(i, entries.length, `${label} ${e.id}`);
    const samples = await corpus.audio(e);
    if (samples) yield { e, f: await frameFeatures(gpu, source, samples, o.framesOf(samples.length)) };
  }
}

export interface FitOptions extends WorkflowOptions {
  K: number;
  seed: number;
  /** Frames sampled for fitting (default 100,000). */
  maxFrames?: number;
  /** Lloyd iterations (default 20). */
  iterations?: number;
  /** Frames of an utterance of this many samples (the model's extractor). */
  framesOf: (samples: number) => number;
}

/** Fit a codebook on the features of `entries` (a seeded sample of their frames). */
export async function fitCodebook(gpu: Gpu, corpus: TrainingCorpus, entries: readonly ManifestEntry[], source: FeatureSource, o: FitOptions): Promise<Codebook> {
  const maxFrames = o.maxFrames ?? 100_000;
  const total = entries.reduce((s, e) => s + o.framesOf(e.samples), 0);
  const keep = Math.min(1, maxFrames / Math.max(1, total));
  const rand = rng(hash32(o.seed, 'kmeans-sample'));
  const rows: Float32Array[] = [];
  let D = 0;
  for await (const { f } of utteranceFeatures(gpu, corpus, entries, source, o, 'features')) {
    D = f.D;
    for (let t = 0; t * D < f.data.length; t++) if (rand() < keep) rows.push(f.data.slice(t * D, (t + 1) * D));
  }
  const N = rows.length;
  if (N < o.K) throw new Error(`k-means: ${N} frames sampled, fewer than K = ${o.K} clusters; use a larger corpus or fewer clusters`);
  const mean = new Float32Array(D);
  const std = new Float32Array(D);
  for (const r of rows) for (let d = 0; d < D; d++) mean[d] += r[d] / N;
  for (const r of rows) for (let d = 0; d < D; d++) std[d] += (r[d] - mean[d]) ** 2 / N;
  for (let d = 0; d < D; d++) std[d] = Math.sqrt(std[d]) || 1;
  const x = new Float32Array(N * D);
  rows.forEach((r, i) => {
    for (let d = 0; d < D; d++) x[i * D + d] = (r[d] - mean[d]) / std[d];
  });
  const xs = gpu.tensor([N, D], 'f32', x, 'kmeans.x');
  let centroids: Tensor = gpu.tensor([o.K, D], 'f32', kmeansPlusPlusInit(x, N, D, o.K, hash32(o.seed, 'kmeans-init')), 'kmeans.centroids');
  const inertia: number[] = [];
  const iterations = o.iterations ?? 20;
  try {
    for (let it = 0; it < iterations; it++) {
      throwIfAborted(o.signal);
      o.onProgress?.(it, iterations, `k-means iteration ${it + 1}`);
      const step = gpu.run((enc) => lloydStep(enc, xs, centroids));
      inertia.push((await step.inertia.read())[0] / N);
      [step.assignment, step.dist, step.inertia, step.counts, centroids].forEach((t) => t.release());
      centroids = step.centroids;
    }
    const c = (await centroids.read()) as Float32Array;
    return { source: source.kind, layer: source.kind === 'layer' ? source.layer : undefined, K: o.K, D, mean, std, centroids: c, inertia };
  } finally {
    xs.release();
    centroids.release();
  }
}

/** Cluster ids (frames) of one utterance's features under a codebook, on the GPU. */
export async function assignFrames(gpu: Gpu, book: Codebook, features: Float32Array): Promise<Uint16Array> {
  const { D } = book;
  const N = features.length / D;
  const x = new Float32Array(features.length);
  for (let i = 0; i < N; i++) for (let d = 0; d < D; d++) x[i * D + d] = (features[i * D + d] - book.mean[d]) / book.std[d];
  const xs = gpu.tensor([N, D], 'f32', x, 'targets.x');
  const cs = gpu.tensor([book.K, D], 'f32', book.centroids, 'targets.centroids');
  try {
    const a = gpu.run((enc) => kmeansAssign(enc, xs, cs));
    const ids = await a.assignment.read();
    a.assignment.release();
    a.dist.release();
    return Uint16Array.from(ids);
  } finally {
    xs.release();
    cs.release();
  }
}

/** Frame targets of every entry under a codebook (entries that fail to decode are left out). */
export async function labelCorpus(
  gpu: Gpu,
  corpus: TrainingCorpus,
  entries: readonly ManifestEntry[],
  source: FeatureSource,
  book: Codebook,
  o: WorkflowOptions & { framesOf: (samples: number) => number },
): Promise<Map<string, Uint16Array>> {
  const out = new Map<string, Uint16Array>();
  for await (const { e, f } of utteranceFeatures(gpu, corpus, entries, source, o, 'targets')) out.set(e.id, await assignFrames(gpu, book, f.data));
  return out;
}

/** The codebook as checkpoint tensors (under "targets.") and metadata. */
export function codebookTensors(book: Codebook): Map<string, NamedTensor> {
  return new Map<string, NamedTensor>([
    ['targets.centroids', { shape: [book.K, book.D], data: book.centroids }],
    ['targets.mean', { shape: [book.D], data: book.mean }],
    ['targets.std', { shape: [book.D], data: book.std }],
  ]);
}

export function codebookFromTensors(t: Map<string, NamedTensor>, meta: { source: 'mfcc' | 'layer'; layer?: number; inertia?: number[] }): Codebook | undefined {
  const c = t.get('targets.centroids');
  const mean = t.get('targets.mean');
  const std = t.get('targets.std');
  if (!c || !mean || !std) return undefined;
  const [K, D] = c.shape;
  return { source: meta.source, layer: meta.layer, K, D, mean: mean.data, std: std.data, centroids: c.data, inertia: meta.inertia ?? [] };
}

