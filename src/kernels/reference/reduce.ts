// CPU twin of reduce.wgsl, float64 accumulation. The backward of a sum is a broadcast.

/** (rows, c) -> (c) */
export function sumRowsRef(x: ArrayLike<number>, rows: number, c: number): Float64Array {
  const out = new Float64Array(c);
  for (let r = 0; r < rows; r++) for (let j = 0; j < c; j++) out[j] += x[r * c + j];
  return out;
}

/** dx[r, j] = dout[j] */
export function sumRowsBackwardRef(dout: ArrayLike<number>, rows: number, c: number): Float64Array {
  const dx = new Float64Array(rows * c);
  for (let r = 0; r < rows; r++) for (let j = 0; j < c; j++) dx[r * c + j] = dout[j];
  return dx;
}

export function sumAllRef(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s;
}

/** dx = dout */
export function sumAllBackwardRef(dout: number, n: number): Float64Array {
  return new Float64Array(n).fill(dout);
}

export function sumSquaresRef(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s;
}

/** dx = 2 x dout */
export function sumSquaresBackwardRef(x: ArrayLike<number>, dout: number): Float64Array {
  const dx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) dx[i] = 2 * x[i] * dout;
  return dx;
}
