import shader from '../../shaders/attention.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { grid, type Encoder } from '../gpu/encoder.ts';
import { LabError, ShapeError } from '../gpu/errors.ts';
import { params } from '../gpu/params.ts';
import { assertShape, shapeString, type Tensor } from '../gpu/tensor.ts';

// Multi-head scaled dot-product attention on q, k, v of (b, l, d_model) with h heads (head i owns channels
// i*dh .. (i+1)*dh - 1, dh = d_model / h), scale 1/sqrt(dh); the output has the same layout. The q/k/v and
// output projections are separate matmuls.
//
// Two forms:
//  - materialised: scores (b, h, l, l) are stored, turned into probabilities in place, then P.v. The
//    probabilities are what the backward needs. Runs out of memory on long inputs: the scores tensor is
//    created first, and gpu.tensor throws TooLargeError ("attention scores ...") when it exceeds the device.
//  - tiled (flash-attention style): one pass with a running max and sum per query row, never storing l x l;
//    saves the per-row logsumexp (b, h, l) for the backward, which recomputes the probabilities.
// Plus a decode step over a KV cache (causal only) for streaming.

export interface AttentionOptions {
  /** h; d_model must be a multiple of it. */
  heads: number;
  causal: boolean;
  /**
   * A padded batch: valid frames per utterance (b) i32. Keys past an utterance's length are hidden from every
   * query (clamped to [1, l]); queries past it get outputs that the valid frames never see.
   */
  keyLengths?: Tensor;
}

export interface MaterialisedForward {
  out: Tensor<'f32'>; // (b, l, d_model)
  probs: Tensor<'f32'>; // (b, h, l, l) softmax probabilities, 0 where causally hidden
}

export interface TiledForward {
  out: Tensor<'f32'>; // (b, l, d_model)
  lse: Tensor<'f32'>; // (b, h, l) logsumexp of each scaled score row
}

export interface AttentionGrads {
  dq: Tensor<'f32'>;
  dk: Tensor<'f32'>;
  dv: Tensor<'f32'>;
}

/** Largest head width the tiled kernels hold in registers. */
export const TILED_MAX_DH = 128;

const ROWS_PER_WG = 64; // tiled kernels and the row-wise softmax kernels
const TILE = 32; // materialised kernels: 8x8 invocations of 4x4 outputs

interface Dims {
  b: number;
  l: number;
  dModel: number;
  h: number;
  dh: number;
}

function describe(t: Tensor): string {
  return `${t.name}${shapeString(t.shape)}`;
}

/** Shape checks shared by every entry: q, k, v (and any extra like dout) all (b, l, d_model). */
function checkQkv(what: string, q: Tensor, k: Tensor, v: Tensor, heads: number, extra: Tensor[] = []): Dims {
  if (q.shape.length !== 3) throw new ShapeError(`${what}: q ${describe(q)} must be (b, l, d_model)`);
  const [b, l, dModel] = q.shape;
  for (const t of [k, v, ...extra]) {
    if (t.shape.length !== 3 || t.shape[0] !== b || t.shape[1] !== l || t.shape[2] !== dModel) {
      throw new ShapeError(`${what}: ${describe(t)} must have the shape of q ${describe(q)}`);
    }
  }
  if (!Number.isInteger(heads) || heads < 1 || dModel % heads !== 0) {
    throw new ShapeError(`${what}: d_model ${dModel} of ${describe(q)} is not a multiple of h = ${heads}`);
  }
  if (b < 1 || l < 1) throw new ShapeError(`${what}: ${describe(q)} needs b >= 1 and l >= 1`);
  return { b, l, dModel, h: heads, dh: dModel / heads };
}

function checkKeyLengths(what: string, opts: AttentionOptions, d: Dims): void {
  const t = opts.keyLengths;
  if (t && (t.dtype === 'f32' || t.shape.length !== 1 || t.shape[0] !== d.b)) {
    throw new ShapeError(`${what}: key lengths ${describe(t)}:${t.dtype} must be (b=${d.b}) integers`);
  }
}

