import { describe, expect, it } from 'vitest';
import {
  backwardError,
  checkGroupNorm,
  checkLayerNorm,
  describeGroupNorm,
  describeLayerNorm,
  forwardError,
  NORM_BACKWARD_TOLERANCE,
  NORM_FORWARD_TOLERANCE,
  type GroupNormCase,
  type LayerNormCase,
} from '../../src/kernels/checks/norm.ts';
import { groupNorm, groupNormBackward, layerNorm, layerNormBackward, residualLayerNorm, residualLayerNormBackward } from '../../src/kernels/norm.ts';
import { freshSeed, randomNormal, seeded } from '../../src/kernels/random.ts';
import { groupNormBackwardRef, groupNormRef, layerNormBackwardRef, layerNormRef } from '../../src/kernels/reference/norm.ts';
import { ShapeError } from '../../src/gpu/errors.ts';
import { testGpu } from '../gpu.ts';

const CHANNELS = [1, 7, 33, 257, 768];
const ROWS = [1, 5, 1000];

function expectErrors(e: Record<string, number>, fwd: number, bwd: number, seed: number) {
  const msg = `seed ${seed}: ${JSON.stringify(e)}`;
  expect(forwardError(e as never), msg).toBeLessThan(fwd);
  expect(backwardError(e as never), msg).toBeLessThan(bwd);
}

describe('layer norm against its CPU twin (forward, then backward on the saved statistics)', () => {
  const cases: LayerNormCase[] = [];
  for (const variant of ['row', 'wg'] as const) for (const c of CHANNELS) for (const rows of ROWS) cases.push({ rows, c, variant });
  for (const variant of ['row', 'wg'] as const) for (const [rows, c] of [[1, 1], [5, 33], [1000, 257], [3, 768]]) cases.push({ rows, c, variant, residual: true });
  for (const k of cases) {
    it(describeLayerNorm(k), async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      expectErrors({ ...(await checkLayerNorm(gpu, k, seed)) }, NORM_FORWARD_TOLERANCE, NORM_BACKWARD_TOLERANCE, seed);
    });
  }
});

describe('norms over more than 65535 workgroups (the grid folds into 2-D)', () => {
  // (The row variant folds only past 4M rows: too slow for a unit test on a CPU driver.)
  const cases: LayerNormCase[] = [{ rows: 65541, c: 8, variant: 'wg' }]; // one workgroup per row
  for (const k of cases) {
    it(`layer norm ${describeLayerNorm(k)}`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      expectErrors({ ...(await checkLayerNorm(gpu, k, seed)) }, NORM_FORWARD_TOLERANCE, NORM_BACKWARD_TOLERANCE, seed);
    });
  }
  it('group norm 1x8x65540 groups 65540', async () => {
    const gpu = await testGpu();
    const seed = freshSeed();
    expectErrors({ ...(await checkGroupNorm(gpu, { b: 1, l: 8, c: 65540, groups: 65540 }, seed)) }, NORM_FORWARD_TOLERANCE, NORM_BACKWARD_TOLERANCE, seed);
  });
});

describe('group norm against its CPU twin', () => {
  const cases: GroupNormCase[] = [
    { b: 1, l: 1, c: 1, groups: 1 },
    { b: 2, l: 37, c: 8, groups: 8 }, // HuBERT's GroupNorm(groups = channels)
    { b: 1, l: 1000, c: 7, groups: 7 },
    { b: 3, l: 100, c: 12, groups: 4 },
    { b: 2, l: 5, c: 33, groups: 11 },
    { b: 1, l: 257, c: 6, groups: 1 },
    { b: 2, l: 300, c: 64, groups: 64 },
    // Padded batches: statistics over each utterance's valid frames only.
    { b: 3, l: 37, c: 8, groups: 8, padded: true },
    { b: 4, l: 300, c: 12, groups: 4, padded: true },
  ];
  for (const k of cases) {
    it(describeGroupNorm(k), async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      expectErrors({ ...(await checkGroupNorm(gpu, k, seed)) }, NORM_FORWARD_TOLERANCE, NORM_BACKWARD_TOLERANCE, seed);
    });
  }
});

