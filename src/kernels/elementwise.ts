import shader from '../../shaders/elementwise.wgsl?raw';
import type { Encoder } from '../gpu/encoder.ts';
import { grid } from '../gpu/encoder.ts';
import { ShapeError } from '../gpu/errors.ts';
import { params } from '../gpu/params.ts';
import { shapeString, type Tensor } from '../gpu/tensor.ts';
import type { BinaryOp, UnaryOp } from './reference/elementwise.ts';

export type { BinaryOp, UnaryOp };

const PER_WORKGROUP = 256 * 4;

/** Workgroups for a flat kernel over n elements, 4 per invocation. */
export function flatGrid(n: number): [number, number] {
  return grid(Math.ceil(n / PER_WORKGROUP));
}

const UNARY_CODE: Record<UnaryOp, number> = { silu: 0, gelu: 1, softplus: 2, scale: 3 };
const BINARY_CODE: Record<BinaryOp, number> = { add: 0, mul: 1, gate: 2 };

function sameSize(op: string, a: Tensor, b: Tensor): void {
  if (a.size !== b.size) {
    throw new ShapeError(
      `${op}: ${a.name}${shapeString(a.shape)} and ${b.name}${shapeString(b.shape)} must have the same number of elements (${a.size} vs ${b.size})`,
    );
  }
}

function output(enc: Encoder, like: Tensor, out: Tensor | undefined, name: string, op: string): Tensor {
  const y = out ?? enc.gpu.tensor(like.shape, 'f32', undefined, name);
  sameSize(op, like, y);
  return y;
}

/** out = x (same number of elements). */
export function copy(enc: Encoder, x: Tensor, out?: Tensor): Tensor {
  const y = out ?? enc.gpu.tensor(x.shape, 'f32', undefined, `${x.name}.copy`);
  if (y.size !== x.size) throw new ShapeError(`copy: ${x.name}${shapeString(x.shape)} into ${y.name}${shapeString(y.shape)}`);
  enc.dispatch({
    pipeline: enc.gpu.pipeline(shader, 'copy'),
    params: params().u32(x.size),
    buffers: [x, y],
    workgroups: flatGrid(x.size),
  });
  return y;
}

export interface UnaryOptions {
  /** The factor of 'scale'. */
  alpha?: number;
  out?: Tensor;
}

/** y = f(x) elementwise: SiLU, GELU (erf form), softplus, or alpha * x. */
export function unary(enc: Encoder, op: UnaryOp, x: Tensor, opts: UnaryOptions = {}): Tensor {
  const y = output(enc, x, opts.out, `${op}.out`, op);
  enc.dispatch({
    pipeline: enc.gpu.pipeline(shader, 'unary_forward', { OP: UNARY_CODE[op] }),
    params: params().u32(x.size).f32(opts.alpha ?? 1),
    buffers: [x, y],
    workgroups: flatGrid(x.size),
  });
  return y;
}

/** dx = dy * f'(x), the backward of `unary` (x is the forward's input). */
export function unaryBackward(enc: Encoder, op: UnaryOp, x: Tensor, dy: Tensor, opts: UnaryOptions = {}): Tensor {
  sameSize(`${op} backward`, x, dy);
  const dx = output(enc, x, opts.out, `${op}.dx`, `${op} backward`);
  enc.dispatch({
    pipeline: enc.gpu.pipeline(shader, 'unary_backward', { OP: UNARY_CODE[op] }),
    params: params().u32(x.size).f32(opts.alpha ?? 1),
    buffers: [x, dy, dx],
    workgroups: flatGrid(x.size),
  });
  return dx;
}

export const silu = (enc: Encoder, x: Tensor, out?: Tensor): Tensor => unary(enc, 'silu', x, { out });
export const gelu = (enc: Encoder, x: Tensor, out?: Tensor): Tensor => unary(enc, 'gelu', x, { out });
export const softplus = (enc: Encoder, x: Tensor, out?: Tensor): Tensor => unary(enc, 'softplus', x, { out });
export const scale = (enc: Encoder, x: Tensor, alpha: number, out?: Tensor): Tensor => unary(enc, 'scale', x, { alpha, out });

/** out = a + b, a * b, or the Mamba gate a * SiLU(b) (a = y, b = z); a and b have the same size. */
export function binary(enc: Encoder, op: BinaryOp, a: Tensor, b: Tensor, out?: Tensor): Tensor {
  sameSize(op, a, b);
  const y = output(enc, a, out, `${op}.out`, op);
  enc.dispatch({
    pipeline: enc.gpu.pipeline(shader, 'binary_forward', { OP: BINARY_CODE[op] }),
    params: params().u32(a.size).f32(1),
    buffers: [a, b, y],
    workgroups: flatGrid(a.size),
  });
  return y;
}

export const add = (enc: Encoder, a: Tensor, b: Tensor, out?: Tensor): Tensor => binary(enc, 'add', a, b, out);
export const mul = (enc: Encoder, a: Tensor, b: Tensor, out?: Tensor): Tensor => binary(enc, 'mul', a, b, out);
/** The Mamba gate y * SiLU(z). */
export const gate = (enc: Encoder, y: Tensor, z: Tensor, out?: Tensor): Tensor => binary(enc, 'gate', y, z, out);

/**
 * Gradients of `binary` for its two inputs. For 'add' both are dout itself (no kernel runs, the same
 * tensor is returned twice: copy it if you need to write one of them). For 'gate', da is dy and db is dz.
 */
export function binaryBackward(
  enc: Encoder,
  op: BinaryOp,
  a: Tensor,
  b: Tensor,
  dout: Tensor,
  outs: { da?: Tensor; db?: Tensor } = {},
): { da: Tensor; db: Tensor } {
  sameSize(`${op} backward`, a, b);
  sameSize(`${op} backward`, a, dout);
  if (op === 'add') return { da: dout, db: dout };
  const da = output(enc, a, outs.da, `${op}.da`, `${op} backward`);
  const db = output(enc, b, outs.db, `${op}.db`, `${op} backward`);
  enc.dispatch({
    pipeline: enc.gpu.pipeline(shader, 'binary_backward', { OP: BINARY_CODE[op] }),
    params: params().u32(a.size).f32(1),
    buffers: [a, b, dout, da, db],
    workgroups: flatGrid(a.size),
  });
  return { da, db };
}

/** acc += alpha * x in place (gradient accumulation). Returns acc. */
export function accumulate(enc: Encoder, acc: Tensor, x: Tensor, alpha = 1): Tensor {
  sameSize('accumulate', acc, x);
  enc.dispatch({
    pipeline: enc.gpu.pipeline(shader, 'accumulate'),
    params: params().u32(acc.size).f32(alpha),
    buffers: [acc, x],
    workgroups: flatGrid(acc.size),
  });
  return acc;
}

/** Every element of t = value, in place, in order with the encoder's other calls. Returns t. */
export function fill(enc: Encoder, t: Tensor, value: number): Tensor {
  enc.dispatch({
    pipeline: enc.gpu.pipeline(shader, 'fill'),
    params: params().u32(t.size).f32(value),
    buffers: [t],
    workgroups: flatGrid(t.size),
  });
  return t;
}
