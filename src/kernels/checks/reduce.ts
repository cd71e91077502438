import type { Gpu } from '../../gpu/device.ts';
import { releaseAll } from '../../gpu/tensor.ts';
import type { Check } from '../check.ts';
import { readAll } from '../compare.ts';
import { randomNormal, seeded } from '../random.ts';
import { sumAll, sumChunks, sumRows, type ReduceVariant } from '../reduce.ts';
import { sumAllRef, sumRowsRef, sumSquaresRef } from '../reference/reduce.ts';
import type { KernelBench } from '../suite-types.ts';

/** Bound on the error of a float32 sum relative to the sum of the magnitudes of its terms. */
export const REDUCE_TOLERANCE = 1e-6;

/** The worst column error relative to the column's sum of magnitudes: the error a float32 sum can promise. */
function columnError(got: ArrayLike<number>, want: ArrayLike<number>, mag: ArrayLike<number>): number {
  if (got.length !== want.length) return Infinity;
  let worst = 0;
  for (let j = 0; j < want.length; j++) {
    const e = Math.abs(got[j] - want[j]) / mag[j];
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
  }
  return worst;
}

/** Column sums of (rows, c) vs the twin. */
export async function checkSumRows(gpu: Gpu, rows: number, c: number, seed: number): Promise<number> {
  const data = randomNormal(rows * c, seeded(seed));
  const x = gpu.tensor([rows, c], 'f32', data, 'x');
  const out = gpu.run((enc) => sumRows(enc, x));
  const got = await out.read();
  x.release();
  out.release();
  return columnError(got, sumRowsRef(data, rows, c), sumRowsRef(data.map(Math.abs), rows, c));
}

/** Sum (or sum of squares) of n elements vs the twin, relative to the sum of magnitudes. */
export async function checkSumAll(gpu: Gpu, n: number, squares: boolean, seed: number, variant?: ReduceVariant): Promise<number> {
  const data = randomNormal(n, seeded(seed));
  const x = gpu.tensor([n], 'f32', data, 'x');
  const out = gpu.run((enc) => sumAll(enc, x, { squares, variant }));
  const [got] = await out.read();
  x.release();
  out.release();
  const want = squares ? sumSquaresRef(data) : sumAllRef(data);
  const mag = squares ? want : sumAllRef(data.map(Math.abs));
  return Math.abs(got - want) / mag;
}

/** sumChunks of partials (chunks, n) into out, overwriting it or adding to it, vs the twin. */
export async function checkSumChunks(gpu: Gpu, chunks: number, n: number, accumulate: boolean, seed: number): Promise<number> {
  const rand = seeded(seed);
  const data = randomNormal(chunks * n, rand);
  const prev = randomNormal(n, rand);
  const partials = gpu.tensor([chunks, n], 'f32', data, 'partials');
  const out = gpu.tensor([n], 'f32', prev, 'out');
  gpu.run((enc) => sumChunks(enc, partials, chunks, n, out, accumulate));
  const [got] = await readAll([out, partials]);
  const want = sumRowsRef(data, chunks, n);
  const mag = sumRowsRef(data.map(Math.abs), chunks, n);
  if (accumulate) {
    for (let j = 0; j < n; j++) {
      want[j] += prev[j];
      mag[j] += Math.abs(prev[j]);
    }
  }
  return columnError(got!, want, mag);
}

export const reduceChecks: Check[] = [
  { family: 'reduce', name: 'sumRows 1000x33', tolerance: REDUCE_TOLERANCE, run: (gpu, seed) => checkSumRows(gpu, 1000, 33, seed) },
  { family: 'reduce', name: 'sumRows 5x257', tolerance: REDUCE_TOLERANCE, run: (gpu, seed) => checkSumRows(gpu, 5, 257, seed) },
  { family: 'reduce', name: 'sumAll 100003', tolerance: REDUCE_TOLERANCE, run: (gpu, seed) => checkSumAll(gpu, 100003, false, seed) },
  { family: 'reduce', name: 'sumSquares 100003 spread', tolerance: REDUCE_TOLERANCE, run: (gpu, seed) => checkSumAll(gpu, 100003, true, seed, 'spread') },
  { family: 'reduce', name: 'sumSquares 100003 tree', tolerance: REDUCE_TOLERANCE, run: (gpu, seed) => checkSumAll(gpu, 100003, true, seed, 'tree') },
  { family: 'reduce', name: 'sumChunks 37x1001', tolerance: REDUCE_TOLERANCE, run: (gpu, seed) => checkSumChunks(gpu, 37, 1001, false, seed) },
  { family: 'reduce', name: 'sumChunks 300x7 accumulate', tolerance: REDUCE_TOLERANCE, run: (gpu, seed) => checkSumChunks(gpu, 300, 7, true, seed) },
];

/** Column sums of (rows, c): the bias gradient of a Linear layer. */
export function sumRowsBench(rows: number, c: number): KernelBench {
  return {
    family: 'reduce',
    name: 'sumRows',
    shape: `${rows}x${c}`,
    bytes: 4 * (rows * c + c),
    setup(gpu) {
      const x = gpu.tensor([rows, c], 'f32', randomNormal(rows * c, seeded(rows)), 'x');
      const out = gpu.tensor([c], 'f32', undefined, 'out');
      return { record: (enc) => void sumRows(enc, x, { out }), dispose: () => releaseAll(x, out) };
    },
  };
}

export function sumSquaresBench(n: number, variant?: ReduceVariant): KernelBench {
  return {
    family: 'reduce',
    name: `sumSquares ${variant ?? 'auto'}`,
    shape: `${n}`,
    bytes: 4 * n,
    setup(gpu) {
      const x = gpu.tensor([n], 'f32', randomNormal(n, seeded(n)), 'x');
      const out = gpu.tensor([1], 'f32', undefined, 'out');
      return { record: (enc) => void sumAll(enc, x, { out, squares: true, variant }), dispose: () => releaseAll(x, out) };
    },
  };
}

export const reduceBenches: KernelBench[] = [sumRowsBench(4000, 768), sumSquaresBench(1 << 24, 'spread'), sumSquaresBench(1 << 24, 'tree')];
