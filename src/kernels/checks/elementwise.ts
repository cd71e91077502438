import type { Gpu } from '../../gpu/device.ts';
import { maxRelError } from '../compare.ts';
import { accumulate, binary, binaryBackward, copy, fill, unary, unaryBackward, type BinaryOp, type UnaryOp } from '../elementwise.ts';
import { randomNormal, seeded } from '../random.ts';
import { accumulateRef, binaryBackwardRef, binaryRef, unaryBackwardRef, unaryRef } from '../reference/elementwise.ts';
import type { Check } from '../check.ts';
import type { KernelBench } from '../suite-types.ts';

/**
 * maxRelError with the floor of small values raised to at least 1e-3: values of magnitude below 1e-3 are
 * compared absolutely (so a length-1 check of GELU deep in its tail is not judged relative to ~1e-7).
 */
export function elementwiseError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  return maxRelError(got, want, 1e-3);
}

/** Spread of the random inputs: wide enough to reach both tails of SiLU, GELU and softplus. */
const SPREAD = 4;

/** Forward and backward of a unary op on n elements vs the twin: [forward error, backward error]. */
export async function checkUnary(gpu: Gpu, op: UnaryOp, n: number, seed: number, alpha = 1.7): Promise<[number, number]> {
  const rand = seeded(seed);
  const xData = randomNormal(n, rand, SPREAD);
  const dyData = randomNormal(n, rand);
  const x = gpu.tensor([n], 'f32', xData, 'x');
  const dy = gpu.tensor([n], 'f32', dyData, 'dy');
  const [y, dx] = gpu.run((enc) => [unary(enc, op, x, { alpha }), unaryBackward(enc, op, x, dy, { alpha })]);
  const got = [await y.read(), await dx.read()];
  [x, dy, y, dx].forEach((t) => t.release());
  return [elementwiseError(got[0], unaryRef(op, xData, alpha)), elementwiseError(got[1], unaryBackwardRef(op, xData, dyData, alpha))];
}

/** Forward and backward (max over both input gradients) of a binary op vs the twin. */
export async function checkBinary(gpu: Gpu, op: BinaryOp, n: number, seed: number): Promise<[number, number]> {
  const rand = seeded(seed);
  const aData = randomNormal(n, rand, SPREAD);
  const bData = randomNormal(n, rand, SPREAD);
  const gData = randomNormal(n, rand);
  const a = gpu.tensor([n], 'f32', aData, 'a');
  const b = gpu.tensor([n], 'f32', bData, 'b');
  const g = gpu.tensor([n], 'f32', gData, 'dout');
  const [y, grads] = gpu.run((enc) => [binary(enc, op, a, b), binaryBackward(enc, op, a, b, g)] as const);
  const got = [await y.read(), await grads.da.read(), await grads.db.read()];
  for (const t of new Set([a, b, g, y, grads.da, grads.db])) t.release();
  const want = binaryBackwardRef(op, aData, bData, gData);
  return [elementwiseError(got[0], binaryRef(op, aData, bData)), Math.max(elementwiseError(got[1], want.da), elementwiseError(got[2], want.db))];
}

/** acc += alpha * x, then fill: returns the worse of the two errors. */
export async function checkAccumulateFill(gpu: Gpu, n: number, seed: number): Promise<number> {
  const rand = seeded(seed);
  const accData = randomNormal(n, rand);
  const xData = randomNormal(n, rand);
  const acc = gpu.tensor([n], 'f32', accData, 'acc');
  const x = gpu.tensor([n], 'f32', xData, 'x');
  const filled = gpu.tensor([n], 'f32', xData, 'filled');
  gpu.run((enc) => {
    accumulate(enc, acc, x, -0.5);
    fill(enc, filled, 3.25);
  });
  const got = [await acc.read(), await filled.read()];
  [acc, x, filled].forEach((t) => t.release());
  return Math.max(elementwiseError(got[0], accumulateRef(accData, xData, -0.5)), elementwiseError(got[1], new Float64Array(n).fill(3.25)));
}