/** Overrides of the kernels that take key lengths, and the buffer bound after their own (empty without). */
function lengthsOf(gpu: Gpu, opts: AttentionOptions, c: Record<string, boolean>) {
  return { constants: { ...c, KEY_LENGTHS: !!opts.keyLengths }, buffer: opts.keyLengths ?? gpu.empty };
}

function checkTiledHead(what: string, q: Tensor, d: Dims): void {
  if (d.dh > TILED_MAX_DH) {
    throw new ShapeError(`${what}: head width dh = ${d.dh} of ${describe(q)} with h = ${d.h} exceeds ${TILED_MAX_DH}`);
  }
}

function p(d: Dims, o: { lq?: number; lk?: number; kRows?: number; qOffset?: number; alpha: number }) {
  const lq = o.lq ?? d.l;
  const lk = o.lk ?? d.l;
  return params()
    .u32(d.b, lq, lk, o.kRows ?? lk, d.dModel, d.h, d.dh, o.qOffset ?? 0)
    .f32(o.alpha);
}

function rowsGrid(rows: number): [number, number] {
  return grid(Math.ceil(rows / ROWS_PER_WG));
}

// ---------------------------------------------------------------------------------------------------------
// Materialised form.

/** Scores, softmax and P.v with the (b, h, l, l) probabilities stored (the caller owns and releases them). */
export function attentionMaterialised(enc: Encoder, q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions): MaterialisedForward {
  const d = checkQkv('attention', q, k, v, opts.heads);
  checkKeyLengths('attention', opts, d);
  const gpu = enc.gpu;
  // Created first: on long inputs this is what does not fit, and nothing else is allocated yet.
  const probs = gpu.tensor([d.b, d.h, d.l, d.l], 'f32', undefined, 'attention scores');
  const out = gpu.tensor([d.b, d.l, d.dModel], 'f32', undefined, 'attention.out');
  const c = { CAUSAL: opts.causal };
  const scale = 1 / Math.sqrt(d.dh);
  const macs = d.b * d.l * d.l * d.dModel * (opts.causal ? 0.5 : 1);
  enc.dispatch({
    pipeline: gpu.pipeline(shader, 'rows_dot', c),
    params: p(d, { alpha: scale }),
    buffers: [q, k, probs],
    workgroups: [Math.ceil(d.l / TILE), Math.ceil(d.l / TILE), d.b * d.h],
    macs,
  });
  const len = lengthsOf(gpu, opts, c);
  enc.dispatch({
    pipeline: gpu.pipeline(shader, 'softmax_rows', len.constants),
    params: p(d, { alpha: 1 }),
    buffers: [probs, len.buffer],
    workgroups: rowsGrid(d.b * d.h * d.l),
  });
  enc.dispatch({
    pipeline: gpu.pipeline(shader, 'rows_times', c),
    params: p(d, { alpha: 1 }),
    buffers: [probs, v, out],
    workgroups: [Math.ceil(d.dh / TILE), Math.ceil(d.l / TILE), d.b * d.h],
    macs,
  });
  return { out, probs };
}

/**
 * dq, dk, dv from the stored probabilities; needs a second (b, h, l, l) buffer for dP / dS. Key lengths need
 * not be given again: the probabilities are 0 at hidden keys, and so are dS, dk and dv there.
 */
