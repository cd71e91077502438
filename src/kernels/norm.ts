import shader from '../../shaders/norm.wgsl?raw';
import type { Encoder } from '../gpu/encoder.ts';
import { grid } from '../gpu/encoder.ts';
import { ShapeError } from '../gpu/errors.ts';
import { params } from '../gpu/params.ts';
import { shapeString, type Tensor } from '../gpu/tensor.ts';
import { fill } from './elementwise.ts';
import { sumRows } from './reduce.ts';

/** 'row': one invocation per row, no barriers (CPU drivers). 'wg': one workgroup per row (GPUs). */
export type NormVariant = 'row' | 'wg';

/** Statistics the forward saves for the backward: one mean and one rstd per row (layer norm) or per (b, group). */
export interface NormSaved {
  mean: Tensor;
  rstd: Tensor;
}

export interface NormForward extends NormSaved {
  y: Tensor;
}

export interface NormGrads {
  dx: Tensor;
  dgamma: Tensor;
  dbeta: Tensor;
}

const WGR = 64; // norm.wgsl
const WGP = 256;
/** Rows per block of the parameter-gradient partial sums. */
const BLOCK_ROWS = 64;

/** How a norm sees x: (rows, c) in statistic blocks of L rows x CG channels, G blocks per row. */
interface Layout {
  op: string;
  rows: number;
  c: number;
  L: number;
  G: number;
  CG: number;
  eps: number;
  residual?: Tensor;
  /** GroupNorm of a padded batch: valid frames per utterance (b) i32; statistics over those only. */
  frames?: Tensor;
}

const show = (t: Tensor) => `${t.name}${shapeString(t.shape)}`;

function expectSize(op: string, t: Tensor, size: number, what: string): void {
  if (t.size !== size) throw new ShapeError(`${op}: ${show(t)} should have ${size} elements (${what})`);
}

function blocks(s: Layout): number {
  return (s.rows / s.L) * s.G;
}

function layoutParams(s: Layout) {
  return params().u32(s.rows, s.c).f32(s.eps).u32(s.L, s.G, s.CG, BLOCK_ROWS);
}

function constants(s: Layout) {
  return { HAS_RESIDUAL: !!s.residual, HAS_FRAMES: !!s.frames };
}

function forward(enc: Encoder, s: Layout, x: Tensor, gamma: Tensor, beta: Tensor, variant: NormVariant, out?: Tensor): NormForward {
  const gpu = enc.gpu;
  expectSize(s.op, gamma, s.c, `gamma is (${s.c})`);
  expectSize(s.op, beta, s.c, `beta is (${s.c})`);
  const y = out ?? gpu.tensor(x.shape, 'f32', undefined, `${s.op}.y`);
  expectSize(s.op, y, x.size, `out holds ${show(x)}`);
  const nStats = blocks(s);
  const statShape = s.G === 1 ? [nStats] : [nStats / s.G, s.G];
  const mean = gpu.tensor(statShape, 'f32', undefined, `${s.op}.mean`);
  const rstd = gpu.tensor(statShape, 'f32', undefined, `${s.op}.rstd`);
  if (x.size === 0) return { y, mean, rstd };
  const row = variant === 'row' && s.L === 1 && s.G === 1 && !s.frames;
  const buffers = [x, s.residual ?? gpu.empty, gamma, beta, y, mean, rstd];
  enc.dispatch({
    pipeline: gpu.pipeline(shader, row ? 'norm_forward_row' : 'norm_forward_wg', constants(s)),
    params: layoutParams(s),
    buffers: row ? buffers : [...buffers, s.frames ?? gpu.empty],
    workgroups: row ? grid(Math.ceil(s.rows / WGR)) : grid(nStats),
  });
  return { y, mean, rstd };
}

interface BackwardOptions {
  /** Add the parameter gradients into these (both needed together with `accumulate`). */
  dgamma?: Tensor;
  dbeta?: Tensor;
  /** dgamma += ..., dbeta += ... instead of overwriting them. */
  accumulate?: boolean;
  /** Write the input gradient into this tensor. */
  dx?: Tensor;
  variant?: NormVariant;
}

