import shader from '../../shaders/matmul.wgsl?raw';
import type { Encoder } from '../gpu/encoder.ts';
import { ShapeError } from '../gpu/errors.ts';
import { params } from '../gpu/params.ts';
import { shapeString, type Tensor } from '../gpu/tensor.ts';
import type { Activation } from './reference/matmul.ts';

export type { Activation };

/** 'reg': register tiles, no workgroup memory (CPU drivers). 'tiled': workgroup-memory tiles (GPUs). */
export type MatmulVariant = 'reg' | 'tiled';

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  /** (N) added to every row before the activation. */
  bias?: Tensor;
  act?: Activation;
  /** Write into this tensor instead of a new one. */
  out?: Tensor;
  /** out += A.B (for gradient accumulation); needs `out`, excludes bias and activation. */
  accumulate?: boolean;
  variant?: MatmulVariant;
  /** Workgroup shape of the register-tiled variant (invocations in x and y; each computes 4x4 outputs). */
  workgroup?: readonly [number, number];
}

const ACT_CODE: Record<Activation, number> = { none: 0, relu: 1, gelu: 2, silu: 3 };

/** The shapes of a call: C (batch, M, N) = op(A) op(B), and the operands' batch strides. */
interface MatmulShape {
  M: number;
  N: number;
  K: number;
  batch: number;
  batchA: number;
  batchB: number;
}

function matmulShape(a: Tensor, b: Tensor, opts: MatmulOptions): MatmulShape {
  const { transA = false, transB = false, accumulate = false, act = 'none' } = opts;
  if (a.shape.length < 2 || a.shape.length > 3 || b.shape.length < 2 || b.shape.length > 3) {
    throw new ShapeError(`matmul: A ${shapeString(a.shape)} and B ${shapeString(b.shape)} must be 2-D or 3-D`);
  }
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [M, K] = transA ? [ac, ar] : [ar, ac];
  const [Kb, N] = transB ? [bc, br] : [br, bc];
  if (K !== Kb) {
    throw new ShapeError(
      `matmul: inner sizes differ: op(A) ${a.name}${shapeString(a.shape)}${transA ? '^T' : ''} has K=${K}, ` +
        `op(B) ${b.name}${shapeString(b.shape)}${transB ? '^T' : ''} has K=${Kb}`,
    );
  }
  const batchA = a.shape.length === 3 ? a.shape[0] : 0;
  const batchB = b.shape.length === 3 ? b.shape[0] : 0;
  if (batchA && batchB && batchA !== batchB) {
    throw new ShapeError(`matmul: batch sizes differ: ${a.name}${shapeString(a.shape)} vs ${b.name}${shapeString(b.shape)}`);
  }
  if (opts.bias && (opts.bias.size !== N || accumulate)) {
    throw new ShapeError(`matmul: bias ${shapeString(opts.bias.shape)} must have N=${N} elements and excludes accumulate`);
  }
  if (accumulate && (!opts.out || act !== 'none')) throw new ShapeError('matmul: accumulate needs `out` and no activation');
  return { M, N, K, batch: Math.max(batchA, batchB, 1), batchA, batchB };
}

/** Record the call writing `outs` (one C, or the 2-3 column parts of SPLIT at `splits`). */
function dispatchMatmul(enc: Encoder, a: Tensor, b: Tensor, s: MatmulShape, opts: MatmulOptions, outs: Tensor[], splits: [number, number]): void {
  const { transA = false, transB = false, act = 'none', accumulate = false } = opts;
  const { M, N, K, batch, batchA, batchB } = s;
  if (M === 0 || N === 0) return;
  const gpu = enc.gpu;
  const variant = opts.variant ?? (gpu.kind === 'cpu' ? 'reg' : 'tiled');
  const [wgX, wgY] = opts.workgroup ?? [8, 8];
  const vec4 = K % 4 === 0 && (!transA || M % 4 === 0) && (transB || N % 4 === 0);
  const entry = variant === 'tiled' ? 'matmul_tiled' : vec4 ? 'matmul_reg_vec4' : 'matmul_reg_scalar';
  const pipeline = gpu.pipeline(shader, entry, {
    TRANS_A: transA,
    TRANS_B: transB,
    HAS_BIAS: !!opts.bias,
    ACCUMULATE: accumulate,
    ACT: ACT_CODE[act],
    SPLIT: outs.length > 1,
    ...(variant === 'reg' ? { WG_X: wgX, WG_Y: wgY } : {}),
  });
  const [tileX, tileY] = variant === 'tiled' ? [64, 64] : [wgX * 4, wgY * 4];
  enc.dispatch({
    pipeline,
    params: params().u32(M, N, K, batchA ? M * K : 0, batchB ? K * N : 0, M * N, ...splits),
    buffers: [a, b, outs[0], opts.bias ?? gpu.empty, outs[1] ?? gpu.emptyOutputAt(0), outs[2] ?? gpu.emptyOutputAt(1)],
    workgroups: [Math.ceil(N / tileX), Math.ceil(M / tileY), batch],
    macs: batch * M * N * K,
  });
}

/**
 * C = act(op(A) op(B) + bias). A is (M, K) or (batch, M, K) ((K, M) stored when transA); B is (K, N) or
 * (batch, K, N) ((N, K) stored when transB); a 2-D operand is shared by the whole batch.
 * Returns C as (M, N), or (batch, M, N) when either operand is batched.
 * The backward of C = A.B is two calls of the same kernel: dA = dC.B^T and dB = A^T.dC.
 */
export function matmul(enc: Encoder, a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const s = matmulShape(a, b, opts);
  const outShape = s.batchA || s.batchB ? [s.batch, s.M, s.N] : [s.M, s.N];
  const out = opts.out ?? enc.gpu.tensor(outShape, 'f32', undefined, 'matmul.out');
  if (out.size !== s.batch * s.M * s.N) {
    throw new ShapeError(`matmul: out ${shapeString(out.shape)} should hold ${shapeString(outShape)}`);
  }
  dispatchMatmul(enc, a, b, s, opts, [out], [s.N, s.N]);
  return out;
}

/**
 * matmul whose columns go to parts of their own: `widths` (2 or 3, summing to N) -> one C per part, each
 * (M, width) or (batch, M, width) (or written into `outs` of those sizes), as if C were computed whole and
 * sliced by channels, without the slices.
 */
export function matmulSplit(
  enc: Encoder,
  a: Tensor,
  b: Tensor,
  widths: readonly number[],
  opts: Omit<MatmulOptions, 'out' | 'accumulate'> & { outs?: Tensor[] } = {},
): Tensor[] {
  const s = matmulShape(a, b, opts);
  if (widths.length < 2 || widths.length > 3 || widths.some((w) => !Number.isInteger(w) || w < 1) || widths.reduce((x, y) => x + y, 0) !== s.N) {
    throw new ShapeError(`matmulSplit: widths ${widths.join(', ')} must be 2 or 3 positive parts of N = ${s.N}`);
  }
  const outs = widths.map((w, i) => {
    const out = opts.outs?.[i] ?? enc.gpu.tensor(s.batchA || s.batchB ? [s.batch, s.M, w] : [s.M, w], 'f32', undefined, 'matmul.part');
    if (out.size !== s.batch * s.M * w) throw new ShapeError(`matmulSplit: out ${out.name}${shapeString(out.shape)} should hold ${s.batch * s.M * w} values`);
    return out;
  });
  dispatchMatmul(enc, a, b, s, opts, outs, [widths[0], widths[0] + widths[1]]);
  return outs;
}