/** Central differences of loss(v) = sum(w * f(v)) with respect to every element of v, in float64. */
function finiteDifferences(v: Float64Array, loss: () => number, h = 1e-6): Float64Array {
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

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, seed: number, tol = 1e-6) {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    expect(Math.abs(got[i] - want[i]), `${what}[${i}] ${got[i]} vs ${want[i]}, seed ${seed}`).toBeLessThan(tol * (1 + Math.abs(want[i])));
  }
}

const f64 = (n: number, rand: () => number, scale = 1) => Float64Array.from(randomNormal(n, rand, scale));

describe('the twins\' backward matches finite differences of their forward', () => {
  for (const [rows, c] of [[3, 5], [2, 1], [1, 8]]) {
    for (const residual of [false, true]) {
      it(`layer norm ${rows}x${c}${residual ? ' +residual' : ''}: dx, dr, dgamma, dbeta`, () => {
        const seed = freshSeed();
        const rand = seeded(seed);
        const x = f64(rows * c, rand, 2);
        const r = residual ? f64(rows * c, rand) : undefined;
        const gamma = f64(c, rand);
        const beta = f64(c, rand);
        const w = f64(rows * c, rand);
        const loss = () => layerNormRef(x, gamma, beta, rows, c, 1e-5, r).y.reduce((s, v, i) => s + v * w[i], 0);
        const saved = layerNormRef(x, gamma, beta, rows, c, 1e-5, r);
        const g = layerNormBackwardRef(w, x, gamma, saved, rows, c, r);
        expectClose(g.dx, finiteDifferences(x, loss), 'dx', seed);
        if (r) expectClose(g.dx, finiteDifferences(r, loss), 'dr', seed);
        expectClose(g.dgamma, finiteDifferences(gamma, loss), 'dgamma', seed);
        expectClose(g.dbeta, finiteDifferences(beta, loss), 'dbeta', seed);
      });
    }
  }

  const groupCases: [number, number, number, number, number[]?][] = [[2, 3, 4, 2], [1, 4, 3, 3], [2, 2, 6, 1], [3, 4, 2, 2, [4, 1, 2]]];
  for (const [b, l, c, groups, frames] of groupCases) {
    it(`group norm ${b}x${l}x${c} groups ${groups}${frames ? ` frames ${frames}` : ''}: dx, dgamma, dbeta`, () => {
      const seed = freshSeed();
      const rand = seeded(seed);
      const x = f64(b * l * c, rand, 2);
      const gamma = f64(c, rand);
      const beta = f64(c, rand);
      const w = f64(b * l * c, rand);
      const loss = () => groupNormRef(x, gamma, beta, b, l, c, groups, 1e-5, frames).y.reduce((s, v, i) => s + v * w[i], 0);
      const g = groupNormBackwardRef(w, x, gamma, groupNormRef(x, gamma, beta, b, l, c, groups, 1e-5, frames), b, l, c, groups, frames);
      expectClose(g.dx, finiteDifferences(x, loss), 'dx', seed);
      expectClose(g.dgamma, finiteDifferences(gamma, loss), 'dgamma', seed);
      expectClose(g.dbeta, finiteDifferences(beta, loss), 'dbeta', seed);
    });
  }
});

