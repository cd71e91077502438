// CPU twins of kmeans.wgsl, float64: nearest-centroid assignment and the mean update.

export interface KmeansAssignRef {
  /** (N) index of the nearest centroid (the first one on a tie). */
  assignment: Uint32Array;
  /** (N) squared Euclidean distance to it. */
  dist: Float64Array;
}

/** Squared distance between row i of x (., D) and row k of c (., D). */
export function sqDist(x: ArrayLike<number>, i: number, c: ArrayLike<number>, k: number, D: number): number {
  let s = 0;
  for (let d = 0; d < D; d++) {
    const e = x[i * D + d] - c[k * D + d];
    s += e * e;
  }
  return s;
}

/** x (N, D), centroids (K, D). */
export function kmeansAssignRef(x: ArrayLike<number>, centroids: ArrayLike<number>, N: number, D: number, K: number): KmeansAssignRef {
  const assignment = new Uint32Array(N);
  const dist = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    let best = Infinity;
    let bk = 0;
    for (let k = 0; k < K; k++) {
      const d = sqDist(x, i, centroids, k, D);
      if (d < best) {
        best = d;
        bk = k;
      }
    }
    assignment[i] = bk;
    dist[i] = best;
  }
  return { assignment, dist };
}

/** New centroids (K, D) = mean of the points assigned to each; an empty cluster keeps its old centroid. */
export function kmeansUpdateRef(
  x: ArrayLike<number>,
  assignment: ArrayLike<number>,
  centroids: ArrayLike<number>,
  N: number,
  D: number,
  K: number,
): { centroids: Float64Array; counts: Uint32Array } {
  const sums = new Float64Array(K * D);
  const counts = new Uint32Array(K);
  for (let i = 0; i < N; i++) {
    const a = assignment[i];
    counts[a]++;
    for (let d = 0; d < D; d++) sums[a * D + d] += x[i * D + d];
  }
  const out = new Float64Array(K * D);
  for (let k = 0; k < K; k++)
    for (let d = 0; d < D; d++) out[k * D + d] = counts[k] ? sums[k * D + d] / counts[k] : centroids[k * D + d];
  return { centroids: out, counts };
}

/** Sum of the distances (the k-means objective). */
export function inertiaRef(dist: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < dist.length; i++) s += dist[i];
  return s;
}
