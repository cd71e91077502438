import { gelu, silu } from './math.ts';

export type Activation = 'none' | 'relu' | 'gelu' | 'silu';

export interface MatmulShape {
  batch: number;
  M: number;
  N: number;
  K: number;
  transA?: boolean;
  transB?: boolean;
  /** Batch strides in elements; 0 broadcasts the operand. Default: dense. */
  strideA?: number;
  strideB?: number;
}

export function activateRef(v: number, act: Activation): number {
  if (act === 'relu') return Math.max(v, 0);
  if (act === 'gelu') return gelu(v);
  if (act === 'silu') return silu(v);
  return v;
}

/** CPU twin of matmul.wgsl: C[b] = act(op(A[b]) op(B[b]) + bias), float64 accumulation. */
export function matmulRef(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  s: MatmulShape,
  bias?: ArrayLike<number>,
  act: Activation = 'none',
): Float32Array {
  const { batch, M, N, K } = s;
  const sa = s.strideA ?? M * K;
  const sb = s.strideB ?? K * N;
  const c = new Float32Array(batch * M * N);
  for (let z = 0; z < batch; z++)
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let acc = 0;
        for (let k = 0; k < K; k++) {
          const av = s.transA ? a[z * sa + k * M + i] : a[z * sa + i * K + k];
          const bv = s.transB ? b[z * sb + j * K + k] : b[z * sb + k * N + j];
          acc += av * bv;
        }
        if (bias) acc += bias[j];
        c[z * M * N + i * N + j] = activateRef(acc, act);
      }
  return c;
}
