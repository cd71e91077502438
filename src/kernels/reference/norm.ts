// CPU twin of norm.wgsl: layer norm (optionally of x + r) and GroupNorm, forward and backward, float64.
//
// Both are one function over x viewed as (rows, c) in statistic blocks of L rows x CG channels
// (G = c / CG blocks per row): layer norm is L = 1, CG = c; GroupNorm on (b, l, c) is L = l, CG = c / groups.

export interface NormLayoutRef {
  rows: number;
  c: number;
  /** Rows per statistic block (1 for layer norm, l for GroupNorm). */
  L: number;
  /** Channels per statistic block (c for layer norm, c / groups for GroupNorm). */
  CG: number;
}

export interface NormForwardRef {
  y: Float64Array;
  mean: Float64Array;
  rstd: Float64Array;
}

export interface NormGradsRef {
  dx: Float64Array;
  dgamma: Float64Array;
  dbeta: Float64Array;
}

/** Flat indices of the elements of each statistic block, in block order (row-block major, then group). */
function blockIndices(s: NormLayoutRef): number[][] {
  const G = s.c / s.CG;
  const out: number[][] = [];
  for (let bi = 0; bi < s.rows / s.L; bi++)
    for (let g = 0; g < G; g++) {
      const idx: number[] = [];
      for (let t = 0; t < s.L; t++) for (let k = 0; k < s.CG; k++) idx.push((bi * s.L + t) * s.c + g * s.CG + k);
      out.push(idx);
    }
  return out;
}

function input(x: ArrayLike<number>, r: ArrayLike<number> | undefined, i: number): number {
  return r ? x[i] + r[i] : x[i];
}

export function normRef(
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  s: NormLayoutRef,
  eps: number,
  r?: ArrayLike<number>,
): NormForwardRef {
  const blocks = blockIndices(s);
  const y = new Float64Array(s.rows * s.c);
  const mean = new Float64Array(blocks.length);
  const rstd = new Float64Array(blocks.length);
  blocks.forEach((idx, b) => {
    let sum = 0;
    for (const i of idx) sum += input(x, r, i);
    const m = sum / idx.length;
    let q = 0;
    for (const i of idx) q += (input(x, r, i) - m) ** 2;
    const rs = 1 / Math.sqrt(q / idx.length + eps);
    mean[b] = m;
    rstd[b] = rs;
    for (const i of idx) {
      const ch = i % s.c;
      y[i] = (input(x, r, i) - m) * rs * gamma[ch] + beta[ch];
    }
  });
  return { y, mean, rstd };
}

/** dx (also the gradient of r when the forward normalised x + r), dgamma, dbeta. */
export function normBackwardRef(
  dy: ArrayLike<number>,
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  mean: ArrayLike<number>,
  rstd: ArrayLike<number>,
  s: NormLayoutRef,
  r?: ArrayLike<number>,
): NormGradsRef {
  const blocks = blockIndices(s);
  const dx = new Float64Array(s.rows * s.c);
  const dgamma = new Float64Array(s.c);
  const dbeta = new Float64Array(s.c);
  blocks.forEach((idx, b) => {
    const m = mean[b];
    const rs = rstd[b];
    let s1 = 0;
    let s2 = 0;
    for (const i of idx) {
      const ch = i % s.c;
      const xh = (input(x, r, i) - m) * rs;
      const g = dy[i] * gamma[ch];
      s1 += g;
      s2 += g * xh;
      dgamma[ch] += dy[i] * xh;
      dbeta[ch] += dy[i];
    }
    const a = s1 / idx.length;
    const c2 = s2 / idx.length;
    for (const i of idx) {
      const ch = i % s.c;
      const xh = (input(x, r, i) - m) * rs;
      dx[i] = rs * (dy[i] * gamma[ch] - a - xh * c2);
    }
  });
  return { dx, dgamma, dbeta };
}

/** Layer norm over the last dim of x (rows, c) (of x + r when r is given). */
export function layerNormRef(
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  rows: number,
  c: number,
  eps = 1e-5,
  r?: ArrayLike<number>,
): NormForwardRef {
  return normRef(x, gamma, beta, { rows, c, L: 1, CG: c }, eps, r);
}

export function layerNormBackwardRef(
  dy: ArrayLike<number>,
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  saved: { mean: ArrayLike<number>; rstd: ArrayLike<number> },
  rows: number,
  c: number,
  r?: ArrayLike<number>,
): NormGradsRef {
  return normBackwardRef(dy, x, gamma, saved.mean, saved.rstd, { rows, c, L: 1, CG: c }, r);
}

/** GroupNorm on x (b, l, c): statistics per (b, group) over l and c / groups channels. */
export function groupNormRef(
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  b: number,
  l: number,
  c: number,
  groups: number,
  eps = 1e-5,
): NormForwardRef {
  return normRef(x, gamma, beta, { rows: b * l, c, L: l, CG: c / groups }, eps);
}

export function groupNormBackwardRef(
  dy: ArrayLike<number>,
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  saved: { mean: ArrayLike<number>; rstd: ArrayLike<number> },
  b: number,
  l: number,
  c: number,
  groups: number,
): NormGradsRef {
  return normBackwardRef(dy, x, gamma, saved.mean, saved.rstd, { rows: b * l, c, L: l, CG: c / groups });
}
