import type { Gpu } from '../../gpu/device.ts';
import { releaseAll } from '../../gpu/tensor.ts';
import type { Check } from '../check.ts';
import { maxRelError, readAll } from '../compare.ts';
import { depthwiseConv, depthwiseConvBackward, depthwiseConvState, depthwiseConvStep } from '../depthwise.ts';
import { randomNormal, seeded } from '../random.ts';
import { depthwiseConvBackwardRef, depthwiseConvRef } from '../reference/depthwise.ts';
import type { KernelBench } from '../suite-types.ts';

export interface DepthwiseCase {
  b: number;
  l: number;
  c: number;
  k: number;
  bias?: boolean;
  silu?: boolean;
}

export function describeDepthwise(c: DepthwiseCase): string {
  return `[${c.b}, ${c.l}, ${c.c}] k${c.k}${c.bias ? ' +bias' : ''}${c.silu ? ' silu' : ''}`;
}

/** Random x, weight, bias (when the case has one) and dy of a case. */
function depthwiseData(c: DepthwiseCase, seed: number) {
  const rand = seeded(seed);
  return {
    x: randomNormal(c.b * c.l * c.c, rand),
    w: randomNormal(c.c * c.k, rand, 0.5),
    bias: c.bias ? randomNormal(c.c, rand) : undefined,
    dy: randomNormal(c.b * c.l * c.c, rand),
  };
}

/** GPU depthwise forward vs the twin: max relative error. */
export async function checkDepthwiseForward(gpu: Gpu, c: DepthwiseCase, seed: number): Promise<number> {
  const d = depthwiseData(c, seed);
  const x = gpu.tensor([c.b, c.l, c.c], 'f32', d.x, 'x');
  const w = gpu.tensor([c.c, 1, c.k], 'f32', d.w, 'weight');
  const bias = d.bias ? gpu.tensor([c.c], 'f32', d.bias, 'bias') : undefined;
  const y = gpu.run((enc) => depthwiseConv(enc, x, w, { bias, silu: c.silu }));
  const [got] = await readAll([y, x, w, bias]);
  return maxRelError(got!, depthwiseConvRef(d.x, d.w, c, d.bias));
}

/** GPU depthwise backward (dx, dweight, dbias) vs the twin: the largest of the three errors. */
export async function checkDepthwiseBackward(gpu: Gpu, c: DepthwiseCase, seed: number): Promise<number> {
  const d = depthwiseData(c, seed);
  const x = gpu.tensor([c.b, c.l, c.c], 'f32', d.x, 'x');
  const w = gpu.tensor([c.c, c.k], 'f32', d.w, 'weight');
  const bias = d.bias ? gpu.tensor([c.c], 'f32', d.bias, 'bias') : undefined;
  const dy = gpu.tensor([c.b, c.l, c.c], 'f32', d.dy, 'dy');
  const g = gpu.run((enc) => depthwiseConvBackward(enc, x, w, dy, { bias, silu: c.silu }));
  const [dx, dweight, dbias] = await readAll([g.dx, g.dweight, g.dbias, x, w, bias, dy]);
  const want = depthwiseConvBackwardRef(d.x, d.w, d.dy, c, d.bias);
  let err = Math.max(maxRelError(dx!, want.dx), maxRelError(dweight!, want.dweight));
  if (c.bias) err = Math.max(err, dbias ? maxRelError(dbias, want.dbias) : Infinity);
  return err;
}

