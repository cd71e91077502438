// Finite differences of the CPU twins' forwards (float64), against which their backwards are checked.
import { expect } from 'vitest';
import { randomNormal } from '../src/kernels/random.ts';

/** Central differences of loss = sum(dy * f(params)) with respect to every entry of `v`, in float64. */
export function numericGrad(v: Float64Array, loss: () => number, h = 1e-5): Float64Array {
  const g = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const save = v[i];
    v[i] = save + h;
    const up = loss();
    v[i] = save - h;
    const down = loss();
    v[i] = save;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, seed: number) {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    expect(Math.abs(got[i] - want[i]), `${what}[${i}] ${got[i]} vs finite difference ${want[i]} (seed ${seed})`).toBeLessThan(1e-6 * (1 + Math.abs(want[i])));
  }
}

/** n normal draws in float64. */
export const f64 = (n: number, rand: () => number) => Float64Array.from(randomNormal(n, rand));