function backward(enc: Encoder, s: Layout, dy: Tensor, x: Tensor, gamma: Tensor, saved: NormSaved, opts: BackwardOptions): NormGrads {
  const gpu = enc.gpu;
  expectSize(s.op, dy, x.size, `dy matches ${show(x)}`);
  expectSize(s.op, gamma, s.c, `gamma is (${s.c})`);
  expectSize(s.op, saved.mean, blocks(s), 'one mean per statistic block, from the forward');
  expectSize(s.op, saved.rstd, blocks(s), 'one rstd per statistic block, from the forward');
  if (opts.accumulate && !(opts.dgamma && opts.dbeta)) throw new ShapeError(`${s.op}: accumulate needs dgamma and dbeta`);
  const dx = opts.dx ?? gpu.tensor(x.shape, 'f32', undefined, `${s.op}.dx`);
  expectSize(s.op, dx, x.size, `dx holds ${show(x)}`);
  const dgamma = opts.dgamma ?? gpu.tensor([s.c], 'f32', undefined, `${s.op}.dgamma`);
  const dbeta = opts.dbeta ?? gpu.tensor([s.c], 'f32', undefined, `${s.op}.dbeta`);
  expectSize(s.op, dgamma, s.c, `dgamma is (${s.c})`);
  expectSize(s.op, dbeta, s.c, `dbeta is (${s.c})`);
  const variant = opts.variant ?? (gpu.kind === 'cpu' ? 'row' : 'wg');
  const residual = s.residual ?? gpu.empty;
  if (x.size > 0) {
    const row = variant === 'row' && s.L === 1 && s.G === 1 && !s.frames;
    const buffers = [x, residual, gamma, saved.mean, saved.rstd, dy, dx];
    enc.dispatch({
      pipeline: gpu.pipeline(shader, row ? 'norm_backward_row' : 'norm_backward_wg', constants(s)),
      params: layoutParams(s),
      buffers: row ? buffers : [...buffers, s.frames ?? gpu.empty],
      workgroups: row ? grid(Math.ceil(s.rows / WGR)) : grid(blocks(s)),
    });
  }
  // dgamma = sum over rows of dy * xhat, dbeta = sum over rows of dy: partials per row block, then column sums.
  if (s.rows === 0) {
    // An empty input has zero parameter gradients.
    if (!opts.accumulate) [dgamma, dbeta].forEach((t) => fill(enc, t, 0));
    return { dx, dgamma, dbeta };
  }
  const nBlocks = Math.ceil(s.rows / BLOCK_ROWS);
  const pg = gpu.tensor([nBlocks, s.c], 'f32', undefined, `${s.op}.dgamma.partials`);
  const pb = gpu.tensor([nBlocks, s.c], 'f32', undefined, `${s.op}.dbeta.partials`);
  enc.dispatch({
    pipeline: gpu.pipeline(shader, 'param_partials', constants(s)),
    params: layoutParams(s),
    buffers: [x, residual, saved.mean, saved.rstd, dy, pg, pb, s.frames ?? gpu.empty],
    workgroups: grid(nBlocks * Math.ceil(s.c / WGP)),
  });
  sumRows(enc, pg, { out: dgamma, accumulate: opts.accumulate });
  sumRows(enc, pb, { out: dbeta, accumulate: opts.accumulate });
  enc.releaseAfter(pg, pb);
  return { dx, dgamma, dbeta };
}

function layerNormLayout(op: string, x: Tensor, eps: number, residual?: Tensor): Layout {
  if (x.shape.length < 1) throw new ShapeError(`${op}: ${show(x)} needs a last (channel) dimension`);
  const c = x.shape[x.shape.length - 1];
  if (c < 1) throw new ShapeError(`${op}: ${show(x)} has no channels`);
  if (residual && (residual.shape.length !== x.shape.length || residual.shape.some((d, i) => d !== x.shape[i]))) {
    throw new ShapeError(`${op}: residual ${show(residual)} must have the shape of ${show(x)}`);
  }
  return { op, rows: x.size / c, c, L: 1, G: 1, CG: c, eps, residual };
}

export interface LayerNormOptions {
  eps?: number;
  /** Normalise x + residual (same shape as x): the post-LN block LN(x + Mixer(x)). */
  residual?: Tensor;
  out?: Tensor;
  variant?: NormVariant;
}

/**
 * Layer norm over the last dimension: x (..., c), gamma and beta (c). y = (x - mean) * rstd * gamma + beta.
 * Returns y and the saved mean and rstd, (rows) each, rows = x.size / c.
 */
