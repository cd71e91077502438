import type { Gpu } from '../../gpu/device.ts';
import { maxRelError } from '../compare.ts';
import { releaseAll } from '../../gpu/tensor.ts';
import { channelConcat, channelSlice, channelSliceBackward, framesConcat, reverseFrames } from '../layout.ts';
import { randomNormal, seeded } from '../random.ts';
import { channelConcatRef, channelSliceBackwardRef, channelSliceRef, framesConcatRef, reverseFramesRef } from '../reference/layout.ts';
import type { Check } from '../check.ts';
import type { KernelBench } from '../suite-types.ts';

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

/** A framesConcat case: frames start .. start + len - 1 of [a (b, la, c), b (b, lb, c)]. */
export interface FramesConcatCase {
  b: number;
  la: number;
  lb: number;
  c: number;
  start: number;
  len: number;
}

export function describeFramesConcat(k: FramesConcatCase): string {
  return `[${k.b}, ${k.la}, ${k.c}] + [${k.b}, ${k.lb}, ${k.c}] frames ${k.start}..${k.start + k.len}`;
}

/** framesConcat vs the twin; Infinity when the output's shape is wrong. */
export async function checkFramesConcat(gpu: Gpu, k: FramesConcatCase, seed: number): Promise<number> {
  const rand = seeded(seed);
  const aData = randomNormal(k.b * k.la * k.c, rand);
  const bData = randomNormal(k.b * k.lb * k.c, rand);
  const a = gpu.tensor([k.b, k.la, k.c], 'f32', aData, 'a');
  const b = gpu.tensor([k.b, k.lb, k.c], 'f32', bData, 'b');
  const y = gpu.run((enc) => framesConcat(enc, a, b, k.start, k.len));
  const shapeOk = y.shape.length === 3 && y.shape[0] === k.b && y.shape[1] === k.len && y.shape[2] === k.c;
  const got = await y.read();
  releaseAll(a, b, y);
  return shapeOk ? maxRelError(got, framesConcatRef(aData, bData, k.b, k.la, k.lb, k.c, k.start, k.len)) : Infinity;
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

// Awkward shapes: a window across both parts, an empty first part (the KV cache's first chunk), an empty
// second part, a single frame and channel, and nothing copied at all.
const FRAMES_CONCAT_CASES: FramesConcatCase[] = [
  { b: 2, la: 5, lb: 300, c: 37, start: 3, len: 301 },
  { b: 3, la: 0, lb: 71, c: 13, start: 0, len: 71 },
  { b: 2, la: 7, lb: 0, c: 5, start: 2, len: 5 },
  { b: 1, la: 1, lb: 1, c: 1, start: 1, len: 1 },
  { b: 2, la: 3, lb: 4, c: 6, start: 7, len: 0 },
];

export const layoutChecks: Check[] = [
  { family: 'layout', name: 'channelSlice 1001x37 [5:22]', tolerance: LAYOUT_EXACT, run: (gpu, seed) => checkSlice(gpu, 1001, 37, 5, 17, seed) },
  {
    family: 'layout',
    name: 'channelSliceBackward 1001x37 [5:22] accumulate',
    tolerance: LAYOUT_ACCUMULATE_TOLERANCE,
    run: (gpu, seed) => checkSliceBackward(gpu, 1001, 37, 5, 17, true, seed),
  },
  { family: 'layout', name: 'channelConcat 3x67 [3, 1, 8]', tolerance: LAYOUT_EXACT, run: (gpu, seed) => checkConcat(gpu, 3, 67, [3, 1, 8], seed) },
  { family: 'layout', name: 'reverseFrames 3x301x13 with lengths', tolerance: LAYOUT_EXACT, run: (gpu, seed) => checkReverse(gpu, 3, 301, 13, true, seed) },
  ...FRAMES_CONCAT_CASES.map(
    (k): Check => ({ family: 'layout', name: `framesConcat ${describeFramesConcat(k)}`, tolerance: LAYOUT_EXACT, run: (gpu, seed) => checkFramesConcat(gpu, k, seed) }),
  ),
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

/** framesConcat of all of a (b, la, c) and b (b, lb, c): bytes read plus bytes written. */
export function framesConcatBench(b: number, la: number, lb: number, c: number): KernelBench {
  return {
    family: 'layout',
    name: 'framesConcat',
    shape: `${b}x${la}x${c} + ${b}x${lb}x${c}`,
    bytes: 8 * b * (la + lb) * c,
    setup(gpu) {
      const x = gpu.tensor([b, la, c], 'f32', randomNormal(b * la * c, seeded(la)), 'a');
      const y = gpu.tensor([b, lb, c], 'f32', randomNormal(b * lb * c, seeded(lb)), 'b');
      return { record: (enc) => enc.releaseAfter(framesConcat(enc, x, y, 0, la + lb)), dispose: () => releaseAll(x, y) };
    },
  };
}

// Mamba Base at 80 s: 4000 frames, in_proj output 2 * 2304 channels, d_inner 2304. The KV cache of a
// Transformer Base layer (768 channels) growing by one 20-frame chunk at 2000 frames.
export const layoutBenches: KernelBench[] = [sliceBench(4000, 4608), reverseBench(1, 4000, 2304), framesConcatBench(1, 2000, 20, 768)];
