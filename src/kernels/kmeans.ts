import shader from '../../shaders/kmeans.wgsl?raw';
import type { Encoder } from '../gpu/encoder.ts';
import { grid } from '../gpu/encoder.ts';
import { ShapeError } from '../gpu/errors.ts';
import { params } from '../gpu/params.ts';
import { shapeString, type Tensor } from '../gpu/tensor.ts';
import { matmul } from './matmul.ts';
import { seeded } from './random.ts';
import { sqDist } from './reference/kmeans.ts';

/** 'fused': register-tiled distances, no temporary (CPU drivers). 'matmul': x.C^T by the matmul kernel, then argmin. */
export type KmeansAssignVariant = 'fused' | 'matmul';

const BLOCK = 256;

function describe(t: Tensor): string {
  return `${t.name}${shapeString(t.shape)}`;
}

function checkXC(what: string, x: Tensor, centroids: Tensor): { N: number; D: number; K: number } {
  if (x.shape.length !== 2 || x.dtype !== 'f32') throw new ShapeError(`${what}: x ${describe(x)} must be (N, D) f32`);
  if (centroids.shape.length !== 2 || centroids.dtype !== 'f32') {
    throw new ShapeError(`${what}: centroids ${describe(centroids)} must be (K, D) f32`);
  }
  const [N, D] = x.shape;
  const [K, Dc] = centroids.shape;
  if (Dc !== D) throw new ShapeError(`${what}: centroids ${describe(centroids)} have D=${Dc} but x ${describe(x)} has D=${D}`);
  if (K < 1 || D < 1) throw new ShapeError(`${what}: need K >= 1 and D >= 1, got centroids ${describe(centroids)}`);
  return { N, D, K };
}

export interface KmeansAssignment {
  /** (N) u32: nearest centroid (the first on a tie). */
  assignment: Tensor<'u32'>;
  /** (N) f32: squared distance to it (||x||^2 - 2 x.c + ||c||^2, clamped at 0). */
  dist: Tensor;
}

/** Nearest centroid by squared Euclidean distance: x (N, D), centroids (K, D). */
export function kmeansAssign(
  enc: Encoder,
  x: Tensor,
  centroids: Tensor,
  opts: { variant?: KmeansAssignVariant; out?: KmeansAssignment } = {},
): KmeansAssignment {
  const { N, D, K } = checkXC('kmeansAssign', x, centroids);
  const gpu = enc.gpu;
  const out = opts.out ?? {
    assignment: gpu.tensor([N], 'u32', undefined, 'kmeans.assignment'),
    dist: gpu.tensor([N], 'f32', undefined, 'kmeans.dist'),
  };
  if (out.assignment.size !== N || out.dist.size !== N) {
    throw new ShapeError(`kmeansAssign: out ${describe(out.assignment)} and ${describe(out.dist)} must hold N=${N}`);
  }
  if (N === 0) return out;
  const cnorm = gpu.tensor([K], 'f32', undefined, 'kmeans.cnorm');
  const p = params().u32(N, D, K, Math.ceil(N / BLOCK), N);
  enc.dispatch({ pipeline: gpu.pipeline(shader, 'centroid_norms'), params: p, buffers: [centroids, cnorm], workgroups: grid(Math.ceil(K / 64)) });
  const dotsBytes = N * K * 4;
  const variant = opts.variant ?? (gpu.kind === 'gpu' && dotsBytes <= Math.min(gpu.maxBindingBytes, 1 << 28) ? 'matmul' : 'fused');
  if (variant === 'matmul') {
    const dots = matmul(enc, x, centroids, { transB: true }); // (N, K)
    enc.dispatch({
      pipeline: gpu.pipeline(shader, 'assign_from_dots'),
      params: p,
      buffers: [x, dots, cnorm, out.assignment, out.dist],
      workgroups: grid(Math.ceil(N / 64)),
      macs: N * D,
    });
    enc.releaseAfter(dots);
  } else {
    enc.dispatch({
      pipeline: gpu.pipeline(shader, D % 4 === 0 ? 'assign_vec4' : 'assign_scalar'),
      params: p,
      buffers: [x, centroids, cnorm, out.assignment, out.dist],
      workgroups: grid(Math.ceil(N / 256)),
      macs: N * K * D + N * D,
    });
  }
  enc.releaseAfter(cnorm);
  return out;
}

export interface KmeansUpdate {
  /** (K, D) new centroids: the mean of each cluster's points; an empty cluster keeps its old centroid. */
  centroids: Tensor;
  /** (K) u32 points per cluster. */
  counts: Tensor<'u32'>;
}

/**
 * Centroid update from an assignment (N) u32 (values >= K are ignored). Deterministic: a stable counting
 * sort of the points by cluster (integer work only), then each centroid sums its points in index order.
 */
