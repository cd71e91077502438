// How kernels are compared with their CPU twins.
import type { Tensor } from '../gpu/tensor.ts';

/**
 * Largest elementwise error relative to the expected value, with a floor of 1e-3 of the largest
 * expected magnitude (and at least `absFloor`) so that entries near zero do not dominate.
 * NaN or Infinity anywhere gives Infinity.
 */
export function maxRelError(actual: ArrayLike<number>, expected: ArrayLike<number>, absFloor = 1e-30): number {
  if (actual.length !== expected.length) return Infinity;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  const floor = Math.max(1e-3 * scale, absFloor);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), floor);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}

/** Read tensors back (an absent one reads as undefined), then release them all. */
export async function readAll(ts: readonly (Tensor | undefined)[]): Promise<(Float32Array | undefined)[]> {
  const out: (Float32Array | undefined)[] = [];
  for (const t of ts) out.push(t ? ((await t.read()) as Float32Array) : undefined);
  for (const t of ts) t?.release();
  return out;
}
