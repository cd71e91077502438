import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../src/gpu/errors.ts';
import type { Tensor } from '../../src/gpu/tensor.ts';
import { checkKmeansAssign, checkKmeansUpdate, describeKmeans, kmeansData, type KmeansCase } from '../../src/kernels/checks/kmeans.ts';
import { kmeansAssign, kmeansPlusPlusInit, kmeansRandomInit, kmeansUpdate, lloydStep } from '../../src/kernels/kmeans.ts';
import { freshSeed } from '../../src/kernels/random.ts';
import { inertiaRef, kmeansAssignRef, kmeansUpdateRef } from '../../src/kernels/reference/kmeans.ts';
import { testGpu } from '../gpu.ts';

const cases: KmeansCase[] = [
  { N: 1, D: 1, K: 1 },
  { N: 1, D: 8, K: 3 },
  { N: 255, D: 3, K: 1 },
  { N: 257, D: 13, K: 7 },
  { N: 1031, D: 64, K: 37 },
  { N: 700, D: 40, K: 130 }, // K > N / 8: several clusters empty or tiny
  { N: 2049, D: 33, K: 5, variant: 'matmul' },
  { N: 300, D: 64, K: 17, variant: 'matmul' },
  { N: 300, D: 64, K: 17, variant: 'fused' },
];

describe('k-means against its CPU twin', () => {
  for (const c of cases) {
    it(`assign ${describeKmeans(c)}`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      expect(await checkKmeansAssign(gpu, c, seed), `seed ${seed}`).toBeLessThan(1e-4);
    });
    it(`update ${describeKmeans(c)}`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      // f32 sums of up to N points against float64 (relative to 1e-3 of the largest coordinate)
      expect(await checkKmeansUpdate(gpu, c, seed), `seed ${seed}`).toBeLessThan(1e-4);
    });
  }

  it('an empty cluster keeps its old centroid; counts are exact', async () => {
    const gpu = await testGpu();
    const x = gpu.tensor([4, 2], 'f32', [0, 0, 1, 0, 10, 10, 11, 10], 'x');
    const c = gpu.tensor([3, 2], 'f32', [0, 0, 10, 10, -500, -500], 'centroids');
    const out = gpu.run((enc) => {
      const a = kmeansAssign(enc, x, c);
      return { a, u: kmeansUpdate(enc, x, a.assignment, c) };
    });
    expect(Array.from(await out.a.assignment.read())).toEqual([0, 0, 1, 1]);
    expect(Array.from(await out.a.dist.read())).toEqual([0, 1, 0, 1]);
    expect(Array.from(await out.u.counts.read())).toEqual([2, 2, 0]);
    expect(Array.from(await out.u.centroids.read())).toEqual([0.5, 0, 10.5, 10, -500, -500]);
  });

  it('Lloyd iterations never increase the inertia and match the twin iteration', async () => {
    const gpu = await testGpu();
    const seed = freshSeed();
    const c = { N: 1500, D: 24, K: 12 };
    const { x } = kmeansData(c, seed, 6);
    const init = kmeansPlusPlusInit(x, c.N, c.D, c.K, seed);
    const tx = gpu.tensor([c.N, c.D], 'f32', x, 'x');
    let cent: Tensor = gpu.tensor([c.K, c.D], 'f32', init, 'centroids');
    let refCent: ArrayLike<number> = init;
    const inertias: number[] = [];
    for (let it = 0; it < 6; it++) {
      const step = gpu.run((enc) => lloydStep(enc, tx, cent));
      inertias.push((await step.inertia.read())[0]);
      // The twin's iteration from the same (GPU) centroids.
      const cur = await cent.read();
      const ra = kmeansAssignRef(x, cur, c.N, c.D, c.K);
      expect(Math.abs(inertias[it] - inertiaRef(ra.dist)) / inertiaRef(ra.dist), `iteration ${it}, seed ${seed}`).toBeLessThan(1e-4);
      // Assignments agree but for near-ties (float32 against float64 distances): where they differ, the GPU's
      // choice is as near as the twin's. The update is then checked on the GPU's own assignment, so that one tied
      // point cannot move a centroid by a whole point's share.
      const got = await step.assignment.read();
      for (let n = 0; n < c.N; n++) {
        if (got[n] === ra.assignment[n]) continue;
        let dGot = 0;
        for (let d = 0; d < c.D; d++) dGot += (x[n * c.D + d] - cur[got[n] * c.D + d]) ** 2;
        expect(Math.abs(dGot - ra.dist[n]) / Math.max(ra.dist[n], 1e-6), `point ${n} iteration ${it}, seed ${seed}`).toBeLessThan(1e-4);
      }
      refCent = kmeansUpdateRef(x, got, cur, c.N, c.D, c.K).centroids;
      cent.release();
      for (const t of [step.assignment, step.dist, step.inertia, step.counts]) t.release();
      cent = step.centroids;
    }
    const last = await cent.read();
    let err = 0;
    for (let i = 0; i < last.length; i++) err = Math.max(err, Math.abs(last[i] - refCent[i]));
    expect(err, `final centroids vs twin update, seed ${seed}`).toBeLessThan(1e-4);
    for (let i = 1; i < inertias.length; i++) {
      expect(inertias[i], `iteration ${i}: ${inertias.join(', ')}, seed ${seed}`).toBeLessThanOrEqual(inertias[i - 1] * (1 + 1e-5));
    }
    expect(inertias[inertias.length - 1]).toBeLessThan(inertias[0]);
  });

  it('seeded initialisations are reproducible and pick data points', () => {
    const seed = freshSeed();
    const { x } = kmeansData({ N: 200, D: 5, K: 4 }, seed);
    const a = kmeansPlusPlusInit(x, 200, 5, 4, seed);
    expect(kmeansPlusPlusInit(x, 200, 5, 4, seed)).toEqual(a);
    const r = kmeansRandomInit(x, 200, 5, 4, seed);
    for (const cents of [a, r]) {
      for (let k = 0; k < 4; k++) {
        const row = Array.from(cents.slice(k * 5, k * 5 + 5));
        const found = Array.from({ length: 200 }, (_, i) => Array.from(x.slice(i * 5, i * 5 + 5))).some((p) => p.every((v, d) => v === row[d]));
        expect(found, `centroid ${k} is a data point, seed ${seed}`).toBe(true);
      }
    }
  });
});

describe('k-means bad input', () => {
  it('names the tensor and shape when D differs or the assignment does not match', async () => {
    const gpu = await testGpu();
    const x = gpu.tensor([10, 4], 'f32', undefined, 'features');
    const c = gpu.tensor([3, 5], 'f32', undefined, 'codebook');
    expect(() => gpu.run((enc) => kmeansAssign(enc, x, c))).toThrow(ShapeError);
    expect(() => gpu.run((enc) => kmeansAssign(enc, x, c))).toThrow(/codebook\[3, 5\] have D=5 but x features\[10, 4\] has D=4/);
    const c4 = gpu.tensor([3, 4], 'f32', undefined, 'codebook');
    const a = gpu.tensor([9], 'u32', undefined, 'labels');
    expect(() => gpu.run((enc) => kmeansUpdate(enc, x, a, c4))).toThrow(/labels\[9\]:u32 must hold N=10/);
    expect(() => gpu.run((enc) => kmeansUpdate(enc, x, gpu.tensor([10], 'u32'), c4, c4))).toThrow(/separate/);
  });
});
