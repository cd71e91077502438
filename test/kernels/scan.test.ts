import { describe, expect, it } from 'vitest';
import { LabError, ShapeError, TooLargeError } from '../../src/gpu/errors.ts';
import { releaseAll } from '../../src/gpu/tensor.ts';
import {
  describeScan,
  randomScanData,
  scanBackwardErrors,
  scanForwardErrors,
  scanStreamErrors,
  SCAN_BACKWARD_TOLERANCE,
  SCAN_FORWARD_TOLERANCE,
  uploadScan,
  type ScanCase,
} from '../../src/kernels/checks/scan.ts';
import { freshSeed, randomNormal, seeded } from '../../src/kernels/random.ts';
import { scanBackwardRef, scanForwardRef, type ScanData, type ScanShape } from '../../src/kernels/reference/scan.ts';
import { assertScanFinite, scanBackward, scanForward, scanStep } from '../../src/kernels/scan.ts';
import { testGpu } from '../gpu.ts';

const FORWARD_SHAPES: ScanCase[] = [
  { b: 1, l: 1, d: 1, n: 1, chunk: 1 },
  { b: 1, l: 1, d: 3, n: 16, chunk: 64, z: true, h0: true },
  { b: 2, l: 37, d: 19, n: 5, chunk: 8, z: true, h0: true },
  { b: 1, l: 130, d: 70, n: 24, chunk: 17, z: true },
  { b: 3, l: 50, d: 65, n: 16, chunk: 64 },
  { b: 1, l: 1500, d: 40, n: 24, chunk: 64, z: true, h0: true },
  // n > 24: the sequential form's block-by-block kernel (scan_seq) rather than the fused one
  { b: 2, l: 45, d: 9, n: 33, chunk: 16, z: true, h0: true },
];

describe('scan forward against its CPU twin', () => {
  for (const form of ['sequential', 'chunked'] as const)
    for (const c of FORWARD_SHAPES) {
      it(`${form} ${describeScan(c)}`, async () => {
        const gpu = await testGpu();
        const seed = freshSeed();
        const errs = await scanForwardErrors(gpu, { ...c, form }, seed);
        for (const [k, e] of Object.entries(errs)) expect(e, `${k}, seed ${seed}`).toBeLessThan(SCAN_FORWARD_TOLERANCE);
      });
    }
});

/** sum(w * out) of the twin, for finite differences. */
function loss(x: ScanData, s: ScanShape, w: ArrayLike<number>): number {
  const { out } = scanForwardRef(x, s);
  let acc = 0;
  for (let i = 0; i < out.length; i++) acc += out[i] * w[i];
  return acc;
}

