import type { Gpu } from '../../gpu/device.ts';
import { releaseAll, type Tensor } from '../../gpu/tensor.ts';
import { maxRelError } from '../compare.ts';
import { groupNorm, groupNormBackward, layerNorm, layerNormBackward, type NormVariant } from '../norm.ts';
import { randomNormal, randomUniform, seeded } from '../random.ts';
import { groupNormBackwardRef, groupNormRef, layerNormBackwardRef, layerNormRef } from '../reference/norm.ts';
import type { Check } from '../check.ts';
import type { KernelBench } from '../suite-types.ts';

/** Max relative error of each output of a norm's forward and backward against the CPU twin. */
export interface NormErrors {
  y: number;
  mean: number;
  rstd: number;
  dx: number;
  dgamma: number;
  dbeta: number;
}

export const forwardError = (e: NormErrors): number => Math.max(e.y, e.mean, e.rstd);
export const backwardError = (e: NormErrors): number => Math.max(e.dx, e.dgamma, e.dbeta);

export interface LayerNormCase {
  rows: number;
  c: number;
  /** Normalise x + r (the post-LN residual block). */
  residual?: boolean;
  variant?: NormVariant;
}

export function describeLayerNorm(k: LayerNormCase): string {
  return `${k.rows}x${k.c}${k.residual ? ' +residual' : ''}${k.variant ? ` ${k.variant}` : ''}`;
}

/** Rows of x with a random offset each (so the mean matters) plus unit noise. */
function offsetRows(rows: number, c: number, rand: () => number): Float32Array {
  const x = randomNormal(rows * c, rand);
  const off = randomUniform(rows, rand, -2, 2);
  for (let i = 0; i < x.length; i++) x[i] += off[Math.floor(i / c)];
  return x;
}

async function readAll(ts: Tensor[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const t of ts) out.push((await t.read()) as Float32Array);
  return out;
}

/** Layer norm forward and backward on the GPU (the backward uses the GPU's saved statistics) vs the twin. */
export async function checkLayerNorm(gpu: Gpu, k: LayerNormCase, seed: number): Promise<NormErrors> {
  const rand = seeded(seed);
  const { rows, c } = k;
  const xData = offsetRows(rows, c, rand);
  const rData = k.residual ? randomNormal(rows * c, rand) : undefined;
  const gData = randomNormal(c, rand, 1);
  const bData = randomNormal(c, rand);
  const dyData = randomNormal(rows * c, rand);
  const x = gpu.tensor([rows, c], 'f32', xData, 'x');
  const r = rData ? gpu.tensor([rows, c], 'f32', rData, 'r') : undefined;
  const gamma = gpu.tensor([c], 'f32', gData, 'gamma');
  const beta = gpu.tensor([c], 'f32', bData, 'beta');
  const dy = gpu.tensor([rows, c], 'f32', dyData, 'dy');
  const [fwd, grads] = gpu.run((enc) => {
    const f = layerNorm(enc, x, gamma, beta, { residual: r, variant: k.variant });
    return [f, layerNormBackward(enc, dy, x, gamma, f, { residual: r, variant: k.variant })] as const;
  });
  const [y, mean, rstd, dx, dgamma, dbeta] = await readAll([fwd.y, fwd.mean, fwd.rstd, grads.dx, grads.dgamma, grads.dbeta]);
  releaseAll([x, r, gamma, beta, dy, fwd.y, fwd.mean, fwd.rstd, grads.dx, grads.dgamma, grads.dbeta]);
  const want = layerNormRef(xData, gData, bData, rows, c, 1e-5, rData);
  const wantG = layerNormBackwardRef(dyData, xData, gData, want, rows, c, rData);
  return {
    y: maxRelError(y, want.y),
    mean: maxRelError(mean, want.mean),
    rstd: maxRelError(rstd, want.rstd),
    dx: maxRelError(dx, wantG.dx),
    dgamma: maxRelError(dgamma, wantG.dgamma),
    dbeta: maxRelError(dbeta, wantG.dbeta),
  };
}

export interface GroupNormCase {
  b: number;
  l: number;
  c: number;
  groups: number;
  /** A padded batch: random valid frame counts in [1, l] per utterance. */
  padded?: boolean;
}

export function describeGroupNorm(k: GroupNormCase): string {
  return `${k.b}x${k.l}x${k.c} groups ${k.groups}${k.padded ? ' padded' : ''}`;
}

