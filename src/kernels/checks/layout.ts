import type { Gpu } from '../../gpu/device.ts';
import { maxRelError } from '../compare.ts';
import { channelConcat, channelSlice, channelSliceBackward, reverseFrames } from '../layout.ts';
import { randomNormal, seeded } from '../random.ts';
import { channelConcatRef, channelSliceBackwardRef, channelSliceRef, reverseFramesRef } from '../reference/layout.ts';
import type { KernelBench, KernelCheck } from '../suite-types.ts';

/** Copies are exact. */
export const LAYOUT_EXACT = 0;
/** channelSliceBackward with accumulate: one float32 addition against the float64 twin. */
export const LAYOUT_ACCUMULATE_TOLERANCE = 1e-6;

/** channelSlice of (rows, c) vs the twin. */
export async function checkSlice(gpu: Gpu, rows: number, c: number, start: number, count: number, seed: number): Promise<number> {
  const data = randomNormal(rows * c, seeded(seed));
  const x = gpu.tensor([rows, c], 'f32', data, 'x');
  const y = gpu.run((enc) => channelSlice(enc, x, start, count));
  const got = await y.read();
  x.release();
  y.release();
  return maxRelError(got, channelSliceRef(data, rows, c, start, count));
}

/** channelSliceBackward of (rows, count) into (rows, c), writing or accumulating, vs the twin. */
export async function checkSliceBackward(
  gpu: Gpu,
  rows: number,
  c: number,
  start: number,
  count: number,
  accumulate: boolean,
  seed: number,
): Promise<number> {
  const rand = seeded(seed);
  const xData = randomNormal(rows * count, rand);
  const intoData = randomNormal(rows * c, rand);
  const x = gpu.tensor([rows, count], 'f32', xData, 'x');
  const into = gpu.tensor([rows, c], 'f32', intoData, 'into');
  gpu.run((enc) => channelSliceBackward(enc, x, into, start, { accumulate }));
  const got = await into.read();
  x.release();
  into.release();
  return maxRelError(got, channelSliceBackwardRef(xData, intoData, rows, c, start, accumulate));
}

/** channelConcat of parts (b, l, widths[i]) vs the twin. */
export async function checkConcat(gpu: Gpu, b: number, l: number, widths: number[], seed: number): Promise<number> {
  const rand = seeded(seed);
  const data = widths.map((w) => randomNormal(b * l * w, rand));
  const parts = widths.map((w, i) => gpu.tensor([b, l, w], 'f32', data[i], `part${i}`));
  const y = gpu.run((enc) => channelConcat(enc, parts));
  const got = await y.read();
  [...parts, y].forEach((t) => t.release());
  return maxRelError(got, channelConcatRef(data, b * l, widths));
}

/** reverseFrames of (b, l, c), with random lengths in [0, l + 1] when asked (some out of range on purpose). */
export async function checkReverse(gpu: Gpu, b: number, l: number, c: number, withLengths: boolean, seed: number): Promise<number> {
  const rand = seeded(seed);
  const data = randomNormal(b * l * c, rand);
  const lens = withLengths ? Array.from({ length: b }, () => Math.floor(rand() * (l + 2))) : undefined;
  const x = gpu.tensor([b, l, c], 'f32', data, 'x');
  const lengths = lens ? gpu.tensor([b], 'i32', lens, 'lengths') : undefined;
  const y = gpu.run((enc) => reverseFrames(enc, x, lengths));
  const got = await y.read();
  [x, y, lengths].forEach((t) => t?.release());
  return maxRelError(got, reverseFramesRef(data, b, l, c, lens));
}

export const layoutChecks: KernelCheck[] = [
  { family: 'layout', name: 'channelSlice 1001x37 [5:22]', tolerance: LAYOUT_EXACT, run: (gpu, seed) => checkSlice(gpu, 1001, 37, 5, 17, seed) },
  {
    family: 'layout',
    name: 'channelSliceBackward 1001x37 [5:22] accumulate',
    tolerance: LAYOUT_ACCUMULATE_TOLERANCE,
    run: (gpu, seed) => checkSliceBackward(gpu, 1001, 37, 5, 17, true, seed),
  },
  { family: 'layout', name: 'channelConcat 3x67 [3, 1, 8]', tolerance: LAYOUT_EXACT, run: (gpu, seed) => checkConcat(gpu, 3, 67, [3, 1, 8], seed) },
  { family: 'layout', name: 'reverseFrames 3x301x13 with lengths', tolerance: LAYOUT_EXACT, run: (gpu, seed) => checkReverse(gpu, 3, 301, 13, true, seed) },
];

/** Bytes moved per second by a channel slice of (rows, c) to its first half. */
export function sliceBench(rows: number, c: number): KernelBench {
  const count = c / 2;
  return {
    family: 'layout',
    name: 'channelSlice',
    shape: `${rows}x${c} -> ${count}`,
    bytes: 8 * rows * count,
    setup(gpu) {
      const x = gpu.tensor([rows, c], 'f32', randomNormal(rows * c, seeded(rows)), 'x');
      const y = gpu.tensor([rows, count], 'f32', undefined, 'y');
      return { record: (enc) => void channelSlice(enc, x, 0, count, y), dispose: () => [x, y].forEach((t) => t.release()) };
    },
  };
}

export function reverseBench(b: number, l: number, c: number): KernelBench {
  return {
    family: 'layout',
    name: 'reverseFrames',
    shape: `${b}x${l}x${c}`,
    bytes: 8 * b * l * c,
    setup(gpu) {
      const x = gpu.tensor([b, l, c], 'f32', randomNormal(b * l * c, seeded(l)), 'x');
      const y = gpu.tensor([b, l, c], 'f32', undefined, 'y');
      return { record: (enc) => void reverseFrames(enc, x, undefined, y), dispose: () => [x, y].forEach((t) => t.release()) };
    },
  };
}

// Mamba Base at 80 s: 4000 frames, in_proj output 2 * 2304 channels, d_inner 2304.
export const layoutBenches: KernelBench[] = [sliceBench(4000, 4608), reverseBench(1, 4000, 2304)];
