// CPU twin of elementwise.wgsl, in float64.
import { erf, gelu, sigmoid, silu, softplus } from './math.ts';

export type UnaryOp = 'silu' | 'gelu' | 'softplus' | 'scale';
export type BinaryOp = 'add' | 'mul' | 'gate';

export function unaryFn(op: UnaryOp, v: number, alpha = 1): number {
  if (op === 'silu') return silu(v);
  if (op === 'gelu') return gelu(v);
  if (op === 'softplus') return softplus(v);
  return alpha * v;
}

/** f'(v) */
export function unaryGrad(op: UnaryOp, v: number, alpha = 1): number {
  if (op === 'silu') {
    const s = sigmoid(v);
    return s * (1 + v * (1 - s));
  }
  if (op === 'gelu') return 0.5 * (1 + erf(v / Math.SQRT2)) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI);
  if (op === 'softplus') return sigmoid(v);
  return alpha;
}

export function unaryRef(op: UnaryOp, x: ArrayLike<number>, alpha = 1): Float64Array {
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = unaryFn(op, x[i], alpha);
  return y;
}

/** dx = dy * f'(x) */
export function unaryBackwardRef(op: UnaryOp, x: ArrayLike<number>, dy: ArrayLike<number>, alpha = 1): Float64Array {
  const dx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) dx[i] = dy[i] * unaryGrad(op, x[i], alpha);
  return dx;
}

export function binaryFn(op: BinaryOp, a: number, b: number): number {
  if (op === 'add') return a + b;
  if (op === 'mul') return a * b;
  return a * silu(b);
}

export function binaryRef(op: BinaryOp, a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const y = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) y[i] = binaryFn(op, a[i], b[i]);
  return y;
}

/** da = dout * dg/da, db = dout * dg/db */
export function binaryBackwardRef(
  op: BinaryOp,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  dout: ArrayLike<number>,
): { da: Float64Array; db: Float64Array } {
  const da = new Float64Array(a.length);
  const db = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const g = dout[i];
    if (op === 'add') {
      da[i] = g;
      db[i] = g;
    } else if (op === 'mul') {
      da[i] = g * b[i];
      db[i] = g * a[i];
    } else {
      const s = sigmoid(b[i]);
      da[i] = g * b[i] * s;
      db[i] = g * a[i] * s * (1 + b[i] * (1 - s));
    }
  }
  return { da, db };
}

/** acc + alpha * x */
export function accumulateRef(acc: ArrayLike<number>, x: ArrayLike<number>, alpha = 1): Float64Array {
  const y = new Float64Array(acc.length);
  for (let i = 0; i < acc.length; i++) y[i] = acc[i] + alpha * x[i];
  return y;
}
