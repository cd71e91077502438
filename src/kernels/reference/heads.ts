// CPU twins of shaders/heads.wgsl, in float64: L2 row normalisation and its backward, frame masking.
/** The smallest norm a row is divided by (torch.cosine_similarity's eps). */
export const L2_EPS = 1e-8;

function norm(x: ArrayLike<number>, base: number, c: number): number {
  let s = 0;
  for (let j = 0; j < c; j++) s += x[base + j] ** 2;
  return Math.sqrt(s);
}

/** (rows, c) -> alpha * x / max(||x||, eps) per row. */
export function l2NormalizeRef(x: ArrayLike<number>, rows: number, c: number, alpha = 1): Float64Array {
  const y = new Float64Array(rows * c);
  for (let r = 0; r < rows; r++) {
    const f = alpha / Math.max(norm(x, r * c, c), L2_EPS);
    for (let j = 0; j < c; j++) y[r * c + j] = f * x[r * c + j];
  }
  return y;
}

/** dx = alpha / n (dy - u <u, dy>), u = x / n, per row (alpha / eps * dy where the norm n is at most eps). */
export function l2NormalizeBackwardRef(x: ArrayLike<number>, dy: ArrayLike<number>, rows: number, c: number, alpha = 1): Float64Array {
  const dx = new Float64Array(rows * c);
  for (let r = 0; r < rows; r++) {
    const b = r * c;
    const n = norm(x, b, c);
    if (n <= L2_EPS) {
      for (let j = 0; j < c; j++) dx[b + j] = (alpha / L2_EPS) * dy[b + j];
      continue;
    }
    let ud = 0;
    for (let j = 0; j < c; j++) ud += (x[b + j] / n) * dy[b + j];
    for (let j = 0; j < c; j++) dx[b + j] = (alpha / n) * (dy[b + j] - (x[b + j] / n) * ud);
  }
  return dx;
}

/** x (rows, c) with the rows where mask != 0 replaced by emb (c), or zeros without emb. */
export function maskFramesRef(x: ArrayLike<number>, mask: ArrayLike<number>, rows: number, c: number, emb?: ArrayLike<number>): Float64Array {
  const y = Float64Array.from(x);
  for (let r = 0; r < rows; r++) if (mask[r] !== 0) for (let j = 0; j < c; j++) y[r * c + j] = emb ? emb[j] : 0;
  return y;
}
