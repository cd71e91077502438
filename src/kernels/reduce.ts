import shader from '../../shaders/reduce.wgsl?raw';
import type { Encoder } from '../gpu/encoder.ts';
import { grid } from '../gpu/encoder.ts';
import { ShapeError } from '../gpu/errors.ts';
import { params } from '../gpu/params.ts';
import { shapeString, type Tensor } from '../gpu/tensor.ts';
import { fill } from './elementwise.ts';

/** Rows summed by one invocation of a sum_rows pass. */
export const BLOCK_ROWS = 64;
/** Elements summed by one workgroup of a sum_all pass (reduce.wgsl's CHUNK). */
export const CHUNK = 4096;
/** Elements summed by one workgroup of a sum_spread pass, and the partial sums it leaves. */
const SPREAD_CHUNK = 16384;
const SPREAD_OUT = 256;

/** 'tree': workgroup-memory tree reductions (GPUs). 'spread': barrier-free passes first (CPU drivers). */
export type ReduceVariant = 'tree' | 'spread';

export interface ReduceOptions {
  /** Write (or add) into this tensor instead of a new one. */
  out?: Tensor;
  /** out += sum instead of out = sum (gradient accumulation); needs `out`. */
  accumulate?: boolean;
}

function target(enc: Encoder, shape: number[], opts: ReduceOptions, name: string, op: string, what: string): Tensor {
  if (opts.accumulate && !opts.out) throw new ShapeError(`${op}: accumulate needs \`out\``);
  const out = opts.out ?? enc.gpu.tensor(shape, 'f32', undefined, name);
  if (out.size !== shape[0]) {
    throw new ShapeError(`${op}: out ${out.name}${shapeString(out.shape)} should hold ${shape[0]} values (${what})`);
  }
  return out;
}

/**
 * Column sums of x viewed as (rows, c), c = the last dimension: (rows, c) -> (c). The bias gradient of a
 * Linear layer. Passes of BLOCK_ROWS rows each until one row is left; deterministic for any size.
 */
export function sumRows(enc: Encoder, x: Tensor, opts: ReduceOptions = {}): Tensor {
  if (x.shape.length < 1) throw new ShapeError(`sumRows: ${x.name}${shapeString(x.shape)} needs at least one dimension`);
  const c = x.shape[x.shape.length - 1];
  const rows = c === 0 ? 0 : x.size / c;
  const out = target(enc, [c], opts, `${x.name}.sumRows`, 'sumRows', `the last dimension of ${x.name}${shapeString(x.shape)}`);
  if (c === 0) return out;
  if (rows === 0) return opts.accumulate ? out : fill(enc, out, 0);
  if (c === 1) return sumAll(enc, x, opts);
  const gpu = enc.gpu;
  let src = x;
  let n = rows;
  for (;;) {
    const blocks = Math.ceil(n / BLOCK_ROWS);
    const last = blocks === 1;
    const dst = last ? out : gpu.tensor([blocks, c], 'f32', undefined, 'sumRows.partials');
    enc.dispatch({
      pipeline: gpu.pipeline(shader, 'sum_rows', { ACCUMULATE: last && !!opts.accumulate }),
      params: params().u32(n, c, BLOCK_ROWS, 0),
      buffers: [src, dst],
      workgroups: grid(blocks * Math.ceil(c / 256)),
    });
    if (src !== x) enc.releaseAfter(src);
    if (last) return out;
    src = dst;
    n = blocks;
  }
}

export interface SumAllOptions extends ReduceOptions {
  /** Sum of squares (for the gradient norm) instead of the sum. */
  squares?: boolean;
  variant?: ReduceVariant;
}