export function attentionMaterialisedBackward(
  enc: Encoder,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  probs: Tensor,
  dout: Tensor,
  opts: AttentionOptions,
): AttentionGrads {
  const d = checkQkv('attention backward', q, k, v, opts.heads, [dout]);
  assertShape(probs, [d.b, d.h, d.l, d.l], 'attention backward: probs');
  const gpu = enc.gpu;
  const ds = gpu.tensor([d.b, d.h, d.l, d.l], 'f32', undefined, 'attention score gradients');
  enc.releaseAfter(ds);
  const dq = gpu.tensor(q.shape, 'f32', undefined, 'attention.dq');
  const dk = gpu.tensor(q.shape, 'f32', undefined, 'attention.dk');
  const dv = gpu.tensor(q.shape, 'f32', undefined, 'attention.dv');
  const c = { CAUSAL: opts.causal };
  const scale = 1 / Math.sqrt(d.dh);
  const macs = d.b * d.l * d.l * d.dModel * (opts.causal ? 0.5 : 1);
  const square: [number, number, number] = [Math.ceil(d.l / TILE), Math.ceil(d.l / TILE), d.b * d.h];
  const thin: [number, number, number] = [Math.ceil(d.dh / TILE), Math.ceil(d.l / TILE), d.b * d.h];
  // dP = dout.v^T, then dS = P * (dP - rowsum(P * dP)) in place.
  enc.dispatch({ pipeline: gpu.pipeline(shader, 'rows_dot', c), params: p(d, { alpha: 1 }), buffers: [dout, v, ds], workgroups: square, macs });
  enc.dispatch({
    pipeline: gpu.pipeline(shader, 'softmax_rows_backward', c),
    params: p(d, { alpha: 1 }),
    buffers: [probs, ds],
    workgroups: rowsGrid(d.b * d.h * d.l),
  });
  // dv = P^T.dout, dq = scale dS.k, dk = scale dS^T.q
  enc.dispatch({ pipeline: gpu.pipeline(shader, 'cols_times', c), params: p(d, { alpha: 1 }), buffers: [probs, dout, dv], workgroups: thin, macs });
  enc.dispatch({ pipeline: gpu.pipeline(shader, 'rows_times', c), params: p(d, { alpha: scale }), buffers: [ds, k, dq], workgroups: thin, macs });
  enc.dispatch({ pipeline: gpu.pipeline(shader, 'cols_times', c), params: p(d, { alpha: scale }), buffers: [ds, q, dk], workgroups: thin, macs });
  return { dq, dk, dv };
}

// ---------------------------------------------------------------------------------------------------------
// Tiled (online-softmax) form.

/** Flash-style forward: out and the row logsumexp (the caller owns both). Needs dh <= 128. */
export function attentionTiled(enc: Encoder, q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions): TiledForward {
  const d = checkQkv('attention', q, k, v, opts.heads);
  checkTiledHead('attention', q, d);
  checkKeyLengths('attention', opts, d);
  const gpu = enc.gpu;
  const out = gpu.tensor([d.b, d.l, d.dModel], 'f32', undefined, 'attention.out');
  const lse = gpu.tensor([d.b, d.h, d.l], 'f32', undefined, 'attention.lse');
  const len = lengthsOf(gpu, opts, { CAUSAL: opts.causal, SAVE_LSE: true });
  enc.dispatch({
    pipeline: gpu.pipeline(shader, 'flash_forward', len.constants),
    params: p(d, { alpha: 1 / Math.sqrt(d.dh) }),
    buffers: [q, k, v, out, lse, len.buffer],
    workgroups: [Math.ceil(d.l / ROWS_PER_WG), d.h, d.b],
    macs: 2 * d.b * d.l * d.l * d.dModel * (opts.causal ? 0.5 : 1),
  });
  return { out, lse };
}

/** Flash-style backward: recomputes P from the logsumexp; D_i = rowsum(dout * out). Same options as the forward. */
export function attentionTiledBackward(
  enc: Encoder,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  out: Tensor,
  lse: Tensor,
  dout: Tensor,
  opts: AttentionOptions,
): AttentionGrads {
  const d = checkQkv('attention backward', q, k, v, opts.heads, [out, dout]);
  checkTiledHead('attention backward', q, d);
  checkKeyLengths('attention backward', opts, d);
  assertShape(lse, [d.b, d.h, d.l], 'attention backward: lse');
  const gpu = enc.gpu;
  const dd = gpu.tensor([d.b, d.h, d.l], 'f32', undefined, 'attention.D');
  enc.releaseAfter(dd);
  const dq = gpu.tensor(q.shape, 'f32', undefined, 'attention.dq');
  const dk = gpu.tensor(q.shape, 'f32', undefined, 'attention.dk');
  const dv = gpu.tensor(q.shape, 'f32', undefined, 'attention.dv');
  const len = lengthsOf(gpu, opts, { CAUSAL: opts.causal });
  const pr = p(d, { alpha: 1 / Math.sqrt(d.dh) });
  const rows: [number, number, number] = [Math.ceil(d.l / ROWS_PER_WG), d.h, d.b];
  const macs = d.b * d.l * d.l * d.dModel * (opts.causal ? 0.5 : 1);
  enc.dispatch({ pipeline: gpu.pipeline(shader, 'row_dot'), params: pr, buffers: [dout, out, dd], workgroups: rows });
  enc.dispatch({
    pipeline: gpu.pipeline(shader, 'flash_backward_dq', len.constants),
    params: pr,
    buffers: [q, k, v, dout, lse, dd, dq, len.buffer],
    workgroups: rows,
    macs: 3 * macs,
  });
  enc.dispatch({
    pipeline: gpu.pipeline(shader, 'flash_backward_dkv', len.constants),
    params: pr,
    buffers: [q, k, v, dout, lse, dd, dk, dv, len.buffer],
    workgroups: rows,
    macs: 4 * macs,
  });
  return { dq, dk, dv };
}

