import type { Gpu } from '../../gpu/device.ts';
import { maxRelError } from '../compare.ts';
import { kmeansAssign, kmeansInertia, kmeansUpdate, type KmeansAssignVariant } from '../kmeans.ts';
import { randomNormal, seeded } from '../random.ts';
import { inertiaRef, kmeansAssignRef, kmeansUpdateRef, sqDist } from '../reference/kmeans.ts';
import type { Check } from '../check.ts';
import type { KernelBench } from '../suite-types.ts';

export interface KmeansCase {
  N: number;
  D: number;
  K: number;
  variant?: KmeansAssignVariant;
}

export function describeKmeans(c: KmeansCase): string {
  return `${c.N}x${c.D} K${c.K}${c.variant ? ` ${c.variant}` : ''}`;
}

/** Points around `blobs` random centres (spread 0.3), and K initial centroids drawn near the data. */
export function kmeansData(c: KmeansCase, seed: number, blobs = Math.max(1, Math.min(c.K, 8))): { x: Float32Array; centroids: Float32Array } {
  const rand = seeded(seed);
  const centres = randomNormal(blobs * c.D, rand, 2);
  const x = randomNormal(c.N * c.D, rand, 0.3);
  for (let i = 0; i < c.N; i++) {
    const b = Math.floor(rand() * blobs);
    for (let d = 0; d < c.D; d++) x[i * c.D + d] += centres[b * c.D + d];
  }
  const centroids = randomNormal(c.K * c.D, rand, 2);
  return { x, centroids };
}

/**
 * Assignment error: for each point, how much farther the GPU's centroid is than the nearest one, and how far the
 * GPU's distance is from the exact distance to its centroid, both over the largest exact distance (ties and
 * f32 cancellation in ||x||^2 - 2 x.c + ||c||^2 make an exact index comparison meaningless).
 */
export function assignError(
  x: ArrayLike<number>,
  centroids: ArrayLike<number>,
  c: KmeansCase,
  assignment: ArrayLike<number>,
  dist: ArrayLike<number>,
): number {
  const want = kmeansAssignRef(x, centroids, c.N, c.D, c.K);
  let scale = 1e-30;
  for (const d of want.dist) scale = Math.max(scale, d);
  let worst = 0;
  for (let i = 0; i < c.N; i++) {
    if (!(assignment[i] < c.K)) return Infinity;
    const exact = sqDist(x, i, centroids, assignment[i], c.D);
    const e = Math.max(exact - want.dist[i], Math.abs(dist[i] - exact)) / scale;
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
  }
  return worst;
}

export async function checkKmeansAssign(gpu: Gpu, c: KmeansCase, seed: number): Promise<number> {
  const { x, centroids } = kmeansData(c, seed);
  const tx = gpu.tensor([c.N, c.D], 'f32', x, 'x');
  const tc = gpu.tensor([c.K, c.D], 'f32', centroids, 'centroids');
  const out = gpu.run((enc) => {
    const a = kmeansAssign(enc, tx, tc, { variant: c.variant });
    return { ...a, inertia: kmeansInertia(enc, a.dist) };
  });
  const [assignment, dist, inertia] = [await out.assignment.read(), await out.dist.read(), await out.inertia.read()];
  for (const t of [tx, tc, out.assignment, out.dist, out.inertia]) t.release();
  return Math.max(assignError(x, centroids, c, assignment, dist), maxRelError(inertia, [inertiaRef(dist)]));
}

/** Update from the twin's assignment; relative error of the centroids, counts exact. */
export async function checkKmeansUpdate(gpu: Gpu, c: KmeansCase, seed: number): Promise<number> {
  const { x, centroids } = kmeansData(c, seed);
  const { assignment } = kmeansAssignRef(x, centroids, c.N, c.D, c.K);
  const tx = gpu.tensor([c.N, c.D], 'f32', x, 'x');
  const tc = gpu.tensor([c.K, c.D], 'f32', centroids, 'centroids');
  const ta = gpu.tensor([c.N], 'u32', assignment, 'assignment');
  const out = gpu.run((enc) => kmeansUpdate(enc, tx, ta, tc));
  const [got, counts] = [await out.centroids.read(), await out.counts.read()];
  for (const t of [tx, tc, ta, out.centroids, out.counts]) t.release();
  const want = kmeansUpdateRef(x, assignment, centroids, c.N, c.D, c.K);
  const countsOk = want.counts.every((n, k) => counts[k] === n);
  return countsOk ? maxRelError(got, want.centroids) : Infinity;
}

const CASES: KmeansCase[] = [
  { N: 1, D: 1, K: 1 },
  { N: 257, D: 13, K: 7 },
  { N: 1000, D: 64, K: 37 },
  { N: 333, D: 20, K: 10, variant: 'matmul' },
];

export const kmeansChecks: Check[] = CASES.flatMap((c): Check[] => [
  { family: 'kmeans', name: `assign ${describeKmeans(c)}`, tolerance: 1e-4, run: (gpu, seed) => checkKmeansAssign(gpu, c, seed) },
  { family: 'kmeans', name: `update ${describeKmeans(c)}`, tolerance: 1e-4, run: (gpu, seed) => checkKmeansUpdate(gpu, c, seed) },
]);

export function kmeansAssignBench(N: number, D: number, K: number, variant?: KmeansAssignVariant): KernelBench {
  return {
    family: 'kmeans',
    name: `kmeans assign ${variant ?? 'auto'}`,
    shape: `${N}x${D} K${K}`,
    flops: 2 * N * K * D,
    bytes: 4 * (N * D + K * D + 2 * N),
    setup(gpu) {
      const rand = seeded(N + K);
      const x = gpu.tensor([N, D], 'f32', randomNormal(N * D, rand), 'x');
      const c = gpu.tensor([K, D], 'f32', randomNormal(K * D, rand), 'centroids');
      const out = { assignment: gpu.tensor([N], 'u32', undefined, 'assignment'), dist: gpu.tensor([N], 'f32', undefined, 'dist') };
      return {
        record: (enc) => void kmeansAssign(enc, x, c, { variant, out }),
        dispose: () => [x, c, out.assignment, out.dist].forEach((t) => t.release()),
      };
    },
  };
}

export function kmeansUpdateBench(N: number, D: number, K: number): KernelBench {
  return {
    family: 'kmeans',
    name: 'kmeans update',
    shape: `${N}x${D} K${K}`,
    bytes: 4 * (N * D + 2 * K * D + 6 * N),
    setup(gpu) {
      const rand = seeded(N + K + 1);
      const x = gpu.tensor([N, D], 'f32', randomNormal(N * D, rand), 'x');
      const c = gpu.tensor([K, D], 'f32', randomNormal(K * D, rand), 'centroids');
      const a = gpu.tensor([N], 'u32', Uint32Array.from({ length: N }, () => Math.floor(rand() * K)), 'assignment');
      const next = gpu.tensor([K, D], 'f32', undefined, 'next');
      return {
        record: (enc) => enc.releaseAfter(kmeansUpdate(enc, x, a, c, next).counts),
        dispose: () => [x, c, a, next].forEach((t) => t.release()),
      };
    },
  };
}

export const kmeansBenches: KernelBench[] = [
  kmeansAssignBench(10000, 768, 100),
  kmeansAssignBench(10000, 768, 500),
  kmeansUpdateBench(10000, 768, 500),
];