describe('norm gradient plumbing', () => {
  it('residualLayerNorm equals layerNorm of the materialised sum, and dr is dx', async () => {
    const gpu = await testGpu();
    const seed = freshSeed();
    const rand = seeded(seed);
    const [rows, c] = [6, 19];
    const xd = randomNormal(rows * c, rand);
    const rd = randomNormal(rows * c, rand);
    const sum = xd.map((v, i) => v + rd[i]);
    const [x, r, s] = [xd, rd, sum].map((d, i) => gpu.tensor([rows, c], 'f32', d, ['x', 'r', 's'][i]));
    const gamma = gpu.tensor([c], 'f32', randomNormal(c, rand), 'gamma');
    const beta = gpu.tensor([c], 'f32', randomNormal(c, rand), 'beta');
    const dy = gpu.tensor([rows, c], 'f32', randomNormal(rows * c, rand), 'dy');
    const [a, bRef, ga, gb] = gpu.run((enc) => {
      const f1 = residualLayerNorm(enc, x, r, gamma, beta);
      const f2 = layerNorm(enc, s, gamma, beta);
      return [f1, f2, residualLayerNormBackward(enc, dy, x, r, gamma, f1), layerNormBackward(enc, dy, s, gamma, f2)] as const;
    });
    // Rounding of x + r is the same on both paths: the results agree to the last bits.
    expect(Array.from(await a.y.read()), `seed ${seed}`).toEqual(Array.from(await bRef.y.read()));
    expect(ga.dr).toBe(ga.dx);
    expect(Array.from(await ga.dx.read()), `seed ${seed}`).toEqual(Array.from(await gb.dx.read()));
  });

  it('accumulates dgamma and dbeta into given tensors (gradient accumulation)', async () => {
    const gpu = await testGpu();
    const seed = freshSeed();
    const rand = seeded(seed);
    const [rows, c] = [70, 9];
    const xd = randomNormal(rows * c, rand);
    const gd = randomNormal(c, rand);
    const dyd = randomNormal(rows * c, rand);
    const x = gpu.tensor([rows, c], 'f32', xd, 'x');
    const gamma = gpu.tensor([c], 'f32', gd, 'gamma');
    const beta = gpu.tensor([c], 'f32', new Float32Array(c), 'beta');
    const dy = gpu.tensor([rows, c], 'f32', dyd, 'dy');
    const dgamma = gpu.tensor([c], 'f32', new Float32Array(c).fill(1), 'dgamma');
    const dbeta = gpu.tensor([c], 'f32', new Float32Array(c).fill(-2), 'dbeta');
    gpu.run((enc) => {
      const f = layerNorm(enc, x, gamma, beta);
      layerNormBackward(enc, dy, x, gamma, f, { dgamma, dbeta, accumulate: true });
      layerNormBackward(enc, dy, x, gamma, f, { dgamma, dbeta, accumulate: true });
    });
    const want = layerNormBackwardRef(dyd, xd, gd, layerNormRef(xd, gd, new Float32Array(c), rows, c), rows, c);
    const [gotG, gotB] = [await dgamma.read(), await dbeta.read()];
    for (let j = 0; j < c; j++) {
      expect(gotG[j], `dgamma[${j}] seed ${seed}`).toBeCloseTo(1 + 2 * want.dgamma[j], 4);
      expect(gotB[j], `dbeta[${j}] seed ${seed}`).toBeCloseTo(-2 + 2 * want.dbeta[j], 4);
    }
  });
});

describe('norm bad input', () => {
  it('names the tensor and its shape', async () => {
    const gpu = await testGpu();
    const x = gpu.tensor([4, 6], 'f32', undefined, 'x');
    const x3 = gpu.tensor([2, 4, 6], 'f32', undefined, 'feat');
    const gamma = gpu.tensor([6], 'f32', undefined, 'gamma');
    const beta = gpu.tensor([6], 'f32', undefined, 'beta');
    const bad = gpu.tensor([5], 'f32', undefined, 'ln.gamma');
    const r = gpu.tensor([4, 7], 'f32', undefined, 'mixer.out');
    const dy = gpu.tensor([4, 5], 'f32', undefined, 'dy');
    expect(() => gpu.run((enc) => layerNorm(enc, x, bad, beta))).toThrow(ShapeError);
    expect(() => gpu.run((enc) => layerNorm(enc, x, bad, beta))).toThrow(/ln\.gamma\[5\].*\(6\)/);
    expect(() => gpu.run((enc) => residualLayerNorm(enc, x, r, gamma, beta))).toThrow(/mixer\.out\[4, 7\].*x\[4, 6\]/);
    const f = gpu.run((enc) => layerNorm(enc, x, gamma, beta));
    expect(() => gpu.run((enc) => layerNormBackward(enc, dy, x, gamma, f))).toThrow(/dy\[4, 5\].*x\[4, 6\]/);
    expect(() => gpu.run((enc) => groupNorm(enc, x3, gamma, beta, 4))).toThrow(/4 groups.*c=6.*feat\[2, 4, 6\]/);
    expect(() => gpu.run((enc) => groupNorm(enc, x, gamma, beta, 6))).toThrow(/x\[4, 6\] must be \(b, l, c\)/);
    const g = gpu.run((enc) => groupNorm(enc, x3, gamma, beta, 3));
    expect(() => gpu.run((enc) => groupNormBackward(enc, x3, x3, gamma, 2, g))).toThrow(/mean.*\[2, 3\].*4 elements/);
  });
});
