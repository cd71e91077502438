// k-means of one layer's frames on the GPU (our kmeans kernels), as HuBERT's targets are made (train/targets.ts):
// features standardised per dimension with the fitting sample's mean and deviation, seeded k-means++
// initialisation, then Lloyd iterations. The result is a targets.ts Codebook, so that assignFrames applies it.
import type { Gpu } from '../gpu/device.ts';
import { LabError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { kmeansPlusPlusInit, lloydStep } from '../kernels/kmeans.ts';
import { hash32 } from '../speech/rng.ts';
import { throwIfAborted } from '../speech/store.ts';
import type { Codebook } from '../train/targets.ts';

export interface KmeansFitOptions {
  K: number;
  seed: number;
  /** Lloyd iterations (default 20). */
  iterations?: number;
  signal?: AbortSignal;
  /** Called after each Lloyd iteration. */
  onIteration?: (done: number, total: number) => void;
}

/** Fit K centroids to x (N, D) row-major. */
export async function fitKmeans(gpu: Gpu, x: Float32Array, N: number, D: number, o: KmeansFitOptions): Promise<Codebook> {
  const { K } = o;
  if (x.length !== N * D) throw new LabError('shape', `k-means: ${x.length} values are not N x D = ${N} x ${D}`);
  if (!Number.isInteger(K) || K < 1) throw new LabError('bad-input', `k-means: K must be a positive whole number, got ${K}`);
  if (N < K) throw new LabError('bad-input', `k-means: ${N} frames to fit, fewer than K = ${K} clusters; use K <= ${N} or a larger set`);
  const mean = new Float32Array(D);
  const std = new Float32Array(D);
  const m = new Float64Array(D);
  const v = new Float64Array(D);
  for (let i = 0; i < N; i++) for (let d = 0; d < D; d++) m[d] += x[i * D + d];
  for (let d = 0; d < D; d++) m[d] /= N;
  for (let i = 0; i < N; i++) for (let d = 0; d < D; d++) v[d] += (x[i * D + d] - m[d]) ** 2;
  for (let d = 0; d < D; d++) {
    mean[d] = m[d];
    std[d] = Math.sqrt(v[d] / N) || 1;
  }
  const z = new Float32Array(N * D);
  for (let i = 0; i < N; i++) for (let d = 0; d < D; d++) z[i * D + d] = (x[i * D + d] - mean[d]) / std[d];
  const xs = gpu.tensor([N, D], 'f32', z, 'analysis.x');
  let centroids: Tensor = gpu.tensor([K, D], 'f32', kmeansPlusPlusInit(z, N, D, K, hash32(o.seed, 'analysis-kmeans-init')), 'analysis.centroids');
  const iterations = o.iterations ?? 20;
  const inertia: number[] = [];
  try {
    for (let it = 0; it < iterations; it++) {
      throwIfAborted(o.signal);
      const step = gpu.run((enc) => lloydStep(enc, xs, centroids));
      inertia.push((await step.inertia.read())[0] / N);
      [step.assignment, step.dist, step.inertia, step.counts, centroids].forEach((t) => t.release());
      centroids = step.centroids;
      o.onIteration?.(it + 1, iterations);
    }
    return { source: 'layer', K, D, mean, std, centroids: (await centroids.read()) as Float32Array, inertia };
  } finally {
    xs.release();
    centroids.release();
  }
}