/** Bound for exactly rounded ops (add, multiply, scale, accumulate, fill): a few float32 roundings. */
export const ELEMENTWISE_TOLERANCE = 1e-6;
/**
 * Bound for ops built on exp (SiLU, softplus, the gate): WGSL lets exp be off by 3 + 2|x| ULP, about 5e-6
 * relative at |x| = 20, and a derivative near its zero amplifies that; the largest error seen over many seeds is
 * about 3e-5.
 */
export const EXP_TOLERANCE = 1e-4;
/**
 * The shader's erf (Abramowitz & Stegun 7.1.26) is off by up to 1.5e-7 absolutely, so GELU and its derivative
 * carry an absolute error up to about 0.5 |x| 1.5e-7, which the floor of 1e-3 turns into at most a few 1e-4
 * (largest seen: 1.2e-4).
 */
export const GELU_TOLERANCE = 5e-4;

export function unaryTolerance(op: UnaryOp): number {
  return op === 'gelu' ? GELU_TOLERANCE : op === 'scale' ? ELEMENTWISE_TOLERANCE : EXP_TOLERANCE;
}

export function binaryTolerance(op: BinaryOp): number {
  return op === 'gate' ? EXP_TOLERANCE : ELEMENTWISE_TOLERANCE;
}

const UNARY: UnaryOp[] = ['silu', 'gelu', 'softplus', 'scale'];
const BINARY: BinaryOp[] = ['add', 'mul', 'gate'];

export const elementwiseChecks: Check[] = [
  {
    family: 'elementwise',
    name: 'copy 1000003',
    tolerance: 0,
    async run(gpu, seed) {
      const data = randomNormal(1000003, seeded(seed));
      const x = gpu.tensor([data.length], 'f32', data, 'x');
      const y = gpu.run((enc) => copy(enc, x));
      const got = await y.read();
      x.release();
      y.release();
      return maxRelError(got, data);
    },
  },
  ...UNARY.flatMap((op): Check[] => [
    { family: 'elementwise', name: `${op} forward 1027`, tolerance: unaryTolerance(op), run: async (gpu, seed) => (await checkUnary(gpu, op, 1027, seed))[0] },
    { family: 'elementwise', name: `${op} backward 1027`, tolerance: unaryTolerance(op), run: async (gpu, seed) => (await checkUnary(gpu, op, 1027, seed))[1] },
  ]),
  ...BINARY.flatMap((op): Check[] => [
    { family: 'elementwise', name: `${op} forward 1027`, tolerance: binaryTolerance(op), run: async (gpu, seed) => (await checkBinary(gpu, op, 1027, seed))[0] },
    { family: 'elementwise', name: `${op} backward 1027`, tolerance: binaryTolerance(op), run: async (gpu, seed) => (await checkBinary(gpu, op, 1027, seed))[1] },
  ]),
  { family: 'elementwise', name: 'accumulate, fill 1027', tolerance: ELEMENTWISE_TOLERANCE, run: (gpu, seed) => checkAccumulateFill(gpu, 1027, seed) },
];

/** Copy bandwidth: bytes read plus bytes written per second. The roofline of memory-bound kernels. */
export function copyBench(n: number): KernelBench {
  return {
    family: 'elementwise',
    name: 'copy',
    shape: `${n}`,
    bytes: 8 * n,
    setup(gpu) {
      const x = gpu.tensor([n], 'f32', randomNormal(n, seeded(n)), 'x');
      const y = gpu.tensor([n], 'f32', undefined, 'y');
      return { record: (enc) => void copy(enc, x, y), dispose: () => [x, y].forEach((t) => t.release()) };
    },
  };
}

export function unaryBench(op: UnaryOp, n: number): KernelBench {
  return {
    family: 'elementwise',
    name: op,
    shape: `${n}`,
    bytes: 8 * n,
    setup(gpu) {
      const x = gpu.tensor([n], 'f32', randomNormal(n, seeded(n)), 'x');
      const y = gpu.tensor([n], 'f32', undefined, 'y');
      return { record: (enc) => void unary(enc, op, x, { out: y }), dispose: () => [x, y].forEach((t) => t.release()) };
    },
  };
}

export const elementwiseBenches: KernelBench[] = [
  copyBench(1 << 24),
  unaryBench('gelu', 1 << 24),
];