export function kmeansUpdate(enc: Encoder, x: Tensor, assignment: Tensor, centroids: Tensor, out?: Tensor): KmeansUpdate {
  const { N, D, K } = checkXC('kmeansUpdate', x, centroids);
  if (assignment.size !== N || assignment.dtype === 'f32') {
    throw new ShapeError(`kmeansUpdate: assignment ${describe(assignment)}:${assignment.dtype} must hold N=${N} integers for x ${describe(x)}`);
  }
  const gpu = enc.gpu;
  const next = out ?? gpu.tensor([K, D], 'f32', undefined, 'kmeans.centroids');
  if (next.size !== K * D || next === centroids) {
    throw new ShapeError(`kmeansUpdate: out ${describe(next)} must be a separate (K, D) = [${K}, ${D}] tensor`);
  }
  const counts = gpu.tensor([K], 'u32', undefined, 'kmeans.counts');
  const nb = Math.max(1, Math.ceil(N / BLOCK));
  const blockCounts = gpu.tensor([K, nb], 'u32', undefined, 'kmeans.blockCounts');
  const rank = gpu.tensor([Math.max(N, 1)], 'u32', undefined, 'kmeans.rank');
  const offsets = gpu.tensor([K * nb + 1], 'u32', undefined, 'kmeans.offsets');
  const order = gpu.tensor([Math.max(N, 1)], 'u32', undefined, 'kmeans.order');
  const p = params().u32(N, D, K, nb, K * nb);
  enc.dispatch({ pipeline: gpu.pipeline(shader, 'km_zero'), params: p, buffers: [blockCounts], workgroups: grid(Math.ceil((K * nb) / 256)) });
  enc.dispatch({ pipeline: gpu.pipeline(shader, 'km_block_counts'), params: p, buffers: [assignment, blockCounts, rank], workgroups: grid(Math.ceil(N / BLOCK)) });
  enc.dispatch({ pipeline: gpu.pipeline(shader, 'km_scan'), params: p, buffers: [blockCounts, offsets], workgroups: [1] });
  enc.dispatch({ pipeline: gpu.pipeline(shader, 'km_scatter'), params: p, buffers: [assignment, rank, offsets, order], workgroups: grid(Math.ceil(N / 256)) });
  enc.dispatch({
    pipeline: gpu.pipeline(shader, 'km_update'),
    params: p,
    buffers: [x, order, offsets, centroids, next, counts],
    workgroups: grid(Math.ceil((K * Math.ceil(D / 4)) / 256)),
    macs: N * D,
  });
  enc.releaseAfter(blockCounts, rank, offsets, order);
  return { centroids: next, counts };
}

/** (1) f32: sum of the distances, in a fixed order (one workgroup). */
export function kmeansInertia(enc: Encoder, dist: Tensor, out?: Tensor): Tensor {
  const o = out ?? enc.gpu.tensor([1], 'f32', undefined, 'kmeans.inertia');
  if (o.size !== 1) throw new ShapeError(`kmeansInertia: out ${describe(o)} must hold 1 value`);
  enc.dispatch({ pipeline: enc.gpu.pipeline(shader, 'km_sum'), params: params().u32(0, 0, 0, 0, dist.size), buffers: [dist, o], workgroups: [1] });
  return o;
}

export interface LloydStep extends KmeansAssignment, KmeansUpdate {
  /** (1) inertia of the assignment to the OLD centroids. */
  inertia: Tensor;
}

/** One Lloyd iteration: assign to `centroids`, its inertia, and the updated centroids (a new tensor). */
export function lloydStep(enc: Encoder, x: Tensor, centroids: Tensor, variant?: KmeansAssignVariant): LloydStep {
  const a = kmeansAssign(enc, x, centroids, { variant });
  const inertia = kmeansInertia(enc, a.dist);
  const u = kmeansUpdate(enc, x, a.assignment, centroids);
  return { ...a, ...u, inertia };
}

/**
 * Seeded k-means++ initialisation on the CPU: x (N, D) row-major; returns centroids (K, D).
 * Runs on at most `sample` points (a seeded random subset) since its cost is sample * K * D.
 */
export function kmeansPlusPlusInit(x: ArrayLike<number>, N: number, D: number, K: number, seed: number, sample = Math.max(1000, 20 * K)): Float32Array {
  if (K < 1 || N < 1) throw new ShapeError(`kmeansPlusPlusInit: need N >= 1 points and K >= 1 clusters, got N=${N}, K=${K}`);
  if (x.length !== N * D) throw new ShapeError(`kmeansPlusPlusInit: x has ${x.length} values, not N*D = ${N}*${D}`);
  const rand = seeded(seed);
  // Partial Fisher-Yates: the first m entries of idx are a random subset.
  const m = Math.min(N, sample);
  const idx = Uint32Array.from({ length: N }, (_, i) => i);
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(rand() * (N - i));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  const pts = new Float64Array(m * D);
  for (let i = 0; i < m; i++) for (let d = 0; d < D; d++) pts[i * D + d] = x[idx[i] * D + d];
  const out = new Float32Array(K * D);
  const best = new Float64Array(m).fill(Infinity);
  let pick = Math.floor(rand() * m);
  for (let k = 0; k < K; k++) {
    for (let d = 0; d < D; d++) out[k * D + d] = pts[pick * D + d];
    let total = 0;
    for (let i = 0; i < m; i++) {
      best[i] = Math.min(best[i], sqDist(pts, i, out, k, D));
      total += best[i];
    }
    if (k + 1 === K) break;
    // Next centre with probability proportional to the squared distance (uniform when all are 0).
    let r = rand() * total;
    pick = Math.floor(rand() * m);
    if (total > 0) {
      for (let i = 0; i < m; i++) {
        r -= best[i];
        if (r <= 0 && best[i] > 0) {
          pick = i;
          break;
        }
      }
    }
  }
  return out;
}

/** Seeded random initialisation: K distinct points of x (N, D) (repeats only when K > N). */
export function kmeansRandomInit(x: ArrayLike<number>, N: number, D: number, K: number, seed: number): Float32Array {
  if (K < 1 || N < 1) throw new ShapeError(`kmeansRandomInit: need N >= 1 points and K >= 1 clusters, got N=${N}, K=${K}`);
  const rand = seeded(seed);
  const idx = Uint32Array.from({ length: N }, (_, i) => i);
  const out = new Float32Array(K * D);
  for (let k = 0; k < K; k++) {
    const i = k % N;
    const j = i + Math.floor(rand() * (N - i));
    [idx[i], idx[j]] = [idx[j], idx[i]];
    for (let d = 0; d < D; d++) out[k * D + d] = x[idx[i] * D + d];
  }
  return out;
}