// ---------------------------------------------------------------------------------------------------------
// Decode step over a KV cache (causal, streaming).

/** K and V of the frames seen so far: (b, capacity, d_model) each; rows 0 .. length - 1 are valid. */
export class KvCache {
  /** Frames appended so far (advanced when a step is recorded; the copy runs when the encoder is submitted). */
  length = 0;

  constructor(
    readonly k: Tensor,
    readonly v: Tensor,
  ) {}

  get b(): number {
    return this.k.shape[0];
  }

  get capacity(): number {
    return this.k.shape[1];
  }

  get dModel(): number {
    return this.k.shape[2];
  }

  /** Forget the frames (a new utterance); the buffers are kept. */
  reset(): void {
    this.length = 0;
  }

  release(): void {
    this.k.release();
    this.v.release();
  }
}

export function createKvCache(gpu: Gpu, b: number, capacity: number, dModel: number): KvCache {
  return new KvCache(
    gpu.tensor([b, capacity, dModel], 'f32', undefined, 'kv cache k'),
    gpu.tensor([b, capacity, dModel], 'f32', undefined, 'kv cache v'),
  );
}

/**
 * Append m >= 1 new frames' k, v (b, m, d_model) to the cache and attend each new query (b, m, d_model) to
 * every cached position up to and including its own. Returns the (b, m, d_model) output. Causal by nature;
 * stepping a sequence in any chunking gives the causal full forward.
 */
export function attentionDecode(enc: Encoder, cache: KvCache, q: Tensor, k: Tensor, v: Tensor, opts: { heads: number }): Tensor<'f32'> {
  const d = checkQkv('attention decode', q, k, v, opts.heads);
  checkTiledHead('attention decode', q, d);
  if (cache.b !== d.b || cache.dModel !== d.dModel) {
    throw new ShapeError(`attention decode: cache ${describe(cache.k)} does not match q ${describe(q)} (b and d_model)`);
  }
  const m = d.l;
  const start = cache.length;
  if (start + m > cache.capacity) {
    throw new LabError(
      'too-large',
      `attention decode: KV cache ${describe(cache.k)} holds ${cache.capacity} frames; ${start} are used and ${m} more ` +
        'were given. Create a larger cache, or reset it between utterances.',
    );
  }
  const gpu = enc.gpu;
  const pr = p(d, { lq: m, lk: start + m, kRows: cache.capacity, qOffset: start, alpha: 1 / Math.sqrt(d.dh) });
  enc.dispatch({
    pipeline: gpu.pipeline(shader, 'kv_append'),
    params: pr,
    buffers: [k, v, cache.k, cache.v],
    workgroups: grid(Math.ceil((d.b * m * d.dModel) / 256)),
  });
  const out = gpu.tensor([d.b, m, d.dModel], 'f32', undefined, 'attention.out');
  enc.dispatch({
    pipeline: gpu.pipeline(shader, 'flash_forward', { CAUSAL: true, SAVE_LSE: false, KEY_LENGTHS: false }),
    params: pr,
    buffers: [q, cache.k, cache.v, out, gpu.emptyOutput, gpu.empty],
    workgroups: [Math.ceil(m / ROWS_PER_WG), d.h, d.b],
    macs: 2 * d.b * m * (start + (m + 1) / 2) * d.dModel,
  });
  cache.length = start + m;
  return out;
}