export async function checkGroupNorm(gpu: Gpu, k: GroupNormCase, seed: number): Promise<NormErrors> {
  const rand = seeded(seed);
  const { b, l, c, groups } = k;
  const n = b * l * c;
  // A per-channel offset, as a strided conv's output has.
  const xData = randomNormal(n, rand);
  const off = randomUniform(c, rand, -2, 2);
  for (let i = 0; i < n; i++) xData[i] += off[i % c];
  const gData = randomNormal(c, rand);
  const bData = randomNormal(c, rand);
  const dyData = randomNormal(n, rand);
  const x = gpu.tensor([b, l, c], 'f32', xData, 'x');
  const gamma = gpu.tensor([c], 'f32', gData, 'gamma');
  const beta = gpu.tensor([c], 'f32', bData, 'beta');
  const dy = gpu.tensor([b, l, c], 'f32', dyData, 'dy');
  const lens = k.padded ? Array.from({ length: b }, () => 1 + Math.floor(rand() * l)) : undefined;
  const frames = lens ? gpu.tensor([b], 'i32', Int32Array.from(lens), 'frames') : undefined;
  const [fwd, grads] = gpu.run((enc) => {
    const f = groupNorm(enc, x, gamma, beta, groups, { frames });
    return [f, groupNormBackward(enc, dy, x, gamma, groups, f, { frames })] as const;
  });
  const [y, mean, rstd, dx, dgamma, dbeta] = await readAll([fwd.y, fwd.mean, fwd.rstd, grads.dx, grads.dgamma, grads.dbeta]);
  releaseAll([x, gamma, beta, dy, fwd.y, fwd.mean, fwd.rstd, grads.dx, grads.dgamma, grads.dbeta, frames]);
  const want = groupNormRef(xData, gData, bData, b, l, c, groups, 1e-5, lens);
  const wantG = groupNormBackwardRef(dyData, xData, gData, want, b, l, c, groups, lens);
  return {
    y: maxRelError(y, want.y),
    mean: maxRelError(mean, want.mean),
    rstd: maxRelError(rstd, want.rstd),
    dx: maxRelError(dx, wantG.dx),
    dgamma: maxRelError(dgamma, wantG.dgamma),
    dbeta: maxRelError(dbeta, wantG.dbeta),
  };
}

/** Bounds on the max relative error (floor 1e-3 of the largest value) of the forward and backward. */
export const NORM_FORWARD_TOLERANCE = 5e-4;
export const NORM_BACKWARD_TOLERANCE = 1e-3;

const LN_CASES: LayerNormCase[] = [
  { rows: 5, c: 33, variant: 'row' },
  { rows: 7, c: 257, variant: 'wg' },
  { rows: 1, c: 1 },
  { rows: 13, c: 768, residual: true },
  { rows: 9, c: 100, residual: true, variant: 'wg' },
];

const GN_CASES: GroupNormCase[] = [
  { b: 2, l: 37, c: 8, groups: 8 },
  { b: 1, l: 129, c: 12, groups: 3 },
  { b: 3, l: 41, c: 6, groups: 6, padded: true },
  { b: 2, l: 200, c: 4, groups: 2, padded: true },
];

export const normChecks: Check[] = [
  ...LN_CASES.flatMap((k): Check[] => [
    {
      family: 'norm',
      name: `layerNorm forward ${describeLayerNorm(k)}`,
      tolerance: NORM_FORWARD_TOLERANCE,
      run: async (gpu, seed) => forwardError(await checkLayerNorm(gpu, k, seed)),
    },
    {
      family: 'norm',
      name: `layerNorm backward ${describeLayerNorm(k)}`,
      tolerance: NORM_BACKWARD_TOLERANCE,
      run: async (gpu, seed) => backwardError(await checkLayerNorm(gpu, k, seed)),
    },
  ]),
  ...GN_CASES.flatMap((k): Check[] => [
    {
      family: 'norm',
      name: `groupNorm forward ${describeGroupNorm(k)}`,
      tolerance: NORM_FORWARD_TOLERANCE,
      run: async (gpu, seed) => forwardError(await checkGroupNorm(gpu, k, seed)),
    },
    {
      family: 'norm',
      name: `groupNorm backward ${describeGroupNorm(k)}`,
      tolerance: NORM_BACKWARD_TOLERANCE,
      run: async (gpu, seed) => backwardError(await checkGroupNorm(gpu, k, seed)),
    },
  ]),
];

export function layerNormBench(rows: number, c: number, variant?: NormVariant, direction: 'forward' | 'backward' = 'forward'): KernelBench {
  const n = rows * c;
  return {
    family: 'norm',
    name: `layerNorm ${direction} ${variant ?? 'auto'}`,
    shape: `${rows}x${c}`,
    // forward: read x, write y (+ gamma, beta, mean, rstd); backward: read x and dy, write dx (+ the
    // parameter-gradient pass reading x and dy again).
    bytes: direction === 'forward' ? (2 * n + 2 * c + 2 * rows) * 4 : (5 * n + 3 * c + 2 * rows) * 4,
    setup(gpu) {
      const rand = seeded(n);
      const x = gpu.tensor([rows, c], 'f32', offsetRows(rows, c, rand), 'x');
      const gamma = gpu.tensor([c], 'f32', randomNormal(c, rand), 'gamma');
      const beta = gpu.tensor([c], 'f32', randomNormal(c, rand), 'beta');
      const dy = gpu.tensor([rows, c], 'f32', randomNormal(n, rand), 'dy');
      const y = gpu.tensor([rows, c], 'f32', undefined, 'y');
      const dx = gpu.tensor([rows, c], 'f32', undefined, 'dx');
      const dgamma = gpu.tensor([c], 'f32', undefined, 'dgamma');
      const dbeta = gpu.tensor([c], 'f32', undefined, 'dbeta');
      const saved = gpu.run((enc) => layerNorm(enc, x, gamma, beta, { variant }));
      return {
        record: (enc) => {
          if (direction === 'forward') {
            const f = layerNorm(enc, x, gamma, beta, { variant, out: y });
            enc.releaseAfter(f.mean, f.rstd);
          } else {
            layerNormBackward(enc, dy, x, gamma, saved, { variant, dx, dgamma, dbeta });
          }
        },
        dispose: () => releaseAll([x, gamma, beta, dy, y, dx, dgamma, dbeta, saved.y, saved.mean, saved.rstd]),
      };
    },
  };
}

export const normBenches: KernelBench[] = [
  layerNormBench(4000, 768, 'row'),
  layerNormBench(4000, 768, 'wg'),
  layerNormBench(4000, 768, undefined, 'backward'),
];