export function layerNorm(enc: Encoder, x: Tensor, gamma: Tensor, beta: Tensor, opts: LayerNormOptions = {}): NormForward {
  const s = layerNormLayout(opts.residual ? 'residualLayerNorm' : 'layerNorm', x, opts.eps ?? 1e-5, opts.residual);
  return forward(enc, s, x, gamma, beta, opts.variant ?? (enc.gpu.kind === 'cpu' ? 'row' : 'wg'), opts.out);
}

export interface LayerNormBackwardOptions extends BackwardOptions {
  /** The residual the forward added to x (its gradient equals dx). */
  residual?: Tensor;
}

/**
 * Backward of layerNorm: dy (..., c), the forward's input x (and residual), gamma and saved statistics.
 * Returns dx and the parameter gradients (summed over rows; added into opts.dgamma/dbeta with accumulate).
 */
export function layerNormBackward(
  enc: Encoder,
  dy: Tensor,
  x: Tensor,
  gamma: Tensor,
  saved: NormSaved,
  opts: LayerNormBackwardOptions = {},
): NormGrads {
  const s = layerNormLayout(opts.residual ? 'residualLayerNormBackward' : 'layerNormBackward', x, 0, opts.residual);
  return backward(enc, s, dy, x, gamma, saved, opts);
}

/** y = LN(x + r): the post-LN block x = LN(x + Mixer(x)), without materialising x + r. */
export function residualLayerNorm(
  enc: Encoder,
  x: Tensor,
  r: Tensor,
  gamma: Tensor,
  beta: Tensor,
  opts: Omit<LayerNormOptions, 'residual'> = {},
): NormForward {
  return layerNorm(enc, x, gamma, beta, { ...opts, residual: r });
}

/** Backward of residualLayerNorm: dx = dr (the same tensor, returned under both names). */
export function residualLayerNormBackward(
  enc: Encoder,
  dy: Tensor,
  x: Tensor,
  r: Tensor,
  gamma: Tensor,
  saved: NormSaved,
  opts: BackwardOptions = {},
): NormGrads & { dr: Tensor } {
  const g = layerNormBackward(enc, dy, x, gamma, saved, { ...opts, residual: r });
  return { ...g, dr: g.dx };
}

function groupNormLayout(op: string, x: Tensor, groups: number, eps: number, frames: Tensor | undefined): Layout {
  if (x.shape.length !== 3) throw new ShapeError(`${op}: ${show(x)} must be (b, l, c)`);
  const [b, l, c] = x.shape;
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0) {
    throw new ShapeError(`${op}: ${groups} groups must divide the channels c=${c} of ${show(x)}`);
  }
  if (l < 1 || c < 1) throw new ShapeError(`${op}: ${show(x)} needs at least one frame and one channel`);
  if (frames && (frames.dtype === 'f32' || frames.shape.length !== 1 || frames.shape[0] !== b)) {
    throw new ShapeError(`${op}: frames ${show(frames)}:${frames.dtype} must be (b=${b}) integers for ${show(x)}`);
  }
  return { op, rows: b * l, c, L: l, G: groups, CG: c / groups, eps, frames };
}

export interface GroupNormOptions {
  eps?: number;
  out?: Tensor;
  /** A padded batch: valid frames per utterance (b) i32, clamped to [1, l]; statistics over those only, 0 past them. */
  frames?: Tensor;
}

/**
 * GroupNorm over time: x (b, l, c), statistics per (b, group) over the l frames and the group's c / groups
 * channels, affine gamma, beta (c) per channel. HuBERT's first feature-extractor layer is groups = c.
 * With frames (a padded batch), utterance b's statistics are over its first frames[b] frames, and the frames
 * past them are 0. Returns y (b, l, c) and mean, rstd (b, groups).
 */
export function groupNorm(enc: Encoder, x: Tensor, gamma: Tensor, beta: Tensor, groups: number, opts: GroupNormOptions = {}): NormForward {
  const s = groupNormLayout('groupNorm', x, groups, opts.eps ?? 1e-5, opts.frames);
  return forward(enc, s, x, gamma, beta, 'wg', opts.out);
}

/** Backward of groupNorm: dx (b, l, c), dgamma and dbeta (c). */
export function groupNormBackward(
  enc: Encoder,
  dy: Tensor,
  x: Tensor,
  gamma: Tensor,
  groups: number,
  saved: NormSaved,
  opts: Omit<BackwardOptions, 'variant'> & { frames?: Tensor } = {},
): NormGrads {
  const s = groupNormLayout('groupNormBackward', x, groups, 0, opts.frames);
  return backward(enc, s, dy, x, gamma, saved, { ...opts, variant: 'wg' });
}
