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
  /**
   * GroupNorm over padded batches: the valid rows of each row block (utterance); the statistics use those
   * only, and the rows past them are 0.
   */
  frames?: readonly number[];
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

interface Block {
  /** Flat indices of the elements the statistics are taken over, and of the padded rows' elements. */
  valid: number[];
  padded: number[];
}

/** The elements of each statistic block, in block order (row-block major, then group). */
function blockIndices(s: NormLayoutRef): Block[] {
  const G = s.c / s.CG;
  const out: Block[] = [];
  for (let bi = 0; bi < s.rows / s.L; bi++) {
    const n = Math.max(1, Math.min(s.L, s.frames?.[bi] ?? s.L));
    for (let g = 0; g < G; g++) {
      const block: Block = { valid: [], padded: [] };
      for (let t = 0; t < s.L; t++) for (let k = 0; k < s.CG; k++) (t < n ? block.valid : block.padded).push((bi * s.L + t) * s.c + g * s.CG + k);
      out.push(block);
    }
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
  blocks.forEach(({ valid }, b) => {
    let sum = 0;
    for (const i of valid) sum += input(x, r, i);
    const m = sum / valid.length;
    let q = 0;
    for (const i of valid) q += (input(x, r, i) - m) ** 2;
    const rs = 1 / Math.sqrt(q / valid.length + eps);
    mean[b] = m;
    rstd[b] = rs;
    for (const i of valid) {
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
  blocks.forEach(({ valid, padded }, b) => {
    const m = mean[b];
    const rs = rstd[b];
    let s1 = 0;
    let s2 = 0;
    for (const i of valid) {
      const ch = i % s.c;
      const xh = (input(x, r, i) - m) * rs;
      const g = dy[i] * gamma[ch];
      s1 += g;
      s2 += g * xh;
      dgamma[ch] += dy[i] * xh;
      dbeta[ch] += dy[i];
    }
    const a = s1 / valid.length;
    const c2 = s2 / valid.length;
    for (const i of valid) {
      const ch = i % s.c;
      const xh = (input(x, r, i) - m) * rs;
      dx[i] = rs * (dy[i] * gamma[ch] - a - xh * c2);
    }
    // Padded rows are 0 in the forward: no gradient flows through them.
    for (const i of padded) dx[i] = 0;
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

/** GroupNorm on x (b, l, c): statistics per (b, group) over l (or utterance b's frames[b]) and c / groups channels. */
export function groupNormRef(
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  b: number,
  l: number,
  c: number,
  groups: number,
  eps = 1e-5,
  frames?: readonly number[],
): NormForwardRef {
  return normRef(x, gamma, beta, { rows: b * l, c, L: l, CG: c / groups, frames }, eps);
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
  frames?: readonly number[],
): NormGradsRef {
  return normBackwardRef(dy, x, gamma, saved.mean, saved.rstd, { rows: b * l, c, L: l, CG: c / groups, frames });
}
