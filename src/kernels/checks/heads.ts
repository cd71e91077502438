import type { Gpu } from '../../gpu/device.ts';
import { maxRelError } from '../compare.ts';
import { l2Normalize, l2NormalizeBackward, maskFrames } from '../heads.ts';
import { randomNormal, seeded } from '../random.ts';
import { l2NormalizeBackwardRef, l2NormalizeRef, maskFramesRef } from '../reference/heads.ts';
import type { Check } from '../check.ts';
import type { KernelBench } from '../suite-types.ts';

/** Float32 row sums of squares and one division per element against the float64 twin. */
export const L2_TOLERANCE = 1e-5;
/** The backward's dy - u <u, dy> cancels: a float32 dot over c channels, then a difference of near-equal terms. */
export const L2_BACKWARD_TOLERANCE = 2e-4;
/** Masking copies values. */
export const MASK_EXACT = 0;

/** l2Normalize and its backward on (rows, c) vs the twin, one row all zeros: [forward error, backward error]. */
export async function checkL2(gpu: Gpu, rows: number, c: number, alpha: number, seed: number): Promise<[number, number]> {
  const rand = seeded(seed);
  const xData = randomNormal(rows * c, rand, 3);
  xData.fill(0, 0, c); // the norm's floor
  const dyData = randomNormal(rows * c, rand);
  const x = gpu.tensor([rows, c], 'f32', xData, 'x');
  const dy = gpu.tensor([rows, c], 'f32', dyData, 'dy');
  const [y, dx] = gpu.run((enc) => [l2Normalize(enc, x, alpha), l2NormalizeBackward(enc, x, dy, alpha)]);
  const got = [await y.read(), await dx.read()];
  [x, dy, y, dx].forEach((t) => t.release());
  // The zero row's gradient is alpha / eps * dy (huge): compare it apart, relative to itself.
  const wantDx = l2NormalizeBackwardRef(xData, dyData, rows, c, alpha);
  const zeroRow = maxRelError(got[1].subarray(0, c), wantDx.subarray(0, c));
  return [maxRelError(got[0], l2NormalizeRef(xData, rows, c, alpha)), Math.max(zeroRow, maxRelError(got[1].subarray(c), wantDx.subarray(c)))];
}

/** maskFrames with and without mask_emb on (rows, c) vs the twin. */
export async function checkMask(gpu: Gpu, rows: number, c: number, seed: number): Promise<number> {
  const rand = seeded(seed);
  const xData = randomNormal(rows * c, rand);
  const embData = randomNormal(c, rand);
  const maskData = Array.from({ length: rows }, () => (rand() < 0.4 ? 1 : 0));
  const x = gpu.tensor([rows, c], 'f32', xData, 'x');
  const mask = gpu.tensor([rows], 'f32', maskData, 'mask');
  const emb = gpu.tensor([c], 'f32', embData, 'mask_emb');
  const [y, z] = gpu.run((enc) => [maskFrames(enc, x, mask, emb), maskFrames(enc, x, mask)]);
  const got = [await y.read(), await z.read()];
  [x, mask, emb, y, z].forEach((t) => t.release());
  return Math.max(maxRelError(got[0], maskFramesRef(xData, maskData, rows, c, embData)), maxRelError(got[1], maskFramesRef(xData, maskData, rows, c)));
}

export const headsChecks: Check[] = [
  { family: 'heads', name: 'l2Normalize 1001x37 alpha 10', tolerance: L2_TOLERANCE, run: async (gpu, seed) => (await checkL2(gpu, 1001, 37, 10, seed))[0] },
  { family: 'heads', name: 'l2NormalizeBackward 1001x37 alpha 10', tolerance: L2_BACKWARD_TOLERANCE, run: async (gpu, seed) => (await checkL2(gpu, 1001, 37, 10, seed))[1] },
  { family: 'heads', name: 'maskFrames 777x19', tolerance: MASK_EXACT, run: (gpu, seed) => checkMask(gpu, 777, 19, seed) },
];

/** Bytes moved per second by l2Normalize of (rows, c) (read twice for the norm, then written). */
export function l2Bench(rows: number, c: number): KernelBench {
  return {
    family: 'heads',
    name: 'l2Normalize',
    shape: `${rows}x${c}`,
    bytes: 12 * rows * c,
    setup(gpu) {
      const x = gpu.tensor([rows, c], 'f32', randomNormal(rows * c, seeded(rows)), 'x');
      const y = gpu.tensor([rows, c], 'f32', undefined, 'y');
      return { record: (enc) => void l2Normalize(enc, x, 10, y), dispose: () => [x, y].forEach((t) => t.release()) };
    },
  };
}

// HuBERT Base's head at 80 s: 4000 frames projected to final_dim 256.
export const headsBenches: KernelBench[] = [l2Bench(4000, 256)];