/** Feed the frames in chunks of the given sizes (cycled) through the streaming step; compare with the twin. */
export async function checkDepthwiseStream(gpu: Gpu, c: DepthwiseCase, chunks: number[], seed: number): Promise<number> {
  const d = depthwiseData(c, seed);
  const w = gpu.tensor([c.c, c.k], 'f32', d.w, 'weight');
  const bias = d.bias ? gpu.tensor([c.c], 'f32', d.bias, 'bias') : undefined;
  let state = depthwiseConvState(gpu, c.b, c.c, c.k);
  const got = new Float32Array(c.b * c.l * c.c);
  for (let t0 = 0, i = 0; t0 < c.l; i++) {
    const m = Math.min(chunks[i % chunks.length], c.l - t0);
    const part = new Float32Array(c.b * m * c.c);
    for (let bb = 0; bb < c.b; bb++) part.set(d.x.subarray((bb * c.l + t0) * c.c, (bb * c.l + t0 + m) * c.c), bb * m * c.c);
    const x = gpu.tensor([c.b, m, c.c], 'f32', part, 'x');
    const r = gpu.run((enc) => depthwiseConvStep(enc, state, x, w, { bias, silu: c.silu }));
    state = r.state;
    const [y] = await readAll([r.y, x]);
    for (let bb = 0; bb < c.b; bb++) got.set(y!.subarray(bb * m * c.c, (bb + 1) * m * c.c), (bb * c.l + t0) * c.c);
    t0 += m;
  }
  await readAll([state, w, bias]);
  return maxRelError(got, depthwiseConvRef(d.x, d.w, c, d.bias));
}

// Small awkward shapes (well under a second each on a CPU adapter).
const DEPTHWISE_CASES: DepthwiseCase[] = [
  { b: 1, l: 1, c: 5, k: 4, bias: true },
  { b: 2, l: 37, c: 67, k: 4, bias: true, silu: true },
  { b: 1, l: 300, c: 24, k: 3 },
];

export const depthwiseChecks: Check[] = [
  ...DEPTHWISE_CASES.flatMap((c): Check[] => [
    { family: 'depthwise', name: `forward ${describeDepthwise(c)}`, tolerance: 1e-4, run: (gpu, seed) => checkDepthwiseForward(gpu, c, seed) },
    { family: 'depthwise', name: `backward ${describeDepthwise(c)}`, tolerance: 5e-4, run: (gpu, seed) => checkDepthwiseBackward(gpu, c, seed) },
  ]),
  {
    family: 'depthwise',
    name: 'streaming in chunks 1,3,7 == offline [2, 29, 13] k4 silu',
    tolerance: 1e-4,
    run: (gpu, seed) => checkDepthwiseStream(gpu, { b: 2, l: 29, c: 13, k: 4, bias: true, silu: true }, [1, 3, 7], seed),
  },
];

// ---------------------------------------------------------------------------------------------------
// Benchmarks.

export function depthwiseBench(c: DepthwiseCase, backward = false): KernelBench {
  const macs = c.b * c.l * c.c * c.k;
  return {
    family: 'depthwise',
    name: `${backward ? 'backward' : 'forward'}${c.silu ? ' silu' : ''}`,
    shape: `[${c.b}, ${c.l}, ${c.c}] k${c.k}`,
    flops: (backward ? 4 : 2) * macs,
    bytes: 4 * c.b * c.l * c.c * (backward ? 4 : 2),
    setup(gpu) {
      const d = depthwiseData(c, 1234);
      const x = gpu.tensor([c.b, c.l, c.c], 'f32', d.x, 'x');
      const w = gpu.tensor([c.c, c.k], 'f32', d.w, 'weight');
      const bias = gpu.tensor([c.c], 'f32', d.bias ?? new Float32Array(c.c), 'bias');
      const y = gpu.tensor([c.b, c.l, c.c], 'f32', d.dy, 'y');
      const dweight = gpu.tensor([c.c, c.k], 'f32', undefined, 'dweight');
      const dbias = gpu.tensor([c.c], 'f32', undefined, 'dbias');
      return {
        record: (enc) => {
          if (!backward) depthwiseConv(enc, x, w, { bias, silu: c.silu, out: y });
          else enc.releaseAfter(depthwiseConvBackward(enc, x, w, y, { bias, silu: c.silu, dweight, dbias }).dx);
        },
        dispose: () => releaseAll(x, w, bias, y, dweight, dbias),
      };
    },
  };
}

// Mamba Base: d_inner 2304, d_conv 4, over 1000 frames (20 s).
export const depthwiseBenches: KernelBench[] = [
  depthwiseBench({ b: 1, l: 1000, c: 2304, k: 4, bias: true, silu: true }),
  depthwiseBench({ b: 1, l: 1000, c: 2304, k: 4, bias: true, silu: true }, true),
];