/** Sum of all elements of x (or of their squares) -> (1). Deterministic for any size. */
export function sumAll(enc: Encoder, x: Tensor, opts: SumAllOptions = {}): Tensor {
  const out = target(enc, [1], opts, `${x.name}.${opts.squares ? 'sumSquares' : 'sum'}`, opts.squares ? 'sumSquares' : 'sumAll', 'one');
  if (x.size === 0) return opts.accumulate ? out : fill(enc, out, 0);
  const gpu = enc.gpu;
  let src = x;
  let n = x.size;
  let first = true;
  const spread = (opts.variant ?? (gpu.kind === 'cpu' ? 'spread' : 'tree')) === 'spread';
  // Barrier-free passes while more than one workgroup of the tree pass would be needed.
  while (spread && n > CHUNK) {
    const groups = Math.ceil(n / SPREAD_CHUNK);
    const dst = gpu.tensor([groups * SPREAD_OUT], 'f32', undefined, 'sumAll.partials');
    enc.dispatch({
      pipeline: gpu.pipeline(shader, 'sum_spread', { SQUARE: first && !!opts.squares }),
      params: params().u32(0, 0, 0, n),
      buffers: [src, dst],
      workgroups: grid(groups),
    });
    if (src !== x) enc.releaseAfter(src);
    src = dst;
    n = dst.size;
    first = false;
  }
  for (;;) {
    const blocks = Math.ceil(n / CHUNK);
    const last = blocks === 1;
    const dst = last ? out : gpu.tensor([blocks], 'f32', undefined, 'sumAll.partials');
    enc.dispatch({
      pipeline: gpu.pipeline(shader, 'sum_all', { SQUARE: first && !!opts.squares, ACCUMULATE: last && !!opts.accumulate }),
      params: params().u32(0, 0, 0, n),
      buffers: [src, dst],
      workgroups: grid(blocks),
    });
    if (src !== x) enc.releaseAfter(src);
    if (last) return out;
    src = dst;
    n = blocks;
    first = false;
  }
}

/** Sum of squares of all elements -> (1): gradient-norm clipping (accumulate over many tensors). */
export function sumSquares(enc: Encoder, x: Tensor, opts: ReduceOptions = {}): Tensor {
  return sumAll(enc, x, { ...opts, squares: true });
}

// ---------------------------------------------------------------------------------------------------
// Sums split into chunks: a kernel writes one partial sum per chunk of frames (conv1d's and the depthwise
// conv's weight gradients), then one sum_rows pass adds the partials up.

/** Invocations a weight-gradient pass aims for before it splits the frame sum into chunks. */
const TARGET_INVOCATIONS = 8192;
/** Fewest frames a chunk of a weight-gradient sum covers. */
const MIN_CHUNK_FRAMES = 32;

/** Frames of a weight-gradient sum split into chunks (partials + sumChunks) when the outputs are few. */
export function chunking(frames: number, outputs: number): { chunks: number; perChunk: number } {
  const wanted = Math.max(1, Math.min(Math.ceil(frames / MIN_CHUNK_FRAMES), Math.ceil(TARGET_INVOCATIONS / Math.max(1, outputs))));
  const perChunk = Math.max(1, Math.ceil(frames / wanted));
  return { chunks: Math.max(1, Math.ceil(frames / perChunk)), perChunk };
}

/**
 * out (n) = the sum over chunks of partials (chunks, n), or out += that sum: one sum_rows pass whose block
 * is all the rows, so each output adds its chunks in order.
 */
export function sumChunks(enc: Encoder, partials: Tensor, chunks: number, n: number, out: Tensor, accumulate: boolean): void {
  if (partials.size !== chunks * n || out.size !== n) {
    throw new ShapeError(`sumChunks: partials ${partials.name}${shapeString(partials.shape)} and out ${out.name}${shapeString(out.shape)} should hold ${chunks}x${n} and ${n} values`);
  }
  enc.dispatch({
    pipeline: enc.gpu.pipeline(shader, 'sum_rows', { ACCUMULATE: accumulate }),
    params: params().u32(chunks, n, chunks, 0),
    buffers: [partials, out],
    workgroups: grid(Math.ceil(n / 256)),
  });
}