describe('scan twin backward against central finite differences of the twin forward (float64)', () => {
  for (const opts of [{ z: true, h0: true }, { z: false, h0: false }]) {
    it(`b2 l6 d3 n4${opts.z ? ' z' : ''}${opts.h0 ? ' h0' : ''}`, () => {
      const s = { b: 2, l: 6, d: 3, n: 4 };
      const seed = freshSeed();
      const f = randomScanData(s, seed, opts);
      const x: Record<string, Float64Array> = {};
      for (const [k, v] of Object.entries(f)) if (v) x[k] = Float64Array.from(v as Float32Array);
      const data = x as unknown as ScanData;
      const w = Float64Array.from(randomNormal(s.b * s.l * s.d, seeded(seed + 1)));
      const g = scanBackwardRef(data, s, w);
      const pairs: [string, Float64Array][] = [
        ['u', g.du],
        ['dt', g.ddt],
        ['dtBias', g.dDtBias],
        ['aLog', g.dALog],
        ['B', g.dB],
        ['C', g.dC],
        ['D', g.dD],
        ['h0', g.dh0],
      ];
      if (opts.z) pairs.push(['z', g.dz!]);
      const eps = 1e-6;
      let checked = 0;
      for (const [name, grad] of pairs) {
        const v = x[name];
        if (!v) continue;
        for (let i = 0; i < v.length; i++) {
          const save = v[i];
          v[i] = save + eps;
          const up = loss(data, s, w);
          v[i] = save - eps;
          const down = loss(data, s, w);
          v[i] = save;
          const fd = (up - down) / (2 * eps);
          expect(Math.abs(grad[i] - fd), `d${name}[${i}] = ${grad[i]}, finite difference ${fd}, seed ${seed}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(150);
    });
  }
});

const BACKWARD_SHAPES: ScanCase[] = [
  { b: 1, l: 1, d: 1, n: 1, chunk: 1 },
  { b: 2, l: 23, d: 35, n: 7, chunk: 6, z: true, h0: true },
  { b: 1, l: 200, d: 40, n: 24, chunk: 64, form: 'sequential' },
  { b: 2, l: 70, d: 33, n: 16, chunk: 9, z: true },
  { b: 1, l: 600, d: 64, n: 24, chunk: 64, z: true, h0: true },
];

describe('scan backward on the GPU against the twin backward', () => {
  for (const c of BACKWARD_SHAPES) {
    it(describeScan(c), async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      const errs = await scanBackwardErrors(gpu, c, seed);
      expect(Object.keys(errs).length).toBeGreaterThanOrEqual(8);
      for (const [k, e] of Object.entries(errs)) expect(e, `${k}, seed ${seed}`).toBeLessThan(SCAN_BACKWARD_TOLERANCE);
    });
  }
});

describe('scan streaming step', () => {
  // n = 24 (blocks of 4 states full) with the gate; n = 7 (a part block) without, over two workgroups of channels.
  const cases: [ScanCase, number[][]][] = [
    [{ b: 2, l: 41, d: 13, n: 24, chunk: 41, z: true, h0: true }, [[1], [3, 7, 2, 16], [5], [41]]],
    [{ b: 3, l: 19, d: 67, n: 7, chunk: 19, h0: true }, [[2, 9]]],
  ];
  for (const [c, all] of cases) {
    for (const pieces of all) {
      it(`${describeScan(c)}: pieces ${pieces.join(',')} equal the full forward`, async () => {
        const gpu = await testGpu();
        const seed = freshSeed();
        const errs = await scanStreamErrors(gpu, c, pieces, seed);
        for (const [k, e] of Object.entries(errs)) expect(e, `${k}, seed ${seed}`).toBeLessThan(SCAN_FORWARD_TOLERANCE);
      });
    }
  }

  it('is one dispatch (a chunk of the stream pays no pack)', async () => {
    const gpu = await testGpu();
    const s = { b: 1, l: 8, d: 20, n: 16 };
    const x = uploadScan(gpu, randomScanData(s, 3, { z: true }), s);
    const h = gpu.zeros([1, 20, 16], 'f32', 'h');
    const before = gpu.counters.dispatches;
    const y = gpu.run((enc) => scanStep(enc, x, h));
    expect(gpu.counters.dispatches - before).toBe(1);
    releaseAll(x, h, y);
  });

  it('a chunked forward from a carried state continues a sequential one', async () => {
    const gpu = await testGpu();
    const seed = freshSeed();
    const s = { b: 1, l: 30, d: 9, n: 16 };
    const x = randomScanData(s, seed, { z: true });
    const first = uploadScan(gpu, { ...x, u: x.u.slice(0, 12 * 9), dt: x.dt.slice(0, 12 * 9), z: x.z!.slice(0, 12 * 9), B: x.B.slice(0, 12 * 16), C: x.C.slice(0, 12 * 16) }, { ...s, l: 12 });
    const rest = uploadScan(gpu, { ...x, u: x.u.slice(12 * 9), dt: x.dt.slice(12 * 9), z: x.z!.slice(12 * 9), B: x.B.slice(12 * 16), C: x.C.slice(12 * 16) }, { ...s, l: 18 });
    const [a, b] = gpu.run((enc) => {
      const a = scanForward(enc, first, { form: 'sequential', chunk: 5 });
      return [a, scanForward(enc, rest, { form: 'chunked', chunk: 4, h0: a.hT })] as const;
    });
    const got = new Float32Array([...(await a.out.read()), ...(await b.out.read())]);
    const want = scanForwardRef(x, s);
    const { maxRelError } = await import('../../src/kernels/compare.ts');
    expect(maxRelError(got, want.out), `seed ${seed}`).toBeLessThan(SCAN_FORWARD_TOLERANCE);
    expect(maxRelError(await b.hT.read(), want.hT), `seed ${seed}`).toBeLessThan(SCAN_FORWARD_TOLERANCE);
    releaseAll(first, rest, a, b);
  });
});

describe('scan bad input', () => {
  const s = { b: 2, l: 5, d: 3, n: 4 };

  it('names the tensor and its shape when shapes disagree', async () => {
    const gpu = await testGpu();
    const x = uploadScan(gpu, randomScanData(s, 1, { z: true }), s);
    const badDt = gpu.tensor([2, 5, 4], 'f32', undefined, 'dt');
    expect(() => gpu.run((enc) => scanForward(enc, { ...x, dt: badDt }))).toThrow(ShapeError);
    expect(() => gpu.run((enc) => scanForward(enc, { ...x, dt: badDt }))).toThrow(/dt dt\[2, 5, 4\] should be \[2, 5, 3\]/);
    const badB = gpu.tensor([2, 5, 5], 'f32', undefined, 'B_proj');
    expect(() => gpu.run((enc) => scanForward(enc, { ...x, B: badB }))).toThrow(/B B_proj\[2, 5, 5\] should be \[2, 5, 4\]/);
    const badZ = gpu.tensor([2, 4, 3], 'f32', undefined, 'gate');
    expect(() => gpu.run((enc) => scanForward(enc, { ...x, z: badZ }))).toThrow(/z gate\[2, 4, 3\] should be \[2, 5, 3\]/);
    const badH = gpu.tensor([2, 4, 3], 'f32', undefined, 'state');
    expect(() => gpu.run((enc) => scanStep(enc, x, badH))).toThrow(/h0 state\[2, 4, 3\] should be \[2, 3, 4\]/);
    const bigA = gpu.tensor([3, 65], 'f32', undefined, 'A_log');
    expect(() => gpu.run((enc) => scanForward(enc, { ...x, aLog: bigA }))).toThrow(/A_log\[3, 65\]: n=65 must be 1..64/);
    const f = gpu.run((enc) => scanForward(enc, x, { chunk: 2 }));
    const dout = gpu.tensor([2, 5, 3], 'f32', undefined, 'dout');
    const wrongDout = gpu.tensor([2, 3, 5], 'f32', undefined, 'grad_out');
    expect(() => gpu.run((enc) => scanBackward(enc, x, f, wrongDout))).toThrow(/dout grad_out\[2, 3, 5\] should be \[2, 5, 3\]/);
    expect(() => gpu.run((enc) => scanBackward(enc, x, { ...f, chunk: 4 }, dout))).toThrow(/states scan.states\[2, 3, 3, 4\] should be \[2, 3, 2, 4\]/);
    releaseAll(x, badDt, badB, badZ, badH, bigA, f, dout, wrongDout);
  });

  it('flags a NaN in dt instead of returning a silent wrong answer (both forms); the step passes it on to its outputs', async () => {
    const gpu = await testGpu();
    const data = randomScanData(s, 2, { z: true });
    const good = uploadScan(gpu, data, s);
    for (const form of ['sequential', 'chunked'] as const) {
      const ok = gpu.run((enc) => scanForward(enc, good, { form, chunk: 2 }));
      await expect(assertScanFinite(ok)).resolves.toBeUndefined();
      releaseAll(ok);
    }
    const dt = Float32Array.from(data.dt);
    dt[17] = NaN;
    const bad = { ...good, dt: gpu.tensor([2, 5, 3], 'f32', dt, 'dt') };
    for (const form of ['sequential', 'chunked'] as const) {
      const r = gpu.run((enc) => scanForward(enc, bad, { form, chunk: 2 }));
      await expect(assertScanFinite(r)).rejects.toThrow(LabError);
      await expect(assertScanFinite(r)).rejects.toThrow(/NaN or Inf/);
      releaseAll(r);
    }
    // dt[17] is (b 1, t 0, channel 2): that channel's outputs from t 0 on and its state are NaN, the rest finite.
    const h = gpu.zeros([2, 3, 4], 'f32', 'h');
    const st = gpu.run((enc) => scanStep(enc, bad, h));
    const y = await st.read();
    const nanAt = [...y.keys()].filter((i) => Number.isNaN(y[i]));
    expect(nanAt).toEqual([17, 20, 23, 26, 29]);
    expect([...(await h.read())].map(Number.isNaN)).toEqual([...Array(24)].map((_, i) => i >= 20));
    releaseAll(good, bad.dt, h, st);
  });

  it('refuses a length whose buffers exceed the device limit with TooLargeError', async () => {
    const gpu = await testGpu();
    // B and C fit the limit but the packed copy of both (b * l * 2n floats) does not.
    const n = 64;
    const l = Math.floor(gpu.maxBindingBytes / 4 / (2 * n)) + 1;
    const sh = { b: 1, l, d: 1, n };
    const x = {
      u: gpu.tensor([1, l, 1], 'f32', undefined, 'u'),
      dt: gpu.tensor([1, l, 1], 'f32', undefined, 'dt'),
      dtBias: gpu.tensor([1], 'f32', undefined, 'dt_bias'),
      aLog: gpu.tensor([1, n], 'f32', undefined, 'A_log'),
      B: gpu.tensor([1, l, n], 'f32', undefined, 'B'),
      C: gpu.tensor([1, l, n], 'f32', undefined, 'C'),
      D: gpu.tensor([1], 'f32', undefined, 'D'),
    };
    expect(sh.l * n * 4).toBeLessThan(gpu.maxBindingBytes);
    expect(() => gpu.run((enc) => scanForward(enc, x, { chunk: 4096 }))).toThrow(TooLargeError);
    expect(() => gpu.run((enc) => scanForward(enc, x, { chunk: 4096 }))).toThrow(/scan.packed .* needs .* at most/);
    releaseAll(x);
  });
});
